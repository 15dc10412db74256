package testbed

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
)

// Problem is one thing the oracle found wrong. Contact and Edit name what it is about, where that applies.
type Problem struct {
	// Check is the check that failed: "convergence", "duplicate", "lost-edit", "lost-contact",
	// "deleted-contact-back", "unknown-contact", "unreadable", "worker".
	Check   string `json:"check"`
	Contact string `json:"contact,omitempty"`
	Edit    string `json:"edit,omitempty"`
	Device  string `json:"device,omitempty"`
	Detail  string `json:"detail"`
}

func (p Problem) String() string {
	s := p.Check
	if p.Contact != "" {
		s += " contact " + p.Contact
	}
	if p.Device != "" {
		s += " on " + p.Device
	}
	if p.Edit != "" {
		s += " edit " + p.Edit
	}
	return s + ": " + p.Detail
}

// ledger records every acknowledged edit. It is safe for concurrent use.
type ledger struct {
	mu    sync.Mutex
	edits []Edit
}

func (l *ledger) record(e Edit) {
	l.mu.Lock()
	l.edits = append(l.edits, e)
	l.mu.Unlock()
}

func (l *ledger) all() []Edit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.edits)
}

// state is what one place — the server or a device — holds, by UID.
type state struct {
	name  string
	cards map[string]*vcard.Card
	// hrefs lists, on the server, the members holding each UID.
	hrefs map[string][]string
}

func newState(name string) *state {
	return &state{name: name, cards: map[string]*vcard.Card{}, hrefs: map[string][]string{}}
}

// props is a card's properties in canonical form, sorted: two cards with the same props hold the same
// contact, whatever their folding, line endings, parameter spelling or property order.
func props(c *vcard.Card) []string {
	out := make([]string, 0, len(c.Props))
	for _, p := range c.Props {
		out = append(out, p.Canonical())
	}
	slices.Sort(out)
	return out
}

// diff compares a device with the server, contact by contact and property by property; it returns at most
// limit problems.
func diff(server, dev *state, limit int) []Problem {
	var out []Problem
	add := func(uid, detail string) bool {
		out = append(out, Problem{Check: "convergence", Contact: uid, Device: dev.name, Detail: detail})
		return len(out) < limit
	}
	for _, uid := range unionKeys(server.cards, dev.cards) {
		s, d := server.cards[uid], dev.cards[uid]
		var ok bool
		switch {
		case s == nil:
			ok = add(uid, "on the device, not on the server")
		case d == nil:
			ok = add(uid, "on the server, not on the device")
		default:
			sp, dp := props(s), props(d)
			if slices.Equal(sp, dp) {
				continue
			}
			onlyS, onlyD := minus(sp, dp), minus(dp, sp)
			ok = add(uid, fmt.Sprintf("properties differ: server only %q, device only %q", onlyS, onlyD))
		}
		if !ok {
			break
		}
	}
	return out
}

// minus returns the items of a (sorted) not matched by an item of b (sorted), as multisets.
func minus(a, b []string) []string {
	var out []string
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			j++
			continue
		}
		out = append(out, x)
	}
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// duplicates finds a UID held by several members, and a creation whose token shows up in several contacts.
func duplicates(server *state, edits []Edit) []Problem {
	var out []Problem
	for _, uid := range sortedKeys(server.hrefs) {
		if hs := server.hrefs[uid]; len(hs) > 1 {
			out = append(out, Problem{Check: "duplicate", Contact: uid, Detail: fmt.Sprintf("%d members hold this UID: %v", len(hs), hs)})
		}
	}
	holders := map[string][]string{} // creation token → UIDs whose history holds it
	for uid, c := range server.cards {
		for _, tok := range history(c) {
			holders[tok] = append(holders[tok], uid)
		}
	}
	for _, e := range edits {
		if e.Kind != Create && e.Kind != Import {
			continue
		}
		if uids := holders[e.Token]; len(uids) > 1 {
			slices.Sort(uids)
			out = append(out, Problem{Check: "duplicate", Contact: e.Contact, Edit: e.String(),
				Detail: fmt.Sprintf("one creation, %d contacts: %v", len(uids), uids)})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkEdits holds the converged server state against every acknowledged edit and the merge rules: a
// contact is gone only if a delete saw every other edit of it (edit beats delete); a present contact carries
// every edit no delete saw; a value set is there unless a later edit that saw it replaced it or a merge
// recorded it as a conflict's loser; a value added is there unless removed, a value removed is gone, except
// where a conflict records the merge's decision.
func checkEdits(server *state, edits []Edit, conflicts map[string][]changelog.Conflict) []Problem {
	byContact := map[string][]Edit{}
	for _, e := range edits {
		byContact[e.Contact] = append(byContact[e.Contact], e)
	}
	var out []Problem
	for _, uid := range sortedKeys(server.cards) {
		if _, ok := byContact[uid]; !ok {
			out = append(out, Problem{Check: "unknown-contact", Contact: uid, Detail: "on the server, but no edit created it"})
		}
	}
	for _, uid := range sortedKeys(byContact) {
		out = append(out, checkContact(uid, byContact[uid], server.cards[uid], conflicts[uid])...)
	}
	return out
}

func checkContact(uid string, edits []Edit, final *vcard.Card, conflicts []changelog.Conflict) []Problem {
	var deletes, others []Edit
	for _, e := range edits {
		if e.Kind == Delete {
			deletes = append(deletes, e)
		} else {
			others = append(others, e)
		}
	}
	// seenByDelete reports a delete that saw e (and so may have taken it away).
	seenByDelete := func(e Edit) (Edit, bool) {
		for _, d := range deletes {
			if slices.Contains(d.seen, e.Token) {
				return d, true
			}
		}
		return Edit{}, false
	}
	var complete *Edit // a delete that saw every other edit
	for i, d := range deletes {
		if slices.ContainsFunc(others, func(e Edit) bool { return !slices.Contains(d.seen, e.Token) }) {
			continue
		}
		complete = &deletes[i]
		break
	}
	problem := func(check string, e Edit, format string, a ...any) Problem {
		return Problem{Check: check, Contact: uid, Edit: e.String(), Device: e.Device, Detail: fmt.Sprintf(format, a...)}
	}
	switch {
	case final == nil && complete != nil:
		return nil
	case final == nil:
		for _, e := range others {
			if _, ok := seenByDelete(e); !ok {
				return []Problem{problem("lost-contact", e, "the contact is gone from the server, but no delete saw this edit (an edit beats a delete)")}
			}
		}
		return []Problem{problem("lost-contact", others[0], "the contact is gone from the server")}
	case complete != nil:
		return []Problem{problem("deleted-contact-back", *complete, "this delete saw every edit of the contact, yet the server holds it")}
	}
	hist := history(final)
	var out []Problem
	for _, e := range others {
		if !slices.Contains(hist, e.Token) {
			if _, ok := seenByDelete(e); ok {
				continue // deleted on a device that had it; another edit brought back a version without it
			}
			out = append(out, problem("lost-edit", e, "the contact on the server does not descend from this edit (its token is not in %s)", historyProp))
			continue
		}
		if detail := effectMissing(e, edits, final, conflicts); detail != "" {
			out = append(out, problem("lost-edit", e, "%s", detail))
		}
	}
	return out
}

// effectMissing says how the final card fails to show an edit it descends from, or "" when it shows it or
// the rules explain why not.
func effectMissing(e Edit, edits []Edit, final *vcard.Card, conflicts []changelog.Conflict) string {
	inConflict := func(loserOnly bool) bool {
		for _, c := range conflicts {
			if strings.Contains(c.Loser, e.Value) || (!loserOnly && strings.Contains(c.Winner, e.Value)) {
				return true
			}
		}
		return false
	}
	switch e.Kind {
	case Set:
		got := ""
		if p := final.Get(e.Property); p != nil {
			got = p.Text()
		}
		if got == e.Value {
			return ""
		}
		for _, later := range edits {
			if later.Kind == Set && later.Property == e.Property && slices.Contains(later.seen, e.Token) {
				return "" // replaced by an edit made after this one was seen
			}
		}
		if inConflict(true) {
			return ""
		}
		return fmt.Sprintf("%s is %q: no later edit replaced %q and no conflict records it", e.Property, got, e.Value)
	case Add, Remove:
		want := e.Kind == Add
		if want && slices.ContainsFunc(edits, func(r Edit) bool {
			return r.Kind == Remove && r.Property == e.Property && r.Value == e.Value
		}) {
			want = false
		}
		if slices.Contains(values(final, e.Property), e.Value) == want || inConflict(false) {
			return ""
		}
		if want {
			return fmt.Sprintf("%s %q is missing and no edit removed it", e.Property, e.Value)
		}
		return fmt.Sprintf("%s %q is still there although an edit removed it", e.Property, e.Value)
	}
	return ""
}

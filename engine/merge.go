package engine

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/conflict"
)

// MergeFunc merges two concurrent versions of one contact's vCard against their common base: base is the
// version both sides last agreed on, nil when there is none (a device and a server that both hold the UID
// before their first sync). It must be deterministic — the same three inputs give the same bytes on every
// device — and keep every property it does not understand. The default is Merge (package conflict).
type MergeFunc func(base, local, remote []byte) (Merged, error)

// Merged is the result of a MergeFunc.
type Merged struct {
	// Data is the merged vCard.
	Data []byte
	// Conflicts lists the decisions taken between concurrent changes (see ConflictRecord); the engine records
	// them in the store, filling in ContactID and Remote.
	Conflicts []changelog.Conflict
}

// errUnmergeable marks versions that cannot be merged (not one readable card each, different UIDs): the
// item is set aside rather than stopping the sync.
var errUnmergeable = errors.New("cannot merge")

// Merge is the default MergeFunc: package conflict's field-level three-way merge on the parsed cards.
func Merge(base, local, remote []byte) (Merged, error) {
	var cards [3]*vcard.Card
	for i, data := range [][]byte{base, local, remote} {
		if data == nil {
			continue
		}
		cs, err := vcard.Parse(data)
		if err != nil || len(cs) != 1 {
			return Merged{}, fmt.Errorf("%w: version %d is not one readable vCard", errUnmergeable, i)
		}
		cards[i] = cs[0]
	}
	res, err := conflict.Merge(cards[0], cards[1], cards[2])
	if err != nil {
		return Merged{}, fmt.Errorf("%w: %w", errUnmergeable, err)
	}
	if res.Card == nil {
		return Merged{}, fmt.Errorf("%w: the merge deleted the contact", errUnmergeable)
	}
	out := Merged{Data: res.Card.Bytes()}
	for _, d := range res.Conflicts {
		out.Conflicts = append(out.Conflicts, ConflictRecord(d))
	}
	return out, nil
}

// ConflictRecord is the store's record of a merge decision. Remote, and the store's own fields (Recorded, the
// resolution), are left for whoever records it.
func ConflictRecord(d conflict.Decision) changelog.Conflict {
	return changelog.Conflict{ID: d.ID, ContactID: d.UID, Property: d.Property, Group: d.Group, Kind: string(d.Kind),
		Winner: d.Winner, Loser: d.Loser, Side: string(d.Side), At: d.At}
}

// ConflictDecision is the merge decision a recorded conflict holds, as conflict.Resolve takes it back.
func ConflictDecision(c changelog.Conflict) conflict.Decision {
	return conflict.Decision{ID: c.ID, UID: c.ContactID, Property: c.Property, Group: c.Group,
		Kind: conflict.Kind(c.Kind), Winner: c.Winner, Loser: c.Loser, Side: conflict.Side(c.Side), At: c.At}
}

// merge short-cuts the cases that need no three-way merge, so the MergeFunc only sees real concurrent edits.
// It compares contents, not bytes: a server's re-serialization of a version is no edit.
func (s *Syncer) merge(base, local, remote []byte) (Merged, error) {
	switch {
	case sameContent(local, remote):
		return Merged{Data: remote}, nil
	case base != nil && sameContent(base, local):
		return Merged{Data: remote}, nil
	case base != nil && sameContent(base, remote):
		return Merged{Data: local}, nil
	}
	return s.cfg.merge(base, local, remote)
}

// sameContent reports whether two versions hold the same properties, whatever their order and spelling: a
// server may re-serialize what it stores (Radicale sorts the properties and upper-cases their names), so the
// device's own upload can come back in other bytes and must still be recognised as its own. Property order
// carries no meaning in a vCard (RFC 6350 section 3.3; preference is the PREF parameter).
func sameContent(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ka, err := vcard.Content(a)
	if err != nil {
		return false
	}
	kb, err := vcard.Content(b)
	return err == nil && slices.Equal(ka, kb)
}

// rewrittenOnly reports whether stored differs from sent only as a server's rewriting of it does: the same
// content (sameContent) once trailing empty components of structured values are dropped ("ORG:Umbrella
// Ltd;Legal;;" stored as "ORG:Umbrella Ltd;Legal", as Radicale 3.1.8 does). An empty trailing component carries
// no data (RFC 6350 section 3.3's components are positional, and nothing follows them).
func rewrittenOnly(sent, stored []byte) bool {
	if sameContent(sent, stored) {
		return true
	}
	a, err := vcard.Content(sent)
	if err != nil {
		return false
	}
	b, err := vcard.Content(stored)
	if err != nil || len(a) != len(b) {
		return false
	}
	for i := range a {
		a[i] = trimEmptyComponents(a[i])
	}
	for i := range b {
		b[i] = trimEmptyComponents(b[i])
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// trimEmptyComponents drops the unescaped ';' that end a canonical property line.
func trimEmptyComponents(line string) string {
	for strings.HasSuffix(line, ";") {
		n := len(line) - 1
		bs := 0
		for i := n - 1; i >= 0 && line[i] == '\\'; i-- {
			bs++
		}
		if bs%2 == 1 {
			break // an escaped semicolon is data
		}
		line = line[:n]
	}
	return line
}

// commonPart is what two versions of a new contact share: mine without the properties theirs lacks. It is the
// merge base when the server holds another version at the href of a create the device sent: either the create
// landed and another client edited it since, or another device created the same UID. Taking what both hold as
// agreed keeps every property either side has except those one side removed from the shared part — so the
// device's own removals since its upload hold, where a merge without base would bring them back — and loses
// nothing in the second case. nil when either is not one readable card.
func commonPart(mine, theirs []byte) []byte {
	mc, err := vcard.Parse(mine)
	if err != nil || len(mc) != 1 {
		return nil
	}
	tc, err := vcard.Content(theirs)
	if err != nil {
		return nil
	}
	left := make(map[string]int, len(tc))
	for _, k := range tc {
		left[k]++
	}
	card := mc[0].Clone()
	for _, p := range slices.Clone(card.Props) {
		k := p.Canonical()
		if left[k] > 0 {
			left[k]--
			continue
		}
		card.Remove(p)
	}
	return card.Bytes()
}

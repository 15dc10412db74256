package testbed

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
)

// Kind is the kind of an edit.
type Kind string

// Edit kinds.
const (
	// Create adds a new contact on a device (or, for the initial contacts, on the server).
	Create Kind = "create"
	// Import adds several new contacts in one transaction, as a .vcf import does.
	Import Kind = "import"
	// Set changes a single-valued property (FN, NOTE, TITLE).
	Set Kind = "set"
	// Add adds an instance of a multi-valued property (EMAIL, URL) or an item of CATEGORIES.
	Add Kind = "add"
	// Remove removes an instance of a multi-valued property or an item of CATEGORIES.
	Remove Kind = "remove"
	// Delete deletes the contact.
	Delete Kind = "delete"
)

// historyProp carries the tokens of the edits a card descends from.
const historyProp = "X-TESTBED-EDIT"

// Edit is one acknowledged edit: the store committed it on a device (or the server stored it).
type Edit struct {
	// Token names the edit uniquely in the run, e.g. "s7d02e00013" (seed 7, device 2, 13th edit).
	Token string `json:"token"`
	// Device is the device that made it ("server" for the initial contacts).
	Device string `json:"device"`
	// Contact is the contact's UID.
	Contact string `json:"contact"`
	Kind    Kind   `json:"kind"`
	// Property and Value say what Set, Add and Remove changed (Value is the value set, added or removed).
	Property string `json:"property,omitempty"`
	Value    string `json:"value,omitempty"`
	// Concurrent marks an edit made on several devices at the same instant.
	Concurrent bool `json:"concurrent,omitempty"`
	// seen is the history of the card the edit was made on.
	seen []string
	At   time.Time `json:"at"`
}

func (e Edit) String() string {
	s := fmt.Sprintf("%s (%s %s on %s", e.Token, e.Kind, e.Contact, e.Device)
	if e.Property != "" {
		s += fmt.Sprintf(", %s %q", e.Property, e.Value)
	}
	return s + ")"
}

// history returns the edit tokens a card carries.
func history(c *vcard.Card) []string {
	var out []string
	for _, p := range c.All(historyProp) {
		out = append(out, p.Text())
	}
	slices.Sort(out)
	return out
}

func token(seed uint64, device, n int) string { return fmt.Sprintf("s%dd%02de%05d", seed, device, n) }

// initialToken names the creation of the i-th initial contact.
func initialToken(seed uint64, i int) string { return fmt.Sprintf("s%di%05d", seed, i) }

// stamp records an edit in a card: its token joins the history and REV takes the edit's time, as a real
// client sets it (RFC 6350 section 6.7.4).
func stamp(c *vcard.Card, tok string, at time.Time) {
	c.Add(vcard.NewProperty("", historyProp, tok))
	c.Set("REV", at.UTC().Format("20060102T150405Z"))
}

// singleProps are the single-valued properties edits set; multiProps the multi-valued ones they add to and
// remove from (CATEGORIES item by item).
var (
	singleProps = []string{"FN", "NOTE", "TITLE"}
	multiProps  = []string{"EMAIL", "URL", "CATEGORIES"}
)

// setValue is the value a Set edit gives a property.
func setValue(prop, tok string) string { return strings.ToLower(prop) + " " + tok }

// addValue is the value an Add edit adds.
func addValue(prop, tok string) string {
	switch prop {
	case "EMAIL":
		return tok + "@tb.example"
	case "URL":
		return "https://tb.example/" + tok
	}
	return tok
}

// values returns the values of a multi-valued property (the items, for CATEGORIES), unescaped.
func values(c *vcard.Card, prop string) []string {
	var out []string
	for _, p := range c.All(prop) {
		if prop == "CATEGORIES" {
			out = append(out, p.List()...)
		} else {
			out = append(out, p.Text())
		}
	}
	return out
}

// applySet sets a single-valued property.
func applySet(c *vcard.Card, prop, value string) {
	c.Set(prop, escapeText(value))
}

// applyAdd adds a value to a multi-valued property.
func applyAdd(c *vcard.Card, prop, value string) {
	if prop == "CATEGORIES" {
		if p := c.Get("CATEGORIES"); p != nil {
			p.Value += "," + escapeText(value)
			return
		}
		c.Set("CATEGORIES", escapeText(value))
		return
	}
	var params []vcard.Param
	if prop == "EMAIL" {
		params = append(params, vcard.Param{Name: "TYPE", Values: []string{"INTERNET"}})
	}
	c.Add(vcard.NewProperty("", prop, escapeText(value), params...))
}

// applyRemove removes the pick-th value (modulo how many there are) of a multi-valued property and returns
// it; false when there is none.
func applyRemove(c *vcard.Card, prop string, pick uint64) (string, bool) {
	vals := values(c, prop)
	if len(vals) == 0 {
		return "", false
	}
	victim := vals[pick%uint64(len(vals))]
	for _, p := range c.All(prop) {
		if prop != "CATEGORIES" {
			if p.Text() == victim {
				c.Remove(p)
				return victim, true
			}
			continue
		}
		items := p.List()
		if i := slices.Index(items, victim); i >= 0 {
			items = slices.Delete(items, i, i+1)
			if len(items) == 0 {
				c.Remove(p)
			} else {
				esc := make([]string, len(items))
				for j, it := range items {
					esc[j] = escapeText(it)
				}
				p.Value = strings.Join(esc, ",")
			}
			return victim, true
		}
	}
	return "", false
}

var textEscaper = strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\n", `\n`)

// escapeText escapes a vCard text value (RFC 6350 section 3.4).
func escapeText(s string) string { return textEscaper.Replace(s) }

// newCardData is a new contact created by the edit tok: a realistic card (package bench) with the UID
// "tb-"+tok.
func newCardData(seed uint64, tok string, at time.Time) ([]byte, error) {
	h := fnv.New32a()
	h.Write([]byte(tok))
	cards, err := vcard.Parse(synthetic.Card(seed, int(h.Sum32()%1_000_000)))
	if err != nil || len(cards) != 1 {
		return nil, fmt.Errorf("testbed: generated card: %v", err)
	}
	c := cards[0]
	c.Set("UID", "tb-"+tok)
	stamp(c, tok, at)
	return c.Bytes(), nil
}

// applyEdit makes a field edit of the plan (set, add or remove) on a card, records its value in ed and stamps
// the card with the edit's token; a device store and the vdirsyncer vdir both edit through it. It returns
// errSkip when there is nothing to remove.
func applyEdit(card *vcard.Card, o op, ed *Edit, at time.Time) error {
	switch o.kind {
	case Set:
		ed.Value = setValue(o.prop, o.tok)
		applySet(card, o.prop, ed.Value)
	case Add:
		ed.Value = addValue(o.prop, o.tok)
		applyAdd(card, o.prop, ed.Value)
	case Remove:
		v, ok := applyRemove(card, o.prop, o.pick)
		if !ok {
			return errSkip
		}
		ed.Value = v
	}
	stamp(card, o.tok, at)
	return nil
}

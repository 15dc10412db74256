package vcard

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/contactsync/contactsync/changelog/contact"
)

// corpusCards parses every corpus file and returns its readable cards,
// named "file#n".
func corpusCards(t *testing.T) (names []string, cards []*Card) {
	files := corpusFiles(t)
	for _, path := range sortedKeys(files) {
		cs, _ := Parse(files[path]) // unreadable parts are TestConformanceCorpus's business
		for i, c := range cs {
			names = append(names, fmt.Sprintf("%s#%d", path, i+1))
			cards = append(cards, c)
		}
	}
	return names, cards
}

func TestRoundTripUnmodifiedContact(t *testing.T) {
	names, cards := corpusCards(t)
	for i, c := range cards {
		before := c.Bytes()
		ct, err := ToContact(c)
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		if ct.VCard != string(before) {
			t.Errorf("%s: contact.VCard is not the card's bytes", names[i])
		}
		d := c.Clone()
		if err := Apply(d, ct); err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		if d.Modified() {
			t.Errorf("%s: applying the unchanged contact modified the card", names[i])
		}
		if after := d.Bytes(); !bytes.Equal(after, before) {
			t.Errorf("%s: round trip changed the card:\n%s", names[i], lineDiff(before, after))
		}
	}
	t.Logf("%d cards round-tripped through contact", len(cards))
}

// An edit of one field must change only the lines of one property.
func TestEditTouchesOnlyThatProperty(t *testing.T) {
	edits := []struct {
		name   string
		adds   bool
		apply  func(ct *contact.MozContact) bool // false: the card has no such field
		target func(c *Card) *Property           // the property that may change, in the edited card
	}{
		{"first TEL", false,
			func(ct *contact.MozContact) bool {
				if len(ct.Tel) == 0 {
					return false
				}
				ct.Tel[0].Value = "+1 555 0199"
				return true
			},
			func(c *Card) *Property { return c.All("TEL")[0] }},
		{"first NOTE", false,
			func(ct *contact.MozContact) bool {
				if len(ct.Note) == 0 {
					return false
				}
				ct.Note[0] = "Changed, on the device; with a\nnew line"
				return true
			},
			func(c *Card) *Property { return c.All("NOTE")[0] }},
		{"add EMAIL", true,
			func(ct *contact.MozContact) bool {
				ct.Email = append(ct.Email, contact.Field{Type: []string{"work"}, Value: "new@example.com"})
				return true
			},
			func(c *Card) *Property {
				for _, p := range c.All("EMAIL") {
					if p.Text() == "new@example.com" {
						return p
					}
				}
				return nil
			}},
	}
	names, cards := corpusCards(t)
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			n := 0
			for i, c := range cards {
				ct, err := ToContact(c)
				if err != nil {
					t.Fatal(err)
				}
				if !e.apply(ct) {
					continue
				}
				n++
				before := c.Bytes()
				var oldTarget *Property // an added property has none
				if !e.adds {
					oldTarget = e.target(c)
				}
				after, reparsed, _ := applyAndReadBack(t, names[i], c, ct)
				if reparsed == nil {
					continue
				}
				newTarget := e.target(reparsed)
				if newTarget == nil {
					t.Errorf("%s: edited property not found:\n%s", names[i], after)
					continue
				}
				del, ins := diffLines(before, after)
				oldLines := propLines(c, oldTarget)
				newLines := propLines(reparsed, newTarget)
				for _, l := range del {
					if !slices.Contains(oldLines, l) {
						t.Errorf("%s: line %d removed outside the edited property:\n%s", names[i], l+1, lineDiff(before, after))
						break
					}
				}
				for _, l := range ins {
					if !slices.Contains(newLines, l) {
						t.Errorf("%s: line %d added outside the edited property:\n%s", names[i], l+1, lineDiff(before, after))
						break
					}
				}
			}
			t.Logf("%d cards edited", n)
			if n == 0 {
				t.Error("no corpus card has the field")
			}
		})
	}
}

// applyAndReadBack applies ct to a copy of c and reads the result back:
// it must be one card that says what ct says. back is nil when the result
// is not one card; ok is false when anything is wrong.
func applyAndReadBack(t *testing.T, name string, c *Card, ct *contact.MozContact) (out []byte, back *Card, ok bool) {
	t.Helper()
	d := c.Clone()
	if err := Apply(d, ct); err != nil {
		t.Fatal(err)
	}
	out = d.Bytes()
	cards, err := Parse(out)
	if err != nil || len(cards) != 1 {
		t.Errorf("%s: edited card does not read back as one card (%v):\n%q", name, err, out)
		return out, nil, false
	}
	got, err := ToContact(cards[0])
	if err != nil {
		t.Fatal(err)
	}
	if !got.EqualFields(ct) {
		t.Errorf("%s: edited card reads back differently:\n got %+v\nwant %+v\ncard:\n%s", name, got, ct, out)
		return out, cards[0], false
	}
	return out, cards[0], true
}

// propLines lists the indices of the physical lines of c.Bytes() that
// hold p (nil p: none).
func propLines(c *Card, p *Property) []int {
	if p == nil {
		return nil
	}
	off := len(c.begin)
	var start, end int
	for _, q := range c.Props {
		off += len(q.lead)
		n := len(q.appendTo(nil, c.version(), c.eol, false))
		if q == p {
			start, end = off, off+n
		}
		off += n
	}
	var out []int
	for i, l := range splitLines(c.Bytes()) {
		if l.start >= start && l.start < end {
			out = append(out, i)
		}
	}
	return out
}

// diffLines returns the indices of lines deleted from a and inserted in
// b, from a longest common subsequence of whole lines (endings included).
func diffLines(a, b []byte) (del, ins []int) {
	la, lb := lineTexts(a), lineTexts(b)
	// lcs[i][j]: LCS length of la[i:], lb[j:].
	lcs := make([][]int, len(la)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(lb)+1)
	}
	for i := len(la) - 1; i >= 0; i-- {
		for j := len(lb) - 1; j >= 0; j-- {
			if la[i] == lb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(la) && j < len(lb) {
		switch {
		case la[i] == lb[j]:
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			del = append(del, i)
			i++
		default:
			ins = append(ins, j)
			j++
		}
	}
	for ; i < len(la); i++ {
		del = append(del, i)
	}
	for ; j < len(lb); j++ {
		ins = append(ins, j)
	}
	return del, ins
}

func lineTexts(b []byte) []string {
	var out []string
	for _, l := range splitLines(b) {
		out = append(out, string(b[l.start:l.next]))
	}
	return out
}

// lineDiff shows a diff for failure messages.
func lineDiff(a, b []byte) string {
	del, ins := diffLines(a, b)
	la, lb := lineTexts(a), lineTexts(b)
	var sb bytes.Buffer
	for _, i := range del {
		fmt.Fprintf(&sb, "-%d %q\n", i+1, la[i])
	}
	for _, j := range ins {
		fmt.Fprintf(&sb, "+%d %q\n", j+1, lb[j])
	}
	return sb.String()
}

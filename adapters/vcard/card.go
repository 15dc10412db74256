package vcard

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Card is one vCard. Its original bytes are the source of truth: Bytes
// reproduces them exactly until a property is changed, and then rewrites
// only that property.
//
// Props holds every content line between BEGIN:VCARD and END:VCARD in
// order, VERSION included; BEGIN and END themselves are not properties.
// Blank lines, comment lines and nested cards inside the card are kept
// with the property that follows them.
type Card struct {
	Props []*Property
	// Line is the 1-based input line of BEGIN:VCARD, 0 for a new card.
	Line int
	// Nested holds cards written inside this one (vCard 2.1 AGENT-style
	// nesting). Their bytes stay part of this card's bytes.
	Nested []*Card

	src        []byte      // the card's bytes as parsed, BEGIN to END line ending
	begin, end []byte      // the BEGIN and END lines with their line endings
	tail       []byte      // filler between the last property and END
	eol        string      // line ending for lines written anew
	ver        string      // effective version for escaping ("2.1", "3.0", "4.0")
	parsed     []*Property // Props as parsed, to notice removals and moves
}

// NewCard returns a card created on the device: VERSION 3.0 or 4.0 (any
// other version gives 4.0), a
// random UUID as UID, CRLF line endings.
func NewCard(version string) *Card {
	return NewCardUID(version, uuid.NewString())
}

// NewCardUID is NewCard with a given UID, for callers that inject their
// source of randomness.
func NewCardUID(version, uid string) *Card {
	if version != "3.0" {
		version = "4.0"
	}
	c := &Card{begin: []byte("BEGIN:VCARD\r\n"), end: []byte("END:VCARD\r\n"), eol: "\r\n", ver: version}
	c.Add(NewProperty("", "VERSION", version))
	c.Add(NewProperty("", "UID", escapeText(uid, version)))
	return c
}

// Version returns the VERSION value ("2.1", "3.0", "4.0") or "" when the
// card has none.
func (c *Card) Version() string {
	if p := c.Get("VERSION"); p != nil {
		return strings.TrimSpace(p.Value)
	}
	return ""
}

// UID returns the unescaped UID, or "".
func (c *Card) UID() string {
	if p := c.Get("UID"); p != nil {
		return strings.TrimSpace(p.Text())
	}
	return ""
}

// Get returns the first property called name (any case), or nil.
func (c *Card) Get(name string) *Property {
	for _, p := range c.Props {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}

// All returns every property called name (any case), in order.
func (c *Card) All(name string) []*Property {
	var out []*Property
	for _, p := range c.Props {
		if strings.EqualFold(p.Name, name) {
			out = append(out, p)
		}
	}
	return out
}

// Add puts p after the last property with the same name, or at the end,
// so a new TEL lands among the other TELs.
func (c *Card) Add(p *Property) {
	at := len(c.Props)
	for i, q := range c.Props {
		if strings.EqualFold(q.Name, p.Name) {
			at = i + 1
		}
	}
	c.Insert(at, p)
}

// Insert puts p at index i of Props.
func (c *Card) Insert(i int, p *Property) {
	p.ver = c.version()
	c.Props = slices.Insert(c.Props, i, p)
}

// Set gives the first property called name the value v (vCard-escaped),
// keeping its group and parameters, or adds the property. It returns the
// property.
func (c *Card) Set(name, v string) *Property {
	if p := c.Get(name); p != nil {
		p.Value = v
		return p
	}
	p := NewProperty("", name, v)
	c.Add(p)
	return p
}

// Remove takes p out of the card; the blank lines or comments written
// before it stay where they were. It reports whether p was in the card.
func (c *Card) Remove(p *Property) bool {
	i := slices.Index(c.Props, p)
	if i < 0 {
		return false
	}
	if len(p.lead) > 0 {
		if i+1 < len(c.Props) {
			next := c.Props[i+1]
			next.lead = append(slices.Clip(slices.Clone(p.lead)), next.lead...)
		} else {
			c.tail = append(slices.Clone(p.lead), c.tail...)
		}
	}
	c.Props = slices.Delete(c.Props, i, i+1)
	return true
}

// RemoveAll removes every property called name and returns how many.
func (c *Card) RemoveAll(name string) int {
	n := 0
	for _, p := range c.All(name) {
		if c.Remove(p) {
			n++
		}
	}
	return n
}

// Modified reports whether Bytes would differ from the parsed bytes.
func (c *Card) Modified() bool {
	return c.parsed == nil || !slices.Equal(c.Props, c.parsed) || slices.ContainsFunc(c.Props, (*Property).modified)
}

// Bytes encodes the card. An unmodified card gives back exactly the bytes
// it was parsed from; in a modified one every untouched property keeps its
// original bytes (folding, line ending, parameters, group, order) and only
// new or changed properties are written afresh.
func (c *Card) Bytes() []byte {
	if !c.Modified() && c.src != nil {
		return bytes.Clone(c.src)
	}
	n := len(c.begin) + len(c.tail) + len(c.end)
	for _, p := range c.Props {
		n += len(p.lead) + len(p.raw)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, c.begin...)
	// The reader accepts a few lines only because of what precedes them:
	// an indented END:VCARD, BEGIN:VCARD or filler line after a line it
	// could not fold into ("N:x\n!stray\n END:VCARD"), a line after a
	// quoted-printable value that ends in a dangling soft break. Once an
	// edit puts another property before or after them they would fold into
	// it, so a modified card writes such indents flush and such values
	// afresh (same value, no dangling "=").
	for _, p := range c.Props {
		buf = append(buf, unindent(p.lead)...)
		buf = p.appendTo(buf, c.version(), c.eol, p.dangling)
	}
	buf = append(buf, unindent(c.tail)...)
	return append(buf, unindent(c.end)...)
}

// unindent drops the spaces and tabs that begin b.
func unindent(b []byte) []byte {
	return bytes.TrimLeft(b, " \t")
}

// Clone returns a deep copy; editing it leaves c untouched.
func (c *Card) Clone() *Card {
	d := *c
	copies := make(map[*Property]*Property, len(c.Props))
	cp := func(ps []*Property) []*Property {
		if ps == nil {
			return nil
		}
		out := make([]*Property, len(ps))
		for i, p := range ps {
			if copies[p] == nil {
				copies[p] = p.clone()
			}
			out[i] = copies[p]
		}
		return out
	}
	d.Props = cp(c.Props)
	d.parsed = cp(c.parsed)
	d.Nested = make([]*Card, len(c.Nested))
	for i, n := range c.Nested {
		d.Nested[i] = n.Clone()
	}
	return &d
}

// version is the version whose rules apply to the card's values.
func (c *Card) version() string {
	switch v := c.Version(); v {
	case "2.1", "3.0", "4.0":
		return v
	}
	if c.ver != "" {
		return c.ver
	}
	return "3.0"
}

// Content is what a card says, whatever bytes say it: its properties in
// canonical form (Property.Canonical), sorted. Cards with equal Content
// hold the same data; a server that re-serializes a card (Radicale reorders
// properties and respells parameters) keeps its Content. It fails unless
// data is exactly one readable card.
func Content(data []byte) ([]string, error) {
	cards, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if len(cards) != 1 {
		return nil, fmt.Errorf("vcard: %d cards where one was expected", len(cards))
	}
	lines := make([]string, len(cards[0].Props))
	for i, p := range cards[0].Props {
		lines[i] = p.Canonical()
	}
	slices.Sort(lines)
	return lines, nil
}

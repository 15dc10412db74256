package vcard

import (
	"slices"
	"strings"

	"github.com/contactsync/contactsync/changelog/contact"
)

// commaField maps a field to comma-separated properties (NICKNAME,
// CATEGORIES): the items of all of them, in order. A change rewrites the
// first property with every item and drops the others.
type commaField struct {
	name  string
	field func(*contact.MozContact) *[]string
}

func (f commaField) read(c *Card, ct *contact.MozContact) {
	for _, p := range c.All(f.name) {
		*f.field(ct) = append(*f.field(ct), p.List()...)
	}
}

func (f commaField) apply(c *Card, ct *contact.MozContact) {
	var have []string
	props := c.All(f.name)
	for _, p := range props {
		have = append(have, p.List()...)
	}
	want := *f.field(ct)
	if slices.Equal(have, want) {
		return
	}
	if len(want) == 0 {
		for _, p := range props {
			c.removeWithLabels(p)
		}
		return
	}
	var p *Property
	if len(props) == 0 {
		p = &Property{Name: f.name, ver: c.version()}
		c.Add(p)
	} else {
		p = props[0]
		for _, q := range props[1:] {
			c.removeWithLabels(q)
		}
	}
	esc := make([]string, len(want))
	for i, s := range want {
		esc[i] = escapeText(s, p.ver)
	}
	p.Value = strings.Join(esc, ",")
}

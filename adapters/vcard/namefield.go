package vcard

import (
	"slices"
	"strings"

	"github.com/contactsync/contactsync/changelog/contact"
)

// nameField maps the five N components (RFC 6350 §6.2.2) to familyName,
// givenName, additionalName, honorificPrefix and honorificSuffix; each
// component is a comma-separated list.
type nameField struct{}

func (nameField) parts(ct *contact.MozContact) [5]*[]string {
	return [5]*[]string{&ct.FamilyName, &ct.GivenName, &ct.AdditionalName, &ct.HonorificPrefix, &ct.HonorificSuffix}
}

func (n nameField) read(c *Card, ct *contact.MozContact) {
	p := c.Get("N")
	if p == nil {
		return
	}
	comps := splitEscaped(p.Value, ';')
	for i, dst := range n.parts(ct) {
		if i < len(comps) {
			*dst = splitList(comps[i], p.ver)
		}
	}
}

func (n nameField) apply(c *Card, ct *contact.MozContact) {
	p := c.Get("N")
	if p == nil {
		parts := n.parts(ct)
		if slices.IndexFunc(parts[:], func(s *[]string) bool { return len(*s) > 0 }) < 0 {
			return
		}
		p = &Property{Name: "N", ver: c.version(), Value: ";;;;"}
		c.Add(p)
	}
	comps := splitEscaped(p.Value, ';')
	changed := false
	for i, src := range n.parts(ct) {
		if i < len(comps) && slices.Equal(splitList(comps[i], p.ver), *src) || i >= len(comps) && len(*src) == 0 {
			continue
		}
		for len(comps) <= i {
			comps = append(comps, "")
		}
		esc := make([]string, len(*src))
		for k, s := range *src {
			esc[k] = escapeText(s, p.ver)
		}
		comps[i] = strings.Join(esc, ",")
		changed = true
	}
	if changed {
		p.Value = strings.Join(comps, ";")
	}
}

package vcard

import (
	"strings"

	"github.com/contactsync/contactsync/changelog/contact"
)

// genderField maps sex and genderIdentity to GENDER (RFC 6350 §6.2.7) in
// 4.0 cards and to X-GENDER / X-GENDER-IDENTITY in older ones.
type genderField struct{}

var sexWords = map[string]string{"M": "male", "F": "female", "O": "other", "N": "none", "U": "unknown"}

func (genderField) read(c *Card, ct *contact.MozContact) {
	if p := c.Get("GENDER"); p != nil {
		comps := p.Components()
		ct.Sex = strings.TrimSpace(comps[0])
		if w, ok := sexWords[strings.ToUpper(ct.Sex)]; ok {
			ct.Sex = w
		}
		if len(comps) > 1 {
			ct.GenderIdentity = strings.Join(comps[1:], ";")
		}
		return
	}
	if p := c.Get("X-GENDER"); p != nil {
		ct.Sex = strings.ToLower(strings.TrimSpace(p.Text()))
	}
	if p := c.Get("X-GENDER-IDENTITY"); p != nil {
		ct.GenderIdentity = p.Text()
	}
}

func (g genderField) apply(c *Card, ct *contact.MozContact) {
	var have contact.MozContact
	g.read(c, &have)
	if have.Sex == ct.Sex && have.GenderIdentity == ct.GenderIdentity {
		return
	}
	if p := c.Get("GENDER"); p != nil || c.version() == "4.0" {
		sex := ct.Sex
		for letter, word := range sexWords {
			if strings.EqualFold(word, sex) {
				sex = letter
			}
		}
		if p == nil {
			p = &Property{Name: "GENDER", ver: c.version()}
			c.Add(p)
		}
		switch {
		case sex == "" && ct.GenderIdentity == "":
			c.removeWithLabels(p)
		case ct.GenderIdentity == "":
			p.SetComponents([]string{sex})
		default:
			p.SetComponents([]string{sex, ct.GenderIdentity})
		}
		return
	}
	x := singleField{names: []string{"X-GENDER"}, field: func(ct *contact.MozContact) *string { return &ct.Sex }, write: fixed("X-GENDER")}
	if !strings.EqualFold(have.Sex, ct.Sex) {
		x.apply(c, ct)
	}
	singleField{names: []string{"X-GENDER-IDENTITY"}, write: fixed("X-GENDER-IDENTITY"),
		field: func(ct *contact.MozContact) *string { return &ct.GenderIdentity }}.apply(c, ct)
}

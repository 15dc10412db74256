package vcard

import (
	"fmt"
	"slices"
	"strings"

	"github.com/contactsync/contactsync/changelog/contact"
	"github.com/google/uuid"
)

// ToContact reads the mozContact fields of a card (vCard 2.1, 3.0 or 4.0)
// and keeps the card's bytes in VCard.
func ToContact(c *Card) (*contact.MozContact, error) {
	if c == nil {
		return nil, errNil
	}
	ct := &contact.MozContact{}
	for _, m := range mappers {
		m.read(c, ct)
	}
	ct.VCard = string(c.Bytes())
	return ct, nil
}

// Apply patches card so that it says what ct says, touching only the
// properties whose view changed: everything else (groups such as
// item1.TEL with its item1.X-ABLabel, parameters, X- properties, photos,
// order) stays byte for byte. ct.VCard is not read; ct.Published has no
// vCard property; a zero ct.Updated leaves REV alone.
func Apply(card *Card, ct *contact.MozContact) error {
	if card == nil || ct == nil {
		return errNil
	}
	for _, m := range mappers {
		m.apply(card, ct)
	}
	return nil
}

// FromContact returns ct as a card: its own vCard text patched with Apply,
// or, when ct has none, a new card of the given version (3.0 or 4.0) whose
// UID is ct.ID (or a new UUID), with CRLF line endings and lines folded at
// 75 octets. A new card without a name gets an FN made from the name
// parts, organization or first e-mail address, as vCard 3.0 and 4.0
// require one.
func FromContact(ct *contact.MozContact, version string) (*Card, error) {
	if ct == nil {
		return nil, errNil
	}
	if ct.VCard != "" {
		cards, err := Parse([]byte(ct.VCard))
		if err != nil {
			return nil, fmt.Errorf("vcard: contact %s: %w", ct.ID, err)
		}
		if len(cards) != 1 {
			return nil, fmt.Errorf("vcard: contact %s holds %d cards: %w", ct.ID, len(cards), ErrNotOneCard)
		}
		return cards[0], Apply(cards[0], ct)
	}
	uid := ct.ID
	if uid == "" {
		uid = uuid.NewString()
	}
	c := NewCardUID(version, uid)
	if len(ct.Name) == 0 {
		ct = ct.Clone()
		if fn := displayName(ct); fn != "" {
			ct.Name = []string{fn}
		}
	}
	if err := Apply(c, ct); err != nil {
		return nil, err
	}
	if c.Get("FN") == nil {
		c.Add(NewProperty("", "FN", ""))
	}
	if c.Get("N") == nil && c.version() == "3.0" {
		c.Add(NewProperty("", "N", ";;;;"))
	}
	return c, nil
}

func displayName(ct *contact.MozContact) string {
	parts := slices.Concat(ct.HonorificPrefix, ct.GivenName, ct.AdditionalName, ct.FamilyName, ct.HonorificSuffix)
	if s := strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " "); s != "" {
		return s
	}
	if len(ct.Org) > 0 {
		return ct.Org[0]
	}
	if len(ct.Email) > 0 {
		return ct.Email[0].Value
	}
	return ""
}

// mappers lists every mozContact field with its properties; docs/vcard.md
// has the same table for people.
var mappers = []mapper{
	singleField{names: []string{"UID"}, field: func(ct *contact.MozContact) *string { return &ct.ID },
		write: fixed("UID"), keepEmpty: true},
	revField{},
	textList("FN", func(ct *contact.MozContact) *[]string { return &ct.Name }),
	nameField{},
	textList("X-PHONETIC-FIRST-NAME", func(ct *contact.MozContact) *[]string { return &ct.PhoneticGivenName }),
	textList("X-PHONETIC-LAST-NAME", func(ct *contact.MozContact) *[]string { return &ct.PhoneticFamilyName }),
	commaField{name: "NICKNAME", field: func(ct *contact.MozContact) *[]string { return &ct.Nickname }},
	typedList("EMAIL", func(ct *contact.MozContact) *[]contact.Field { return &ct.Email }),
	listField[contact.TelField]{names: []string{"TEL"}, write: fixed("TEL"),
		field: func(ct *contact.MozContact) *[]contact.TelField { return &ct.Tel },
		view:  telView, patch: telPatch, eq: func(a, b contact.TelField) bool {
			return a.Value == b.Value && a.Carrier == b.Carrier && sameTypes(a.Type, a.Pref, b.Type, b.Pref)
		}},
	listField[contact.Address]{names: []string{"ADR"}, write: fixed("ADR"),
		field: func(ct *contact.MozContact) *[]contact.Address { return &ct.Adr },
		view:  adrView, patch: adrPatch, eq: func(a, b contact.Address) bool {
			return adrParts(a) == adrParts(b) && sameTypes(a.Type, a.Pref, b.Type, b.Pref)
		}},
	typedList("URL", func(ct *contact.MozContact) *[]contact.Field { return &ct.URL }),
	typedList("IMPP", func(ct *contact.MozContact) *[]contact.Field { return &ct.IMPP }),
	listField[string]{names: []string{"ORG"}, write: fixed("ORG"),
		field: func(ct *contact.MozContact) *[]string { return &ct.Org },
		view:  func(p *Property) string { return p.Components()[0] },
		patch: func(p *Property, old, v string) { setComponent(p, 0, v) },
		eq:    func(a, b string) bool { return a == b }},
	textList("TITLE", func(ct *contact.MozContact) *[]string { return &ct.JobTitle }),
	singleField{names: []string{"BDAY"}, field: func(ct *contact.MozContact) *string { return &ct.Bday }, write: fixed("BDAY")},
	singleField{names: []string{"ANNIVERSARY", "X-ANNIVERSARY"}, field: func(ct *contact.MozContact) *string { return &ct.Anniversary },
		write: byVersion("ANNIVERSARY", "X-ANNIVERSARY")},
	textList("NOTE", func(ct *contact.MozContact) *[]string { return &ct.Note }),
	commaField{name: "CATEGORIES", field: func(ct *contact.MozContact) *[]string { return &ct.Category }},
	mediaList("PHOTO", "image/", func(ct *contact.MozContact) *[]string { return &ct.Photo }),
	genderField{},
	mediaList("KEY", "application/", func(ct *contact.MozContact) *[]string { return &ct.Key }),
}

// byVersion names a property by the card's version: the RFC 6350 name in
// 4.0 cards, the X- name older clients understand in 2.1 and 3.0 cards.
func byVersion(v4, older string) func(string) string {
	return func(ver string) string {
		if ver == "4.0" {
			return v4
		}
		return older
	}
}

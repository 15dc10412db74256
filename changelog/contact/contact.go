package contact

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"
)

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid contact")

// MozContact is a mozContact plus the vCard it is a view of.
//
// Dates (Bday, Anniversary) are ISO 8601 strings as a vCard can hold
// them: "1985-04-12", "--04-12" for a birthday without a year, or a full
// timestamp. Every list field is in the order of the vCard's properties.
type MozContact struct {
	// ID is the vCard UID.
	ID        string    `json:"id,omitempty"`
	Published time.Time `json:"published,omitzero"`
	// Updated mirrors the vCard REV.
	Updated time.Time `json:"updated,omitzero"`

	Name               []string `json:"name,omitempty"` // FN
	HonorificPrefix    []string `json:"honorificPrefix,omitempty"`
	GivenName          []string `json:"givenName,omitempty"`
	PhoneticGivenName  []string `json:"phoneticGivenName,omitempty"`
	AdditionalName     []string `json:"additionalName,omitempty"`
	FamilyName         []string `json:"familyName,omitempty"`
	PhoneticFamilyName []string `json:"phoneticFamilyName,omitempty"`
	HonorificSuffix    []string `json:"honorificSuffix,omitempty"`
	Nickname           []string `json:"nickname,omitempty"`

	Email []Field    `json:"email,omitempty"`
	Tel   []TelField `json:"tel,omitempty"`
	Adr   []Address  `json:"adr,omitempty"`
	URL   []Field    `json:"url,omitempty"`
	IMPP  []Field    `json:"impp,omitempty"`

	Org         []string `json:"org,omitempty"`
	JobTitle    []string `json:"jobTitle,omitempty"`
	Bday        string   `json:"bday,omitempty"`
	Anniversary string   `json:"anniversary,omitempty"`
	Note        []string `json:"note,omitempty"`
	Category    []string `json:"category,omitempty"`
	// Photo holds data: URLs (inline images) or URLs.
	Photo          []string `json:"photo,omitempty"`
	Sex            string   `json:"sex,omitempty"`
	GenderIdentity string   `json:"genderIdentity,omitempty"`
	// Key holds data: URLs or URLs of public keys.
	Key []string `json:"key,omitempty"`

	// VCard is the full vCard text the fields are a view of, byte for byte
	// (it may be in a legacy charset, so it is not always UTF-8).
	VCard string `json:"vcard,omitempty"`
}

// Clone returns a deep copy.
func (c *MozContact) Clone() *MozContact {
	d := *c
	for _, s := range []*[]string{&d.Name, &d.HonorificPrefix, &d.GivenName, &d.PhoneticGivenName,
		&d.AdditionalName, &d.FamilyName, &d.PhoneticFamilyName, &d.HonorificSuffix, &d.Nickname,
		&d.Org, &d.JobTitle, &d.Note, &d.Category, &d.Photo, &d.Key} {
		*s = slices.Clone(*s)
	}
	d.Email = cloneAll(d.Email, Field.clone)
	d.URL = cloneAll(d.URL, Field.clone)
	d.IMPP = cloneAll(d.IMPP, Field.clone)
	d.Tel = cloneAll(d.Tel, TelField.clone)
	d.Adr = cloneAll(d.Adr, Address.clone)
	return &d
}

func cloneAll[T any](in []T, clone func(T) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = clone(v)
	}
	return out
}

// EqualFields reports whether c and d hold the same mozContact fields,
// ignoring VCard. Empty and nil lists are equal; times compare as instants.
func (c *MozContact) EqualFields(d *MozContact) bool {
	a, b := c.Clone(), d.Clone()
	a.VCard, b.VCard = "", ""
	return a.equal(b)
}

// Equal reports whether c and d are equal, VCard included.
func (c *MozContact) Equal(d *MozContact) bool { return c.equal(d) }

func (c *MozContact) equal(d *MozContact) bool {
	if !c.Published.Equal(d.Published) || !c.Updated.Equal(d.Updated) {
		return false
	}
	a, b := *c, *d
	a.Published, a.Updated, b.Published, b.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// dateRe accepts the ISO 8601 dates a vCard BDAY or ANNIVERSARY holds:
// basic or extended, with or without year (--MM-DD), optionally a time.
var dateRe = regexp.MustCompile(`^(\d{4}-?\d{2}-?\d{2}|--\d{2}-?\d{2}|\d{4}-\d{2}|\d{4})([T ]\d{2}(:?\d{2}(:?\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$`)

// Validate checks what a person could get wrong when typing a contact by
// hand: the date fields and the text encoding.
func (c *MozContact) Validate() error {
	for _, f := range []struct{ name, v string }{{"bday", c.Bday}, {"anniversary", c.Anniversary}} {
		if f.v != "" && !dateRe.MatchString(f.v) {
			return fmt.Errorf("contact: %s %q is not an ISO 8601 date such as 1985-04-12 or --04-12: %w", f.name, f.v, ErrInvalid)
		}
	}
	d := *c
	d.VCard = "" // may rightly be in a legacy charset
	if !validUTF8(reflect.ValueOf(d)) {
		return fmt.Errorf("contact: a field holds text that is not UTF-8: %w", ErrInvalid)
	}
	return nil
}

// validUTF8 walks the strings inside v.
func validUTF8(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return utf8.ValidString(v.String())
	case reflect.Slice:
		for i := range v.Len() {
			if !validUTF8(v.Index(i)) {
				return false
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && !validUTF8(v.Field(i)) {
				return false
			}
		}
	}
	return true
}

// wire is Contact without its JSON methods.
type wire MozContact

// MarshalJSON writes the mozContact fields; the vCard text goes in
// "vcard" when it is UTF-8 and in "vcardBase64" when it is not, so that
// no byte of a legacy-charset card is lost.
func (c MozContact) MarshalJSON() ([]byte, error) {
	out := struct {
		wire
		VCard       string `json:"vcard,omitempty"`
		VCardBase64 []byte `json:"vcardBase64,omitempty"`
	}{wire: wire(c)}
	if utf8.ValidString(c.VCard) {
		out.VCard = c.VCard
	} else {
		out.VCardBase64 = []byte(c.VCard)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *MozContact) UnmarshalJSON(data []byte) error {
	var in struct {
		wire
		VCard       string `json:"vcard"`
		VCardBase64 []byte `json:"vcardBase64"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*c = MozContact(in.wire)
	c.VCard = in.VCard
	if in.VCardBase64 != nil {
		c.VCard = string(in.VCardBase64)
	}
	return nil
}

package vcard

import (
	"slices"
	"strings"
	"time"

	"github.com/contactsync/contactsync/changelog/contact"
)

// singleField maps a single-valued field to the first of its properties.
type singleField struct {
	names     []string
	field     func(*contact.MozContact) *string
	write     func(ver string) string
	keepEmpty bool // an empty field leaves the property (UID)
}

func (s singleField) prop(c *Card) *Property {
	for _, p := range c.Props {
		if slices.ContainsFunc(s.names, func(n string) bool { return strings.EqualFold(n, p.Name) }) {
			return p
		}
	}
	return nil
}

func (s singleField) read(c *Card, ct *contact.MozContact) {
	if p := s.prop(c); p != nil {
		*s.field(ct) = strings.TrimSpace(p.Text())
	}
}

func (s singleField) apply(c *Card, ct *contact.MozContact) {
	want := *s.field(ct)
	p := s.prop(c)
	switch {
	case p != nil && strings.TrimSpace(p.Text()) == want:
	case p != nil && want == "" && !s.keepEmpty:
		c.removeWithLabels(p)
	case p != nil && want != "":
		p.SetText(want)
	case p == nil && want != "":
		p := &Property{Name: s.write(c.version()), ver: c.version()}
		p.SetText(want)
		c.Add(p)
	}
}

// revField maps updated to REV (RFC 6350 §6.7.4), to the second.
type revField struct{}

var revLayouts = []string{"20060102T150405Z", "20060102T150405Z0700", "20060102T150405", time.RFC3339Nano,
	"2006-01-02T15:04:05", "2006-01-02T15:04:05.000Z0700", "20060102", "2006-01-02"}

func (revField) time(c *Card) time.Time {
	p := c.Get("REV")
	if p == nil {
		return time.Time{}
	}
	v := strings.TrimSpace(p.Text())
	for _, layout := range revLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func (r revField) read(c *Card, ct *contact.MozContact) { ct.Updated = r.time(c) }

func (r revField) apply(c *Card, ct *contact.MozContact) {
	want := ct.Updated.UTC().Truncate(time.Second)
	if ct.Updated.IsZero() || r.time(c).Truncate(time.Second).Equal(want) {
		return
	}
	c.Set("REV", want.Format("20060102T150405Z"))
}

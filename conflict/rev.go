package conflict

import (
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// revLayouts are the timestamp spellings found in REV: RFC 6350 §4.3.5
// basic format, RFC 2426's ISO 8601 extended format (with or without
// fractions, which time.Parse accepts after the seconds), and bare dates.
var revLayouts = []string{
	"20060102T150405Z",
	"20060102T150405Z0700",
	"20060102T150405Z07",
	"20060102T150405",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"20060102",
	"2006-01-02",
}

// revOf reads the card's REV, the time of its last edit. A card without a
// readable REV gets the zero time, older than any other.
func revOf(c *vcard.Card) time.Time {
	p := c.Get("REV")
	if p == nil {
		return time.Time{}
	}
	s := strings.TrimSpace(p.Text())
	for _, layout := range revLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

package conflict

import (
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
)

func TestRevOf(t *testing.T) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	at := time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC)
	for _, tc := range []struct {
		name, rev string
		want      time.Time
	}{
		{"RFC 6350 basic", "20240301T102030Z", at},
		{"basic with offset", "20240301T112030+0100", at},
		{"basic with hour offset", "20240301T052030-05", at},
		{"extended (RFC 2426)", "2024-03-01T10:20:30Z", at},
		{"extended with offset", "2024-03-01T12:20:30+02:00", at},
		{"extended with milliseconds", "2024-03-01T10:20:30.000Z", at},
		{"no zone is UTC", "20240301T102030", at},
		{"date only", "20240301", day},
		{"extended date only", "2024-03-01", day},
		{"spaces around", " 20240301T102030Z ", at},
		{"broken (DAVdroid)", "2024-03-01T10:20:30Z(1)", time.Time{}},
		{"not a time", "0", time.Time{}},
		{"empty", "", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := vcard.NewCardUID("4.0", "x")
			c.Add(vcard.NewProperty("", "REV", tc.rev))
			if got := revOf(c); !got.Equal(tc.want) {
				t.Errorf("revOf(%q) = %v, want %v", tc.rev, got, tc.want)
			}
		})
	}
	if got := revOf(vcard.NewCardUID("4.0", "x")); !got.IsZero() {
		t.Errorf("a card without REV has time %v, want zero", got)
	}
}

package conflict_test

import (
	"bytes"
	"strings"
	"testing"

	govcard "github.com/emersion/go-vcard"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/conflict"
)

// A typical contact (13 properties) and two concurrent edits of it: the
// phone changed NOTE and added a number, the server copy changed TITLE and
// an e-mail's type; both bumped REV.
var (
	benchBase = crlf(`BEGIN:VCARD
VERSION:3.0
UID:urn:uuid:2f0c6f1a-8a36-4c1e-a8f5-4d5b6e7f8a90
FN:Jane Roe
N:Roe;Jane;;;
ORG:Acme Inc.
TITLE:Engineer
TEL;TYPE=CELL:+1 555 0100
TEL;TYPE=WORK,VOICE:+1 555 0199
EMAIL;TYPE=INTERNET,HOME:jane@example.org
EMAIL;TYPE=INTERNET,WORK:jane.roe@acme.example
ADR;TYPE=HOME:;;1 Main St;Springfield;IL;62701;USA
item1.URL:https://jane.example
item1.X-ABLabel:_$!<HomePage>!$_
NOTE:Met at the meetup
REV:20240301T100000Z
END:VCARD
`)
	benchLocal = strings.Replace(strings.Replace(strings.Replace(benchBase,
		"NOTE:Met at the meetup", "NOTE:Met at the meetup; wants the slides", 1),
		"TEL;TYPE=WORK,VOICE:+1 555 0199\r\n", "TEL;TYPE=WORK,VOICE:+1 555 0199\r\nTEL;TYPE=HOME:+1 555 0142\r\n", 1),
		"REV:20240301T100000Z", "REV:20240302T090000Z", 1)
	benchRemote = strings.Replace(strings.Replace(strings.Replace(benchBase,
		"TITLE:Engineer", "TITLE:Staff Engineer", 1),
		"EMAIL;TYPE=INTERNET,WORK:", "EMAIL;TYPE=INTERNET,WORK,PREF:", 1),
		"REV:20240301T100000Z", "REV:20240303T080000Z", 1)
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// BenchmarkMerge measures a merge of a typical contact where both sides
// changed different things. "merge" takes parsed cards (the engine holds
// them); "parse+merge" starts from the three texts; "govcard-decode" is the
// reference, in the same run: decoding the three texts with go-vcard.
func BenchmarkMerge(b *testing.B) {
	texts := [][]byte{[]byte(benchBase), []byte(benchLocal), []byte(benchRemote)}
	parse := func(b *testing.B) []*vcard.Card {
		out := make([]*vcard.Card, 3)
		for i, t := range texts {
			c, err := parseOne(t)
			if err != nil {
				b.Fatal(err)
			}
			out[i] = c
		}
		return out
	}
	cards := parse(b)
	res, err := conflict.Merge(cards[0], cards[1], cards[2])
	if err != nil || !res.WriteLocal || !res.WriteRemote || len(res.Conflicts) != 0 {
		b.Fatalf("the benchmark's merge is not the one intended: %+v, %v", res, err)
	}
	b.Run("merge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conflict.Merge(cards[0], cards[1], cards[2]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse+merge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cs := parse(b)
			if _, err := conflict.Merge(cs[0], cs[1], cs[2]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("govcard-decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, t := range texts {
				if _, err := govcard.NewDecoder(bytes.NewReader(t)).Decode(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

package vcard

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/contactsync/contactsync/changelog/contact"
)

// seedFuzz adds every fixture in testdata/vcards and a few synthetic
// inputs to the corpus.
func seedFuzz(f *testing.F, add func(data []byte)) {
	err := filepath.WalkDir(filepath.Join("..", "..", "testdata", "vcards"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".vcf") {
			return err
		}
		data, err := os.ReadFile(path)
		add(data)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"\xef\xbb\xbfBEGIN:VCARD\rVERSION:3.0\rFN:A\r B\rEND:VCARD\r",
		"BEGIN:VCARD\r\r\nVERSION:2.1\r\r\nNOTE;QUOTED-PRINTABLE:a=\r\r\n=3Db\r\r\nEND:VCARD\r\r\n",
		"BEGIN:VCARD\nVERSION:2.1\nN:p\nBEGIN:VCARD\nN:c\nEND:VCARD\nEND:VCARD\n",
		"BEGIN:VCARD\nTEL;TYPE=\"a:b;c\nEND:VCARD\n",
	} {
		add([]byte(s))
	}
}

// FuzzParse: Parse never panics, every card it returns is a slice of the
// input in order, reads back alone as itself, and error-free input holds
// nothing but cards and filler.
func FuzzParse(f *testing.F) {
	seedFuzz(f, func(data []byte) { f.Add(data) })
	f.Fuzz(func(t *testing.T, data []byte) {
		cards, err := Parse(data)
		rest := data
		for i, c := range cards {
			b := c.Bytes()
			at := bytes.Index(rest, b)
			if at < 0 {
				t.Fatalf("card %d: Bytes() %q is not the next slice of the input", i+1, b)
			}
			if err == nil && !isFillerOnly(rest[:at]) {
				t.Fatalf("card %d: non-filler bytes before it: %q", i+1, rest[:at])
			}
			rest = rest[at+len(b):]
			again, err2 := Parse(b)
			if err2 != nil || len(again) != 1 || !bytes.Equal(again[0].Bytes(), b) {
				t.Fatalf("card %d does not read back alone: %v, %d cards", i+1, err2, len(again))
			}
			if c.Modified() {
				t.Fatalf("card %d is modified right after parsing", i+1)
			}
			if _, err := ToContact(c); err != nil {
				t.Fatal(err)
			}
			// A property added last (where the engine writes a missing UID) reads back with the rest.
			d := c.Clone()
			d.Add(NewProperty("", "X-FUZZ", "added"))
			edited, err2 := Parse(d.Bytes())
			if err2 != nil || len(edited) != 1 || len(edited[0].Props) != len(c.Props)+1 ||
				edited[0].Get("X-FUZZ") == nil {
				t.Fatalf("card %d with one property added does not read back: %v\n%q", i+1, err2, d.Bytes())
			}
		}
		if err == nil && !isFillerOnly(rest) {
			t.Fatalf("non-filler bytes after the last card: %q", rest)
		}
	})
}

// FuzzConvert: ToContact, Apply and Bytes never panic; applying the
// unchanged contact changes nothing; applying an edited contact gives a
// card that reads back as that contact.
func FuzzConvert(f *testing.F) {
	seedFuzz(f, func(data []byte) { f.Add(data, "+1 (555) 0100; ext. 7, \"x\"\nline 2 🙂") })
	f.Fuzz(func(t *testing.T, data []byte, edit string) {
		cards, _ := Parse(data)
		if len(cards) > 3 {
			cards = cards[:3]
		}
		// Text travels as UTF-8 with "\n" line breaks.
		edit = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(strings.ToValidUTF8(edit, "?"))
		if !utf8.ValidString(edit) || strings.HasPrefix(strings.ToLower(edit), "tel:") {
			return
		}
		for _, c := range cards {
			ct, err := ToContact(c)
			if err != nil {
				t.Fatal(err)
			}
			same := c.Clone()
			if err := Apply(same, ct); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(same.Bytes(), c.Bytes()) {
				t.Fatalf("unchanged contact changed the card:\n%s", lineDiff(c.Bytes(), same.Bytes()))
			}

			if len(ct.Tel) > 0 {
				ct.Tel[0].Value = edit
			} else {
				ct.Tel = append(ct.Tel, contact.TelField{Type: []string{"cell"}, Value: edit})
			}
			ct.Note = append(ct.Note, edit)
			ct.Email = append([]contact.Field{{Type: []string{"home"}, Pref: true, Value: edit}}, ct.Email...)
			ct.URL = append(ct.URL, contact.Field{Value: edit})
			applyAndReadBack(t, "fuzzed card", c, ct)
		}
	})
}

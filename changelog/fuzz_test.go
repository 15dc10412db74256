package changelog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzContactRoundTrip stores whatever bytes an import or a remote hands over and checks they come back exactly,
// from Get and from Sync, or are refused with ErrInvalid for the documented reasons, and that nothing is left
// behind either way.
func FuzzContactRoundTrip(f *testing.F) {
	// Seeds: the repository's sample address book and the shapes of card that have tripped stores before.
	if sample, err := os.ReadFile(filepath.Join("..", "testdata", "sample", "addressbook.vcf")); err == nil {
		f.Add("sample", sample, "")
	}
	f.Add("urn:uuid:0b7e1a2c-9d3f-4e5a-8b6c-7d8e9f0a1b2c", []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n"), "")
	f.Add("latin1", []byte("BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=ISO-8859-1:M\xfcller\nEND:VCARD\n"), "facebook")
	f.Add("nul", []byte("a\x00b"), "")
	f.Add("", []byte("x"), "")
	f.Add("a", []byte{}, "")
	f.Add("\xff", []byte("x"), "")
	f.Add("a", []byte("x"), "\xfe")
	f.Add("quote'\"; DROP TABLE contacts;--", []byte("\xef\xbb\xbfBEGIN:VCARD\rEND:VCARD"), "src")

	s, err := Open(filepath.Join(f.TempDir(), "contacts.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, id string, data []byte, source string) {
		before, err := s.LastRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Add(ctx, FromRemote("fuzz"), Contact{ID: id, Data: data, Source: source})
		valid := id != "" && utf8.ValidString(id) && len(data) > 0 && utf8.ValidString(source)
		if !valid {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Add(%q, %q, %q) = %v, want ErrInvalid", id, data, source, err)
			}
			if last, _ := s.LastRevision(ctx); last != before {
				t.Fatalf("a refused Add took revision %d", last)
			}
			return
		}
		if err != nil {
			t.Fatalf("Add(%q, %q, %q): %v", id, data, source, err)
		}
		got, err := s.Get(ctx, id)
		if err != nil || got.ID != id || !bytes.Equal(got.Data, data) || got.Source != source {
			t.Fatalf("Get = %+v, %v; want the contact as given", got, err)
		}
		n := 0
		for task, err := range s.Sync(ctx, before) {
			if err != nil {
				t.Fatal(err)
			}
			if task.Op == OpAdd {
				n++
				if task.ID != id || !bytes.Equal(task.Contact.Data, data) || !task.OnlyFrom(FromRemote("fuzz")) {
					t.Fatalf("Sync yields %+v, want the added contact from remote:fuzz", task)
				}
			}
		}
		if n != 1 {
			t.Fatalf("Sync yields %d adds, want 1", n)
		}
		if err := s.Remove(ctx, Local, id); err != nil {
			t.Fatal(err)
		}
	})
}

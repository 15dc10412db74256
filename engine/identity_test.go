package engine

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
)

func TestRemoteCard(t *testing.T) {
	for _, tc := range []struct {
		name, href, data string
		wantID           string
		wantErr          bool
	}{
		{"uid", "/ab/x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:abc\r\nFN:A\r\nEND:VCARD\r\n", "abc", false},
		{"escaped uid", "/ab/x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\\,b\r\nFN:A\r\nEND:VCARD\r\n", "a,b", false},
		{"no uid gets one from the href", "/ab/x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n", "href-", false},
		{"two cards", "/ab/x.vcf", "BEGIN:VCARD\r\nUID:a\r\nEND:VCARD\r\nBEGIN:VCARD\r\nUID:b\r\nEND:VCARD\r\n", "", true},
		{"truncated", "/ab/x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:abc\r\n", "", true},
		{"garbage", "/ab/x.vcf", "<html>oops</html>", "", true},
		{"empty", "/ab/x.vcf", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := remoteCard(tc.href, []byte(tc.data))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantID == "href-" {
				again, _ := remoteCard(tc.href, []byte(tc.data))
				if len(id) < 10 || id[:5] != "href-" || again != id {
					t.Fatalf("id %q (again %q): want a stable id derived from the href", id, again)
				}
				return
			}
			if id != tc.wantID {
				t.Fatalf("id = %q, want %q", id, tc.wantID)
			}
		})
	}
}

func TestUploadBytesWritesUID(t *testing.T) {
	for _, tc := range []struct{ name, data, id string }{
		{"plain", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Uid\r\nEND:VCARD\r\n", "some-id"},
		{"id needing escapes", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:X\r\nEND:VCARD\r\n", "a;b,c\\d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := uploadBytes(changelog.Contact{ID: tc.id, Data: []byte(tc.data)})
			cards, err := vcard.Parse(out)
			if err != nil || len(cards) != 1 || cards[0].UID() != tc.id {
				t.Fatalf("uploaded %q: UID %v, err %v; want %q", out, cards, err, tc.id)
			}
		})
	}
	withUID := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:keep\r\nFN:A\r\nEND:VCARD\r\n")
	if out := uploadBytes(changelog.Contact{ID: "keep", Data: withUID}); string(out) != string(withUID) {
		t.Fatalf("a card with a UID was changed: %q", out)
	}
}

// FuzzRemoteCard feeds server bodies to the code that reads them: it must never panic, and what it accepts
// must give a usable contact ID.
func FuzzRemoteCard(f *testing.F) {
	f.Add("/ab/x.vcf", []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:abc\r\nFN:A\r\nEND:VCARD\r\n"))
	f.Add("/ab/~00.vcf", []byte("BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=ISO-8859-1:M\xfcller\nEND:VCARD\n"))
	f.Add("/ab/y.vcf", []byte("BEGIN:VCARD\r\nUID:\r\nEND:VCARD"))
	files, _ := filepath.Glob("../../shared/corpus/vcards/*/*.vcf")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil && len(data) < 1<<16 {
			f.Add("/ab/"+filepath.Base(name), data)
		}
	}
	f.Fuzz(func(t *testing.T, href string, data []byte) {
		id, err := remoteCard(href, data)
		if err != nil {
			return
		}
		if id == "" || !utf8.ValidString(id) {
			t.Fatalf("accepted card gave unusable id %q", id)
		}
		out := uploadBytes(changelog.Contact{ID: id, Data: data})
		if again, err := remoteCard(href, out); err != nil || again != id {
			t.Fatalf("card as uploaded reads back as %q, %v; want %q", again, err, id)
		}
	})
}

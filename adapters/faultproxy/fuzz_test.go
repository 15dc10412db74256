package faultproxy

import (
	"slices"
	"testing"
)

// FuzzMultigetHrefs reads client request bodies as the hostile front does: never a panic, and the hrefs of a
// body it writes itself come back as they went in.
func FuzzMultigetHrefs(f *testing.F) {
	f.Add(multigetBody([]string{"/ab/a.vcf", "/ab/b c.vcf"}))
	f.Add([]byte(`<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:href> /x </D:href></C:addressbook-multiget>`))
	f.Add([]byte(`<!DOCTYPE m [<!ENTITY a "b">]><m xmlns="DAV:"><href>&a;</href></m>`))
	f.Add([]byte("<href>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		hrefs, err := multigetHrefs(body)
		if err != nil {
			return
		}
		var clean []string
		for _, h := range hrefs {
			if h != "" && !slices.Contains([]rune(h), 0) && validText(h) {
				clean = append(clean, h)
			}
		}
		again, err := multigetHrefs(multigetBody(clean))
		if err != nil || !slices.Equal(again, clean) {
			t.Fatalf("hrefs %q written and read back as %q (%v)", clean, again, err)
		}
	})
}

// validText reports text XML can carry (XML 1.0 section 2.2) with no surrounding space, which reading trims.
func validText(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return len(s) > 0 && s[0] > ' ' && s[len(s)-1] > ' '
}

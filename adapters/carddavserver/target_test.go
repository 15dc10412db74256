package carddavserver

import (
	"bytes"
	"net/http"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		want       target
		status     int
	}{
		{name: "root", path: "/", want: target{kind: kindRoot}},
		{name: "well-known", path: "/.well-known/carddav", want: target{kind: kindWellKnown}},
		{name: "principal without slash", path: "/principals/ann", want: target{kind: kindPrincipal, user: "ann"}},
		{name: "home", path: "/addressbooks/ann/", want: target{kind: kindHome, user: "ann"}},
		{name: "book", path: "/addressbooks/ann/work/", want: target{kind: kindBook, user: "ann", book: "work"}},
		{name: "vCard", path: "/addressbooks/ann/work/a%20b.vcf", want: target{kind: kindObject, user: "ann", book: "work", object: "a b.vcf"}},
		{name: "escaped slash stays in the name", path: "/addressbooks/ann/work/a%2Fb.vcf", want: target{kind: kindObject, user: "ann", book: "work", object: "a/b.vcf"}},
		{name: "bad escape", path: "/addressbooks/ann/work/%zz", status: http.StatusBadRequest},
		{name: "collection inside a book", path: "/addressbooks/ann/work/sub/", status: http.StatusNotFound},
		{name: "too deep", path: "/addressbooks/ann/work/a/b", status: http.StatusNotFound},
		{name: "unknown", path: "/calendars/ann/", status: http.StatusNotFound},
		{name: "relative", path: "addressbooks/", status: http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTarget(tc.path)
			if tc.status != 0 {
				if se, ok := err.(*statusError); !ok || se.status != tc.status {
					t.Fatalf("parseTarget(%q) = %+v, %v; want status %d", tc.path, got, err, tc.status)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseTarget(%q) = %+v, %v; want %+v", tc.path, got, err, tc.want)
			}
			if back, err := parseTarget(got.href()); err != nil || back != got {
				t.Errorf("href %q does not parse back: %+v, %v", got.href(), back, err)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		name, in, text, attr string
	}{
		{"plain", "abc", "abc", "abc"},
		{"markup", `a<b>&"c"`, `a&lt;b&gt;&amp;"c"`, `a&lt;b&gt;&amp;&quot;c&quot;`},
		{"line ends", "a\r\nb\tc", "a&#xD;\nb\tc", "a&#xD;&#xA;b&#x9;c"},
		{"not UTF-8", "a\xffb", "a\uFFFDb", "a\uFFFDb"},
		{"real U+FFFD kept", "a\uFFFDb", "a\uFFFDb", "a\uFFFDb"},
		{"control", "a\x01b", "a\uFFFDb", "a\uFFFDb"},
		{"non-ASCII", "Zoë 日本", "Zoë 日本", "Zoë 日本"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []struct {
				attr bool
				want string
			}{{false, tc.text}, {true, tc.attr}} {
				var b bytes.Buffer
				x := newXMLWriter(&b)
				x.escape(tc.in, mode.attr)
				if err := x.flush(); err != nil {
					t.Fatal(err)
				}
				if b.String() != mode.want {
					t.Errorf("escape(%q, attr %v) = %q, want %q", tc.in, mode.attr, b.String(), mode.want)
				}
			}
		})
	}
}

package carddav

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestCanonicalPath(t *testing.T) {
	cases := []struct {
		name, in, want string
		bad            bool
	}{
		{"plain", "/ab/x.vcf", "/ab/x.vcf", false},
		{"unneeded escapes are undone", "/ab/%61%40b.vcf", "/ab/a@b.vcf", false},
		{"space escaped one way", "/ab/a b.vcf", "/ab/a%20b.vcf", false},
		{"escaped slash stays inside its segment", "/ab/a%2Fb.vcf", "/ab/a%2Fb.vcf", false},
		{"lower-case escapes normalised", "/ab/a%2fb.vcf", "/ab/a%2Fb.vcf", false},
		{"dot-dot refused", "/ab/../x.vcf", "", true},
		{"escaped dot-dot refused", "/ab/%2E%2E/x.vcf", "", true},
		{"dot refused", "/ab/./x.vcf", "", true},
		{"bad escape refused", "/ab/%zz.vcf", "", true},
		{"relative refused", "ab/x.vcf", "", true},
		{"NUL refused", "/ab/%00.vcf", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canonicalPath(tc.in)
			if tc.bad {
				if !errors.Is(err, ErrBadHref) {
					t.Errorf("canonicalPath(%q) = %q, %v; want ErrBadHref", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("canonicalPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestMemberOf(t *testing.T) {
	base, _ := url.Parse("https://dav.example.com/ab/")
	cases := []struct {
		name, ref, want string
		self, bad       bool
	}{
		{"absolute path", "/ab/x.vcf", "/ab/x.vcf", false, false},
		{"full URL, same origin", "https://dav.example.com/ab/x.vcf", "/ab/x.vcf", false, false},
		{"explicit default port", "https://dav.example.com:443/ab/x.vcf", "/ab/x.vcf", false, false},
		{"host in other case", "https://DAV.example.com/ab/x.vcf", "/ab/x.vcf", false, false},
		{"relative to the collection", "x.vcf", "/ab/x.vcf", false, false},
		{"the collection", "/ab/", "/ab/", true, false},
		{"the collection without slash", "/ab", "/ab", true, false},
		{"sub-collection", "/ab/sub/", "/ab/sub/", false, false},
		{"another host", "https://evil.example.com/ab/x.vcf", "", false, true},
		{"another scheme", "http://dav.example.com/ab/x.vcf", "", false, true},
		{"another port", "https://dav.example.com:8443/ab/x.vcf", "", false, true},
		{"scheme-relative other host", "//evil.example.com/ab/x.vcf", "", false, true},
		{"climbs out", "/ab/../etc/x.vcf", "", false, true},
		{"relative climb", "../x.vcf", "", false, true},
		{"sibling collection", "/abc/x.vcf", "", false, true},
		{"nested", "/ab/sub/x.vcf", "", false, true},
		{"credentials", "https://u:p@dav.example.com/ab/x.vcf", "", false, true},
		{"parent", "/", "", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, self, err := memberOf(base, "/ab/", tc.ref)
			if tc.bad {
				if !errors.Is(err, ErrBadHref) {
					t.Errorf("memberOf(%q) = %q, %v, %v; want ErrBadHref", tc.ref, got, self, err)
				}
				return
			}
			if err != nil || got != tc.want || self != tc.self {
				t.Errorf("memberOf(%q) = %q, self %v, %v; want %q, self %v", tc.ref, got, self, err, tc.want, tc.self)
			}
		})
	}
}

func TestHrefForUID(t *testing.T) {
	// The resource name's own rule is tested in adapters/internal/uidhref; these cases are about the collection
	// part and that every name stays a direct member.
	cases := []struct {
		name, ab, uid, want string
	}{
		{"plain UID kept", "/ab/", "abc-123@example.org", "/ab/abc-123@example.org.vcf"},
		{"collection without slash", "/ab", "abc", "/ab/abc.vcf"},
		{"collection as URL", "https://h.example/dav/ab/", "abc", "/dav/ab/abc.vcf"},
		{"escaped collection kept escaped", "/a%20b/", "abc", "/a%20b/abc.vcf"},
		{"slash hashed", "/ab/", "a/b", "/ab/~" + hashHex("a/b") + ".vcf"},
		{"dot-dot hashed", "/ab/", "..", "/ab/~" + hashHex("..") + ".vcf"},
		{"percent hashed", "/ab/", "%2F", "/ab/~" + hashHex("%2F") + ".vcf"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := HrefForUID(tc.ab, tc.uid)
			if got != tc.want {
				t.Errorf("HrefForUID(%q, %q) = %q; want %q", tc.ab, tc.uid, got, tc.want)
			}
			if got != HrefForUID(tc.ab, tc.uid) {
				t.Errorf("HrefForUID is not deterministic")
			}
			// Whatever the UID, the href is a direct member of the collection.
			base, _ := url.Parse("https://h.example/")
			col, _ := collectionPath(strings.TrimPrefix(tc.ab, "https://h.example"))
			if _, self, err := memberOf(base, col, got); err != nil || self {
				t.Errorf("href %q is not a member of %s: %v", got, col, err)
			}
		})
	}
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

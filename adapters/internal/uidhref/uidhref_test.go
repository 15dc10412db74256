package uidhref

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	long := strings.Repeat("x", 65)
	cases := []struct {
		name, uid, want string
	}{
		{"plain UID kept", "abc-123@example.org", "abc-123@example.org.vcf"},
		{"letters and digits kept", plainChars[:62], plainChars[:62] + ".vcf"},
		{"punctuation kept", "x" + plainChars[62:], "x" + plainChars[62:] + ".vcf"},
		{"64 bytes kept", long[:64], long[:64] + ".vcf"},
		{"65 bytes hashed", long, "~" + hashHex(long) + ".vcf"},
		{"empty hashed", "", "~" + hashHex("") + ".vcf"},
		{"slash hashed", "a/b", "~" + hashHex("a/b") + ".vcf"},
		{"query and fragment hashed", "a?b#c", "~" + hashHex("a?b#c") + ".vcf"},
		{"dot-dot hashed", "..", "~" + hashHex("..") + ".vcf"},
		{"leading dot hashed", ".hidden", "~" + hashHex(".hidden") + ".vcf"},
		{"colon hashed", "urn:uuid:1", "~" + hashHex("urn:uuid:1") + ".vcf"},
		{"percent hashed", "%2F", "~" + hashHex("%2F") + ".vcf"},
		{"space hashed", "a b", "~" + hashHex("a b") + ".vcf"},
		{"non-ASCII hashed", "ü", "~" + hashHex("ü") + ".vcf"},
		{"tilde hashed, so the forms never collide", "~" + hashHex("x"), "~" + hashHex("~"+hashHex("x")) + ".vcf"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Name(tc.uid)
			if got != tc.want {
				t.Errorf("Name(%q) = %q; want %q", tc.uid, got, tc.want)
			}
			if url.PathEscape(got) != got || strings.Contains(got, "/") {
				t.Errorf("Name(%q) = %q needs escaping in a path segment", tc.uid, got)
			}
		})
	}
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

package engine

import (
	"strings"
	"testing"
)

func vcf(lines ...string) []byte {
	return []byte(strings.Join(append(append([]string{"BEGIN:VCARD", "VERSION:3.0"}, lines...), "END:VCARD"), "\r\n") + "\r\n")
}

func TestSameContent(t *testing.T) {
	base := vcf("UID:u", "FN:Ann", "EMAIL;TYPE=work:a@x", "EMAIL:b@x")
	for _, tc := range []struct {
		name string
		a, b []byte
		want bool
	}{
		{"same bytes", base, base, true},
		{"properties sorted, as Radicale stores them", base, vcf("EMAIL:b@x", "EMAIL;TYPE=work:a@x", "FN:Ann", "UID:u"), true},
		{"names and parameters upper-cased", base, vcf("uid:u", "fn:Ann", "email;type=WORK:a@x", "Email:b@x"), true},
		{"folded differently", base, []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u\r\nFN:A\r\n nn\r\nEMAIL;TYPE=work:a@x\r\nEMAIL:b@x\r\nEND:VCARD\r\n"), true},
		{"a value changed", base, vcf("UID:u", "FN:Anne", "EMAIL;TYPE=work:a@x", "EMAIL:b@x"), false},
		{"a value removed", base, vcf("UID:u", "FN:Ann", "EMAIL;TYPE=work:a@x"), false},
		{"a duplicate added", base, vcf("UID:u", "FN:Ann", "EMAIL;TYPE=work:a@x", "EMAIL:b@x", "EMAIL:b@x"), false},
		{"a parameter changed", base, vcf("UID:u", "FN:Ann", "EMAIL;TYPE=home:a@x", "EMAIL:b@x"), false},
		{"unreadable", base, []byte("BEGIN:VCARD\r\nnot a card"), false},
		{"two cards", base, append(append([]byte{}, base...), base...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameContent(tc.a, tc.b); got != tc.want {
				t.Errorf("sameContent = %v, want %v", got, tc.want)
			}
			if got := sameContent(tc.b, tc.a); got != tc.want {
				t.Errorf("sameContent swapped = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCommonPart(t *testing.T) {
	for _, tc := range []struct {
		name          string
		mine, theirs  []byte
		want          []byte // nil: no base
		wantSameBytes bool
	}{
		{"theirs is mine re-serialized", vcf("UID:u", "FN:Ann", "EMAIL:a@x"), vcf("EMAIL:a@x", "FN:Ann", "UID:u"), vcf("UID:u", "FN:Ann", "EMAIL:a@x"), true},
		{"theirs edited mine", vcf("UID:u", "FN:Ann", "EMAIL:a@x", "EMAIL:b@x"), vcf("UID:u", "FN:Anne", "EMAIL:a@x", "EMAIL:b@x", "NOTE:n"), vcf("UID:u", "EMAIL:a@x", "EMAIL:b@x"), true},
		{"one of two equal values shared", vcf("UID:u", "FN:Ann", "TEL:1", "TEL:1"), vcf("UID:u", "FN:Ann", "TEL:1"), vcf("UID:u", "FN:Ann", "TEL:1"), false},
		{"theirs unreadable", vcf("UID:u", "FN:Ann"), []byte("garbage"), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := commonPart(tc.mine, tc.theirs)
			switch {
			case tc.want == nil && got != nil:
				t.Fatalf("commonPart = %q, want none", got)
			case tc.want == nil:
				return
			case !sameContent(got, tc.want):
				t.Fatalf("commonPart = %q, want the content of %q", got, tc.want)
			case tc.wantSameBytes && string(got) != string(tc.want):
				t.Fatalf("commonPart = %q, want mine's bytes %q", got, tc.want)
			}
		})
	}
}

func TestRewrittenOnly(t *testing.T) {
	sent := vcf("UID:u", "FN:Ann", "ORG:Umbrella Ltd;Legal;;", `NOTE:ends in an escaped semicolon\;`)
	for _, tc := range []struct {
		name   string
		stored []byte
		want   bool
	}{
		{"sorted, trailing empty ORG components dropped (Radicale 3.1.8)",
			vcf("FN:Ann", `NOTE:ends in an escaped semicolon\;`, "ORG:Umbrella Ltd;Legal", "UID:u"), true},
		{"same content", vcf("FN:Ann", "UID:u", "ORG:Umbrella Ltd;Legal;;", `NOTE:ends in an escaped semicolon\;`), true},
		{"an escaped semicolon is data", vcf("UID:u", "FN:Ann", "ORG:Umbrella Ltd;Legal;;", `NOTE:ends in an escaped semicolon`), false},
		{"another value", vcf("UID:u", "FN:Ann", "ORG:Umbrella Ltd;Sales", `NOTE:ends in an escaped semicolon\;`), false},
		{"a property more", vcf("UID:u", "FN:Ann", "ORG:Umbrella Ltd;Legal;;", `NOTE:ends in an escaped semicolon\;`, "TEL:1"), false},
		{"unreadable", []byte("not a card"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rewrittenOnly(sent, tc.stored); got != tc.want {
				t.Fatalf("rewrittenOnly = %v, want %v", got, tc.want)
			}
		})
	}
}

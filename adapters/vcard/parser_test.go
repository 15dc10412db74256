package vcard

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseQuirks(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		version string            // Version() of the first card
		values  map[string]string // property name -> Text() of the first one
		cards   int
	}{
		{name: "CRLF", in: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n",
			version: "3.0", values: map[string]string{"FN": "A"}, cards: 1},
		{name: "LF without final newline", in: "BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD",
			version: "4.0", values: map[string]string{"FN": "A"}, cards: 1},
		{name: "CR only", in: "BEGIN:VCARD\rVERSION:3.0\rFN:A\r B\rEND:VCARD\r",
			version: "3.0", values: map[string]string{"FN": "AB"}, cards: 1},
		{name: "CR CR LF", in: "BEGIN:VCARD\r\r\nVERSION:3.0\r\r\nNOTE:a\r\r\n b\r\r\nEND:VCARD\r\r\n",
			version: "3.0", values: map[string]string{"NOTE": "ab"}, cards: 1},
		{name: "mixed endings", in: "BEGIN:VCARD\r\nVERSION:3.0\nFN:A\rNOTE:x\r\n y\nEND:VCARD\r",
			version: "3.0", values: map[string]string{"FN": "A", "NOTE": "xy"}, cards: 1},
		{name: "byte order mark", in: "\xef\xbb\xbfBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ä\r\nEND:VCARD\r\n",
			version: "3.0", values: map[string]string{"FN": "Ä"}, cards: 1},
		{name: "lower case and no VERSION", in: "begin:vcard\nfn:a\nend:vcard\n",
			version: "", values: map[string]string{"FN": "a"}, cards: 1},
		{name: "blank lines and comments inside", in: "BEGIN:VCARD\n\nVERSION:4.0\n# a comment\n\nFN:A\n\nEND:VCARD\n",
			version: "4.0", values: map[string]string{"FN": "A"}, cards: 1},
		{name: "fold with tab", in: "BEGIN:VCARD\nVERSION:3.0\nNOTE:a\n\tb\nEND:VCARD\n",
			values: map[string]string{"NOTE": "ab"}, version: "3.0", cards: 1},
		{name: "escapes", in: "BEGIN:VCARD\nVERSION:3.0\nNOTE:a\\nb\\,c\\;d\\\\e\\:f\nEND:VCARD\n",
			version: "3.0", values: map[string]string{"NOTE": "a\nb,c;d\\e:f"}, cards: 1},
		{name: "2.1 quoted-printable soft breaks", in: "BEGIN:VCARD\r\nVERSION:2.1\r\n" +
			"NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BC=\r\nller=0D=0Ax\r\nEND:VCARD\r\n",
			version: "2.1", values: map[string]string{"NOTE": "Müller\nx"}, cards: 1},
		{name: "2.1 bare QUOTED-PRINTABLE", in: "BEGIN:VCARD\nVERSION:2.1\nLABEL;QUOTED-PRINTABLE;WORK:a=0Ab\nEND:VCARD\n",
			version: "2.1", values: map[string]string{"LABEL": "a\nb"}, cards: 1},
		{name: "2.1 SHIFT_JIS", in: "BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=SHIFT_JIS:\x88\xc0\x93\xa1\r\nEND:VCARD\r\n",
			version: "2.1", values: map[string]string{"FN": "安藤"}, cards: 1},
		{name: "ISO-8859-1", in: "BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=ISO-8859-1:M\xfcller\nEND:VCARD\n",
			version: "2.1", values: map[string]string{"FN": "Müller"}, cards: 1},
		{name: "raw latin1 without CHARSET", in: "BEGIN:VCARD\nVERSION:3.0\nFN:M\xfcller\nEND:VCARD\n",
			version: "3.0", values: map[string]string{"FN": "Müller"}, cards: 1},
		{name: "unknown CHARSET on UTF-8 text", in: "BEGIN:VCARD\nVERSION:3.0\nFN;CHARSET=X-NONE:Zoë\nEND:VCARD\n",
			version: "3.0", values: map[string]string{"FN": "Zoë"}, cards: 1},
		{name: "2.1 base64 without blank line", in: "BEGIN:VCARD\r\nVERSION:2.1\r\nPHOTO;ENCODING=BASE64;JPEG:\r\n" +
			" AAAA\r\n BBBB\r\nFN:A\r\nEND:VCARD\r\n",
			version: "2.1", values: map[string]string{"PHOTO": "AAAABBBB", "FN": "A"}, cards: 1},
		{name: "2.1 base64 unindented with blank line", in: "BEGIN:VCARD\r\nVERSION:2.1\r\nPHOTO;BASE64:AAAA\r\n" +
			"BBBB\r\n\r\nFN:A\r\nEND:VCARD\r\n",
			version: "2.1", values: map[string]string{"PHOTO": "AAAABBBB", "FN": "A"}, cards: 1},
		{name: "value broken by raw newlines", in: "BEGIN:VCARD\nVERSION:3.0\nLABEL:1 Main St\nSpringfield\nFN:A\nEND:VCARD\n",
			version: "3.0", values: map[string]string{"LABEL": "1 Main St\nSpringfield", "FN": "A"}, cards: 1},
		{name: "quoted colon in parameter", in: "BEGIN:VCARD\nVERSION:3.0\nTEL;TYPE=\"a:b\":1\nEND:VCARD\n",
			version: "3.0", values: map[string]string{"TEL": "1"}, cards: 1},
		{name: "property without colon", in: "BEGIN:VCARD\nFN\nN:A;B\nEND:VCARD\n",
			values: map[string]string{"FN": "", "N": "A;B"}, cards: 1},
		{name: "nested cards", in: "BEGIN:VCARD\nVERSION:2.1\nN:parent\nBEGIN:VCARD\nN:child\nEND:VCARD\nTEL:1\nEND:VCARD\n",
			version: "2.1", values: map[string]string{"N": "parent", "TEL": "1"}, cards: 1},
		{name: "two cards with filler between", in: "\n# export\nBEGIN:VCARD\nFN:A\nEND:VCARD\n\n\nBEGIN:VCARD\nFN:B\nEND:VCARD\n\n",
			values: map[string]string{"FN": "A"}, cards: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cards, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(cards) != tt.cards {
				t.Fatalf("%d cards, want %d", len(cards), tt.cards)
			}
			c := cards[0]
			if got := c.Version(); got != tt.version {
				t.Errorf("Version() = %q, want %q", got, tt.version)
			}
			for name, want := range tt.values {
				p := c.Get(name)
				if p == nil {
					t.Errorf("no %s", name)
					continue
				}
				if got := p.Text(); got != want {
					t.Errorf("%s Text() = %q, want %q", name, got, want)
				}
			}
			var all []byte
			for _, c := range cards {
				b := c.Bytes()
				if !bytes.Contains([]byte(tt.in), b) {
					t.Errorf("Bytes() %q is not a slice of the input", b)
				}
				all = append(all, b...)
			}
			if !isFillerOnly(removeAll([]byte(tt.in), cards)) {
				t.Errorf("cards %q do not cover the input's content", all)
			}
		})
	}
}

func removeAll(in []byte, cards []*Card) []byte {
	for _, c := range cards {
		in = bytes.Replace(in, c.Bytes(), nil, 1)
	}
	return in
}

func TestParseNested(t *testing.T) {
	in := "BEGIN:VCARD\nVERSION:2.1\nN:parent\nBEGIN:VCARD\nN:child\nEND:VCARD\nTEL:1\nEND:VCARD\n"
	cards, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(cards[0].Nested) != 1 || cards[0].Nested[0].Get("N").Value != "child" {
		t.Fatalf("nested card not read: %+v", cards[0].Nested)
	}
	if string(cards[0].Bytes()) != in {
		t.Errorf("Bytes() = %q, want the input", cards[0].Bytes())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      []error // one per *ParseError, in order
		lines     []int
		cardNos   []int
		readCards []string // FN of the cards still read
	}{
		{name: "unparsable line",
			in:   "BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\n??? not a property\nEND:VCARD\nBEGIN:VCARD\nFN:C\nEND:VCARD\n",
			want: []error{ErrSyntax}, lines: []int{6}, cardNos: []int{2}, readCards: []string{"A", "C"}},
		{name: "a line without a colon is never glued onto FN",
			in:   "BEGIN:VCARD\nVERSION:3.0\nUID:x\nFN:Alice\nthis line has no colon\nEND:VCARD\nBEGIN:VCARD\nFN:B\nEND:VCARD\n",
			want: []error{ErrSyntax}, lines: []int{5}, cardNos: []int{1}, readCards: []string{"B"}},
		{name: "nor onto TEL",
			in:   "BEGIN:VCARD\nVERSION:3.0\nFN:A\nTEL:+1 555\n0100\nEND:VCARD\n",
			want: []error{ErrSyntax}, lines: []int{5}, cardNos: []int{1}, readCards: nil},
		{name: "unknown charset on legacy bytes",
			in:   "BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nVERSION:2.1\nN:x\nFN;CHARSET=X-KLINGON:\xff\xfe\nEND:VCARD\n",
			want: []error{ErrCharset}, lines: []int{7}, cardNos: []int{2}, readCards: []string{"A"}},
		{name: "bad charset does not cost the next card",
			in:   "BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=X-KLINGON:\xff\nEND:VCARD\nBEGIN:VCARD\nFN:B\nEND:VCARD\n",
			want: []error{ErrCharset}, lines: []int{3}, cardNos: []int{1}, readCards: []string{"B"}},
		{name: "bad line in a nested card skips its parent",
			in:   "BEGIN:VCARD\nFN:A\nBEGIN:VCARD\nVERSION:2.1\n???\nEND:VCARD\nNOTE:parent\nEND:VCARD\nBEGIN:VCARD\nFN:B\nEND:VCARD\n",
			want: []error{ErrSyntax}, lines: []int{5}, cardNos: []int{1}, readCards: []string{"B"}},
		{name: "truncated last card",
			in:   "BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\n",
			want: []error{ErrNoEnd}, lines: []int{4}, cardNos: []int{2}, readCards: []string{"A"}},
		{name: "missing END before the next card",
			in:   "BEGIN:VCARD\nFN:A\nBEGIN:VCARD\nFN:B\nEND:VCARD\n",
			want: []error{ErrNoEnd}, lines: []int{1}, cardNos: []int{1}, readCards: []string{"B"}},
		{name: "content outside a card",
			in:   "FN:loose\nNOTE:x\nBEGIN:VCARD\nFN:A\nEND:VCARD\nEND:VCARD\n",
			want: []error{ErrOutsideCard, ErrStrayEnd}, lines: []int{1, 6}, cardNos: []int{0, 0}, readCards: []string{"A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cards, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			var errs []*ParseError
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var pe *ParseError
				if !errors.As(e, &pe) {
					t.Fatalf("%v is not a *ParseError", e)
				}
				errs = append(errs, pe)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("errors %v, want %d", err, len(tt.want))
			}
			for i, pe := range errs {
				if !errors.Is(pe, tt.want[i]) || pe.Line != tt.lines[i] || pe.Card != tt.cardNos[i] {
					t.Errorf("error %d = %v (card %d line %d), want %v at card %d line %d",
						i, pe, pe.Card, pe.Line, tt.want[i], tt.cardNos[i], tt.lines[i])
				}
				if !strings.Contains(pe.Error(), "line") {
					t.Errorf("message %q does not name the line", pe.Error())
				}
			}
			var got []string
			for _, c := range cards {
				got = append(got, c.Get("FN").Value)
			}
			if strings.Join(got, ",") != strings.Join(tt.readCards, ",") {
				t.Errorf("cards read %v, want %v", got, tt.readCards)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse([]byte("BEGIN:VCARD\nVERSION:3.0\n??? bad\nEND:VCARD\n"))
	want := `vcard: card 1, line 3: not a vCard content line: "??? bad"`
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Truncated() {
		t.Errorf("Truncated() should be false for %v", err)
	}
	_, err = Parse([]byte("BEGIN:VCARD\nFN:x\n"))
	if !errors.As(err, &pe) || !pe.Truncated() {
		t.Errorf("Truncated() should be true for %v", err)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n\n", "\xef\xbb\xbf", "# nothing\r\n"} {
		cards, err := Parse([]byte(in))
		if err != nil || len(cards) != 0 {
			t.Errorf("Parse(%q) = %d cards, %v; want none and no error", in, len(cards), err)
		}
	}
}

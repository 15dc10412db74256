package vcard

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// appleCard has what a careless writer breaks: groups with labels, odd
// parameter spelling and quoting, folding, an escaped comma, a comment.
const appleCard = "BEGIN:VCARD\r\n" +
	"VERSION:3.0\r\n" +
	"N:Doe;John;Richter\\,James;Mr.;Sr.\r\n" +
	"FN:Mr. John Richter\\,James Doe Sr.\r\n" +
	"EMAIL;type=INTERNET;type=WORK;type=pref:john.doe@ibm.com\r\n" +
	"TEL;type=WORK;type=pref:905-777-1234\r\n" +
	"item1.TEL:905-222-1234\r\n" +
	"item1.X-ABLabel:AssistantPhone\r\n" +
	"# kept comment\r\n" +
	"NOTE:a long note that is folded over more than one line because it is l\r\n" +
	" onger than seventy-five octets\r\n" +
	"TEL;TYPE=\"cell,voice\":905-555-1234\r\n" +
	"CATEGORIES:a\\,b,c\r\n" +
	"END:VCARD\r\n"

func parseOne(t *testing.T, in string) *Card {
	t.Helper()
	cards, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) != 1 {
		t.Fatalf("%d cards", len(cards))
	}
	return cards[0]
}

func TestEditHelpersKeepOtherBytes(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Card)
		want string // the card after the edit
	}{
		{"nothing", func(c *Card) {}, appleCard},
		{"set value of one TEL", func(c *Card) { c.All("TEL")[1].SetText("905-222-9999") },
			strings.Replace(appleCard, "item1.TEL:905-222-1234", "item1.TEL:905-222-9999", 1)},
		{"assign Value directly", func(c *Card) { c.Get("NOTE").Value = "short" },
			strings.Replace(appleCard, "NOTE:a long note that is folded over more than one line because it is l\r\n onger than seventy-five octets", "NOTE:short", 1)},
		{"same value again is no change", func(c *Card) { c.Get("FN").SetText(c.Get("FN").Text()) }, appleCard},
		{"Set existing", func(c *Card) { c.Set("FN", "Johnny") },
			strings.Replace(appleCard, "FN:Mr. John Richter\\,James Doe Sr.", "FN:Johnny", 1)},
		{"Set new goes last", func(c *Card) { c.Set("TITLE", "Boss") },
			strings.Replace(appleCard, "END:VCARD", "TITLE:Boss\r\nEND:VCARD", 1)},
		{"Add next to its kind", func(c *Card) { c.Add(NewProperty("", "EMAIL", "j@example.com")) },
			strings.Replace(appleCard, "TEL;type=WORK", "EMAIL:j@example.com\r\nTEL;type=WORK", 1)},
		{"Remove keeps the comment", func(c *Card) { c.Remove(c.Get("NOTE")) },
			strings.Replace(appleCard, "NOTE:a long note that is folded over more than one line because it is l\r\n onger than seventy-five octets\r\n", "", 1)},
		{"RemoveAll", func(c *Card) {
			if n := c.RemoveAll("tel"); n != 3 {
				panic(n)
			}
		}, strings.NewReplacer("TEL;type=WORK;type=pref:905-777-1234\r\n", "", "item1.TEL:905-222-1234\r\n", "",
			"TEL;TYPE=\"cell,voice\":905-555-1234\r\n", "").Replace(appleCard)},
		{"param change keeps other params' spelling", func(c *Card) { c.Get("EMAIL").Params.Set("X-A", "1") },
			strings.Replace(appleCard, "type=pref:john", "type=pref;X-A=1:john", 1)},
		{"group case kept", func(c *Card) { c.Get("X-ABLABEL").SetText("Boss") },
			strings.Replace(appleCard, "item1.X-ABLabel:AssistantPhone", "item1.X-ABLabel:Boss", 1)},
		{"long value folds at 75", func(c *Card) { c.Get("FN").SetText(strings.Repeat("é", 50)) },
			strings.Replace(appleCard, "FN:Mr. John Richter\\,James Doe Sr.", "FN:"+strings.Repeat("é", 36)+"\r\n "+strings.Repeat("é", 14), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseOne(t, appleCard)
			tt.edit(c)
			if got := string(c.Bytes()); got != tt.want {
				t.Errorf("Bytes():\n%s", lineDiff([]byte(tt.want), []byte(got)))
			}
			if c.Modified() != (tt.want != appleCard) {
				t.Errorf("Modified() = %v", c.Modified())
			}
		})
	}
}

func TestPropertyViews(t *testing.T) {
	c := parseOne(t, appleCard)
	if got := c.Get("N").Components(); strings.Join(got, "|") != "Doe|John|Richter,James|Mr.|Sr." {
		t.Errorf("N components %q", got)
	}
	if got := c.Get("CATEGORIES").List(); strings.Join(got, "|") != "a,b|c" {
		t.Errorf("CATEGORIES list %q", got)
	}
	if got := c.Get("EMAIL").Params.Types(); strings.Join(got, ",") != "internet,work,pref" {
		t.Errorf("EMAIL types %q", got)
	}
	tel := c.All("TEL")[2]
	if got := tel.Params.Get("type"); len(got) != 1 || got[0] != "cell,voice" {
		t.Errorf("quoted TYPE value split: %q", got)
	}
	if !tel.Params.HasType("VOICE") {
		t.Error("HasType(VOICE) = false")
	}
	if got := c.Get("NOTE").Raw(); !bytes.HasPrefix(got, []byte("NOTE:a long")) || !bytes.HasSuffix(got, []byte("octets\r\n")) {
		t.Errorf("Raw() = %q", got)
	}
	if c.Get("x-ablabel").Group != "item1" || c.Get("X-ABLABEL").Name != "X-ABLABEL" {
		t.Error("group/name not read")
	}
	if c.Get("NOTE").Line() != 10 {
		t.Errorf("NOTE Line() = %d", c.Get("NOTE").Line())
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"folding, case and param order", "tel;type=work;type=voice:1\r\n", "TEL;TYPE=VOICE;\r\n TYPE=WORK:1\n", true},
		{"quoted type list", "TEL;TYPE=\"cell,voice\":1\n", "TEL;TYPE=cell;TYPE=voice:1\n", true},
		{"2.1 bare type", "TEL;CELL:1\n", "TEL;TYPE=cell:1\n", true},
		{"quoted-printable", "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:M=C3=BCller\n", "NOTE:Müller\n", true},
		{"group case", "ITEM1.TEL:1\n", "item1.TEL:1\n", true},
		{"different value", "TEL:1\n", "TEL:2\n", false},
		{"different group", "item1.TEL:1\n", "item2.TEL:1\n", false},
		{"different type", "TEL;TYPE=work:1\n", "TEL;TYPE=home:1\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := parseOne(t, "BEGIN:VCARD\n"+tt.a+"END:VCARD\n").Props[0]
			b := parseOne(t, "BEGIN:VCARD\n"+tt.b+"END:VCARD\n").Props[0]
			if (a.Canonical() == b.Canonical()) != tt.same {
				t.Errorf("Canonical %q vs %q, want same=%v", a.Canonical(), b.Canonical(), tt.same)
			}
		})
	}
}

func TestCloneIsIndependent(t *testing.T) {
	c := parseOne(t, appleCard)
	d := c.Clone()
	d.Get("FN").SetText("Other")
	d.Get("EMAIL").Params[0].Values[0] = "HOME"
	d.Remove(d.Get("NOTE"))
	if !bytes.Equal(c.Bytes(), []byte(appleCard)) || c.Modified() {
		t.Errorf("editing a clone changed the original:\n%s", lineDiff([]byte(appleCard), c.Bytes()))
	}
	if !d.Modified() {
		t.Error("clone not modified")
	}
}

func TestNewCard(t *testing.T) {
	uuidRe := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, v := range []string{"3.0", "4.0"} {
		c := NewCard(v)
		if c.Version() != v || !uuidRe.MatchString(c.UID()) {
			t.Errorf("NewCard(%s): version %q uid %q", v, c.Version(), c.UID())
		}
		want := "BEGIN:VCARD\r\nVERSION:" + v + "\r\nUID:" + c.UID() + "\r\nEND:VCARD\r\n"
		if got := string(c.Bytes()); got != want {
			t.Errorf("NewCard(%s).Bytes() = %q, want %q", v, got, want)
		}
	}
	if a, b := NewCard("3.0"), NewCard("3.0"); a.UID() == b.UID() {
		t.Error("two new cards share a UID")
	}
	if got := NewCardUID("2.1", "x").Version(); got != "4.0" {
		t.Errorf("NewCardUID(2.1) version %q, want 4.0", got)
	}
}

// Values written afresh must read back the same, whatever they hold.
func TestEncodeReadsBack(t *testing.T) {
	values := []string{"", " lead and trail ", "a;b,c\\d", "line\nbreak", "naïve ☕ 🙂", strings.Repeat("x", 200),
		"=3D literal", "tab\there", strings.Repeat("ü", 80)}
	for _, ver := range []string{"2.1", "3.0", "4.0"} {
		for _, charset := range []string{"", "ISO-8859-1", "SHIFT_JIS"} {
			for _, v := range values {
				c := parseOne(t, "BEGIN:VCARD\r\nVERSION:"+ver+"\r\nFN:x\r\nEND:VCARD\r\n")
				p := NewProperty("", "NOTE", "")
				if charset != "" {
					p.Params.Add("CHARSET", charset)
				}
				c.Add(p)
				p.SetText(v)
				out := c.Bytes()
				for _, l := range lineTexts(out) {
					if len(strings.TrimRight(l, "\r\n")) > maxLine+1 {
						t.Errorf("%s %s %q: line longer than 76 octets: %q", ver, charset, v, l)
					}
				}
				back := parseOne(t, string(out))
				want := strings.ReplaceAll(v, "\r\n", "\n")
				if got := back.Get("NOTE").Text(); got != want {
					t.Errorf("%s %s: wrote %q, read back %q from\n%s", ver, charset, v, got, out)
				}
			}
		}
	}
}

// An indented END, BEGIN or filler line is read after a line that could not fold into it; an edit that puts a
// property right before it must not fold it into that property (a fuzz find: the edited card lost its END).
func TestEditBeforeIndentedLine(t *testing.T) {
	for _, tc := range []struct{ name, card string }{
		{"indented END after a stray line", "BEGIN:VCARD\nX-0:\n!000\n END:VCARD"},
		{"indented END after a stray line, CRLF", "BEGIN:VCARD\r\nNOTE:a\r\nsecond line\r\n\tEND:VCARD\r\n"},
		{"indented comment before END", "BEGIN:VCARD\nNOTE:a\nsecond line\n  # note to self\nEND:VCARD\n"},
		{"indented nested card", "BEGIN:VCARD\nNOTE:a\nsecond line\n BEGIN:VCARD\nFN:n\nEND:VCARD\nFN:x\nEND:VCARD\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parseOne(t, tc.card)
			want := len(c.Props)
			c.Set("UID", "u-1")
			out := c.Bytes()
			back, err := Parse(out)
			if err != nil || len(back) != 1 {
				t.Fatalf("edited card does not read back: %v, %d cards\n%q", err, len(back), out)
			}
			if back[0].UID() != "u-1" || len(back[0].Props) != want+1 {
				t.Fatalf("edited card reads back with UID %q and %d properties, want u-1 and %d:\n%q",
					back[0].UID(), len(back[0].Props), want+1, out)
			}
		})
	}
}

// A quoted-printable value ending in a soft line break swallows the next line; an edit must not put a
// property there.
func TestEditAfterDanglingSoftBreak(t *testing.T) {
	for _, card := range []string{
		"BEGIN:VCARD\nVERSION:2.1\nNOTE;QUOTED-PRINTABLE:caf=C3=A9=\nEND:VCARD",
		"BEGIN:VCARD\r\nVERSION:2.1\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\r\n=3Db=\r\nEND:VCARD\r\n",
	} {
		c := parseOne(t, card)
		note := c.Get("NOTE").Text()
		c.Add(NewProperty("", "X-ADDED", "yes"))
		out := c.Bytes()
		back := parseOne(t, string(out))
		if back.Get("X-ADDED") == nil || back.Get("NOTE").Text() != note {
			t.Fatalf("edited card reads back with X-ADDED %v and NOTE %q, want yes and %q:\n%q",
				back.Get("X-ADDED"), back.Get("NOTE").Text(), note, out)
		}
	}
}

func TestContent(t *testing.T) {
	a := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u\r\nFN:Jo\r\nTEL;TYPE=cell,voice:+1 555\r\nEND:VCARD\r\n"
	// What Radicale makes of it: properties sorted, TYPE spelt apart and in another case, folded, LF only.
	b := "BEGIN:VCARD\nFN:Jo\nTEL;type=VOICE;type=CELL:+1 5\n 55\nUID:u\nVERSION:3.0\nEND:VCARD\n"
	ca, errA := Content([]byte(a))
	cb, errB := Content([]byte(b))
	if errA != nil || errB != nil || !slices.Equal(ca, cb) || len(ca) != 4 {
		t.Fatalf("same data in other bytes: %q (%v) and %q (%v); want the same 4 lines", ca, errA, cb, errB)
	}
	c := strings.Replace(a, "+1 555", "+1 556", 1)
	if cc, err := Content([]byte(c)); err != nil || slices.Equal(ca, cc) {
		t.Fatalf("another number gave the same content %q (%v)", cc, err)
	}
	if _, err := Content([]byte(a + a)); err == nil {
		t.Fatal("two cards gave content")
	}
	if _, err := Content([]byte("BEGIN:VCARD\r\nFN:x\r\n")); err == nil {
		t.Fatal("a truncated card gave content")
	}
}

package conflict_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/conflict"
)

// TestResolve picks the loser of every conflict of every scenario: the
// loser's lines replace the winner's (or the winner goes, for a deletion),
// and every other property keeps its bytes.
func TestResolve(t *testing.T) {
	n := 0
	for _, dir := range scenarioDirs(t) {
		res, err := conflict.Merge(readCard(t, dir, "base.vcf"), readCard(t, dir, "local.vcf"), readCard(t, dir, "remote.vcf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Conflicts {
			n++
			t.Run(filepath.Base(dir)+"/"+c.Property, func(t *testing.T) {
				out, err := conflict.Resolve(res.Card, c)
				if err != nil {
					t.Fatal(err)
				}
				if c.Property == "" {
					if out != nil {
						t.Fatalf("resolving a deleted contact's conflict keeps the contact")
					}
					return
				}
				checkResolved(t, res.Card, out, c)
			})
		}
	}
	if n == 0 {
		t.Fatal("no scenario has a conflict")
	}
}

// checkResolved checks that out is card with c's winner swapped for c's loser.
func checkResolved(t *testing.T, card, out *vcard.Card, c conflict.Decision) {
	t.Helper()
	has := func(card *vcard.Card, line string) bool {
		return slices.ContainsFunc(card.Props, func(p *vcard.Property) bool { return sameLine(p, line) })
	}
	if c.Loser != "" {
		for _, line := range strings.Split(c.Loser, "\n") {
			if !has(out, regrouped(line, c.Group)) {
				t.Errorf("loser line %q not in the resolved card:\n%s", line, out.Bytes())
			}
		}
	}
	for _, line := range strings.Split(c.Winner, "\n") {
		if has(out, line) && !strings.Contains(c.Loser, line) {
			t.Errorf("winner line %q still in the resolved card:\n%s", line, out.Bytes())
		}
	}
	kept := 0
	for _, p := range out.Props {
		if p.Raw() != nil {
			kept++
		}
	}
	if want := len(card.Props) - strings.Count(c.Winner, "\n") - 1; kept != want {
		t.Errorf("%d properties keep their bytes, want %d:\n%s", kept, want, out.Bytes())
	}
	if _, err := parseOne(out.Bytes()); err != nil {
		t.Errorf("resolved card does not parse: %v", err)
	}
}

// regrouped puts a content line in group g, as Resolve does with a loser
// whose group was renamed in the merged card.
func regrouped(line, g string) string {
	name, rest, ok := strings.Cut(line, ".")
	if g == "" || !ok || strings.ContainsAny(name, ";:") {
		return line
	}
	return g + "." + rest
}

// TestResolveQuotedPrintable: a vCard 2.1 value written quoted-printable
// (with a line break) goes into a Conflict as a plain line and comes back.
func TestResolveQuotedPrintable(t *testing.T) {
	card := func(note string) *vcard.Card {
		c, err := parseOne([]byte("BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;Jo\r\nNOTE;ENCODING=QUOTED-PRINTABLE:" + note + "\r\nEND:VCARD\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	res, err := conflict.Merge(card("first=0D=0Aline"), card("second=0D=0Aline"), card("third=0D=0Aline"))
	if err != nil || len(res.Conflicts) != 1 {
		t.Fatalf("want one conflict: %+v, %v", res.Conflicts, err)
	}
	c := res.Conflicts[0]
	if c.Winner != `NOTE:third\nline` || c.Loser != `NOTE:second\nline` {
		t.Errorf("conflict lines %q / %q", c.Winner, c.Loser)
	}
	out, err := conflict.Resolve(res.Card, c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := parseOne(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Get("NOTE").Text(); got != "second\nline" {
		t.Errorf("resolved NOTE %q:\n%s", got, out.Bytes())
	}
}

func TestResolveErrors(t *testing.T) {
	dir := filepath.Join("..", "testdata", "merge", "single-rev-wins")
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	base := readCard(t, dir, "base.vcf")
	res, err := conflict.Merge(base, readCard(t, dir, "local.vcf"), readCard(t, dir, "remote.vcf"))
	if err != nil || len(res.Conflicts) != 1 {
		t.Fatalf("want one conflict: %+v, %v", res.Conflicts, err)
	}
	c := res.Conflicts[0]
	// The base never held the winner: resolving there could undo a newer edit.
	if _, err := conflict.Resolve(base, c); !errors.Is(err, conflict.ErrStale) {
		t.Errorf("resolve on a card without the winner: %v, want ErrStale", err)
	}
	bad := c
	bad.Loser = "this is not a content line"
	if _, err := conflict.Resolve(res.Card, bad); !errors.Is(err, conflict.ErrBadConflict) {
		t.Errorf("resolve with a broken loser: %v, want ErrBadConflict", err)
	}
	// Resolving leaves the card it was given alone.
	before := string(res.Card.Bytes())
	if _, err := conflict.Resolve(res.Card, c); err != nil || string(res.Card.Bytes()) != before {
		t.Errorf("resolve changed its input (err %v)", err)
	}
}

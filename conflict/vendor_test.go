package conflict_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/conflict"
)

// vendorCorpus is the shared corpus of real vCards, beside the repository.
// Its cards from KDE, Evolution, DAVx5, Nextcloud and khard are under
// (L/A)GPL and may not be copied into testdata/merge, so they are read
// from here instead.
var vendorCorpus = filepath.Join("..", "..", "shared", "corpus", "vcards")

// majorVendors must each give at least one card to TestVendorCardsMerge,
// so that a corpus that lost a vendor's files fails instead of passing on
// what is left.
var majorVendors = []string{
	"kcontacts", "eds", "davx5-vcard4android", "nextcloud-contacts", "khard",
	"android-vcard", "ezvcard", "sabre-vobject", "gaia",
}

// sideEdit is one side's edit of a card, as a client would make it with
// the vcard edit API: it reports the properties of c it changed in place
// and the properties it wants in the merged card.
type sideEdit func(c *vcard.Card) (touched, want []*vcard.Property)

// setText gives the first property called name the text s (adding the
// property when there is none), as Card.Set does.
func setText(name, s string) sideEdit {
	return func(c *vcard.Card) ([]*vcard.Property, []*vcard.Property) {
		old := c.Get(name)
		p := c.Set(name, "")
		p.SetText(s)
		if old == nil {
			return nil, []*vcard.Property{p}
		}
		return []*vcard.Property{p}, []*vcard.Property{p}
	}
}

// add adds a new property among the others of its name.
func add(name, value, typ string) sideEdit {
	return func(c *vcard.Card) ([]*vcard.Property, []*vcard.Property) {
		p := vcard.NewProperty("", name, value, vcard.Param{Name: "TYPE", Values: []string{typ}})
		c.Add(p)
		return nil, []*vcard.Property{p}
	}
}

// both applies several edits in turn.
func both(edits ...sideEdit) sideEdit {
	return func(c *vcard.Card) ([]*vcard.Property, []*vcard.Property) {
		var touched, want []*vcard.Property
		for _, e := range edits {
			t, w := e(c)
			touched, want = append(touched, t...), append(want, w...)
		}
		return touched, want
	}
}

// singleValued is the first single-valued property the card holds exactly
// once, the one both sides then change differently; NOTE (added on both
// sides) when the card has none.
func singleValued(c *vcard.Card) string {
	for _, name := range []string{"FN", "TITLE", "NOTE"} {
		if ps := c.All(name); len(ps) == 1 && ps[0].Group == "" {
			return name
		}
	}
	return "NOTE"
}

// TestVendorCardsMerge edits every card of the shared corpus that the
// reader takes, on two sides at once, and merges the two versions in both
// orders: the orders must agree byte for byte, both sides' edits must be
// in the result, every property neither side touched must keep its bytes
// and order, a property both sides changed must give exactly one
// Conflict whose loser is the other value, and the result must read back
// as itself.
func TestVendorCardsMerge(t *testing.T) {
	files := vendorFiles(t)
	counts := map[string]int{}
	total := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Parse returns every card it could read even when others fail;
		// those are exactly the cards a sync would merge.
		cards, _ := vcard.Parse(data)
		vendor, _, _ := strings.Cut(filepath.Base(path), "__")
		for i, base := range cards {
			name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
			if len(cards) > 1 {
				name = fmt.Sprintf("%s#%d", name, i+1)
			}
			counts[vendor]++
			total++
			t.Run(name, func(t *testing.T) {
				t.Run("different properties", func(t *testing.T) {
					checkVendorMerge(t, base,
						both(setText("NOTE", "Edited here; with, escapes\nand a second line — ü"), add("TEL", "+1 555 0100", "cell")),
						both(add("EMAIL", "remote-edit@example.org", "work"), setText("TITLE", "Remote title")),
						"")
				})
				prop := singleValued(base)
				// Neither card has a later REV, so the greater content wins:
				// alternate which side that is.
				lv, rv := "Local "+prop, "Remote "+prop
				if total%2 == 1 {
					lv = "Zed local " + prop
				}
				t.Run("both change "+prop, func(t *testing.T) {
					checkVendorMerge(t, base, setText(prop, lv), setText(prop, rv), prop)
				})
			})
		}
	}
	for _, v := range majorVendors {
		if counts[v] == 0 {
			t.Errorf("vendor %s gives no card the reader takes in %s", v, vendorCorpus)
		}
	}
	vendors := make([]string, 0, len(counts))
	for v := range counts {
		vendors = append(vendors, v)
	}
	slices.Sort(vendors)
	for _, v := range vendors {
		t.Logf("%-22s %3d cards", v, counts[v])
	}
}

// vendorFiles lists the corpus files; without the corpus the test skips,
// except under CI, where the corpus is part of the machine.
func vendorFiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(vendorCorpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the shared vCard corpus is missing: %v", err)
		}
		t.Skipf("shared vCard corpus not found: %v", err)
	}
	var files []string
	for _, dir := range []string{"valid", "quirky"} {
		m, err := filepath.Glob(filepath.Join(vendorCorpus, dir, "*.vcf"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no .vcf files under %s/{valid,quirky}", vendorCorpus)
	}
	return files
}

// checkVendorMerge applies local and remote to copies of base, merges
// them both ways round and checks the result. conflictOn names the
// single-valued property both edits change, "" when they touch different
// properties and no Conflict may arise.
func checkVendorMerge(t *testing.T, base *vcard.Card, local, remote sideEdit, conflictOn string) {
	t.Helper()
	l, r := base.Clone(), base.Clone()
	lTouched, lWant := applyEdit(l, local)
	rTouched, rWant := applyEdit(r, remote)

	lr, err := conflict.Merge(base, l, r)
	if err != nil {
		t.Fatalf("merge local, remote: %v", err)
	}
	rl, err := conflict.Merge(base, r, l)
	if err != nil {
		t.Fatalf("merge remote, local: %v", err)
	}
	if lr.Card == nil {
		t.Fatalf("merge deleted the contact")
	}
	got := lr.Card
	if !sameBytes(got, rl.Card) {
		t.Errorf("the two orders differ:\nlocal, remote:\n%s\nremote, local:\n%s", bytesOf(got), bytesOf(rl.Card))
	}
	if want := swapped(lr.Conflicts); !slices.Equal(rl.Conflicts, want) {
		t.Errorf("conflicts of the two orders differ:\nlocal, remote: %+v\nremote, local: %+v", lr.Conflicts, rl.Conflicts)
	}

	have := canonical(got)
	if conflictOn == "" {
		if len(lr.Conflicts) != 0 {
			t.Errorf("edits of different properties gave conflicts: %+v", lr.Conflicts)
		}
		for _, p := range append(lWant, rWant...) {
			if !slices.Contains(have, p.Canonical()) {
				t.Errorf("edit lost: %s not in\n%s", p.Canonical(), got.Bytes())
			}
		}
	} else {
		checkOneConflict(t, got, lr.Conflicts, conflictOn, lWant[0], rWant[0])
	}

	// An edited property replaces the base's: its old text must not
	// survive beside the edit.
	for _, edit := range []struct {
		touched []int
		side    *vcard.Card
	}{{lTouched, l}, {rTouched, r}} {
		for _, i := range edit.touched {
			old := base.Props[i].Canonical()
			if n, want := count(have, old), count(canonical(edit.side), old); n != want {
				t.Errorf("edited %s: old text %q appears %d times, want %d", base.Props[i].Name, old, n, want)
			}
		}
	}

	checkUntouched(t, base, got, append(lTouched, rTouched...))

	again, err := parseOne(got.Bytes())
	if err != nil {
		t.Fatalf("merged card does not read back: %v\n%s", err, got.Bytes())
	}
	if !bytes.Equal(again.Bytes(), got.Bytes()) || !slices.Equal(canonical(again), have) {
		t.Errorf("merged card reads back as another card:\nmerged:\n%s\nread back:\n%q\nwas:\n%q", got.Bytes(), canonical(again), have)
	}
}

// applyEdit applies e to c, a clone of the base, and reports the base indices
// of the properties it changed.
func applyEdit(c *vcard.Card, e sideEdit) ([]int, []*vcard.Property) {
	before := slices.Clone(c.Props)
	touched, want := e(c)
	idx := make([]int, len(touched))
	for i, p := range touched {
		idx[i] = slices.Index(before, p)
	}
	return idx, want
}

// checkOneConflict checks that a property both sides changed differently
// gives exactly one Conflict, that the card holds one of the two values and
// that the Conflict's loser is the other.
func checkOneConflict(t *testing.T, got *vcard.Card, cs []conflict.Decision, name string, l, r *vcard.Property) {
	t.Helper()
	if len(cs) != 1 {
		t.Fatalf("both sides changed %s: %d conflicts, want 1: %+v\n%s", name, len(cs), cs, got.Bytes())
	}
	c := cs[0]
	if c.Property != name || c.Kind != conflict.KindEdit {
		t.Errorf("conflict on %q kind %q, want %q kind %q", c.Property, c.Kind, name, conflict.KindEdit)
	}
	ps := got.All(name)
	if len(ps) != 1 {
		t.Fatalf("merged card holds %d %s, want 1:\n%s", len(ps), name, got.Bytes())
	}
	winner, loser, loserSide := l, r, conflict.RemoteSide
	if ps[0].Canonical() == r.Canonical() {
		winner, loser, loserSide = r, l, conflict.LocalSide
	}
	if ps[0].Canonical() != winner.Canonical() {
		t.Fatalf("merged %s is %q, neither side's value (%q, %q)", name, ps[0].Canonical(), l.Canonical(), r.Canonical())
	}
	losers := loserProps(cs)
	if len(losers) != 1 || losers[0].Canonical() != loser.Canonical() {
		t.Errorf("conflict loser %q, want %q", c.Loser, loser.Canonical())
	}
	if c.Side != loserSide {
		t.Errorf("conflict names %s as the loser, want %s", c.Side, loserSide)
	}
}

// checkUntouched checks that every base property outside touched is in got
// with its exact original bytes, in base order.
func checkUntouched(t *testing.T, base, got *vcard.Card, touched []int) {
	t.Helper()
	var keep [][]byte
	for i, p := range base.Props {
		if slices.Contains(touched, i) {
			continue
		}
		// A nil Raw would match every property the merge wrote afresh.
		if p.Raw() == nil {
			t.Fatalf("base property %s has no original bytes", p.Name)
		}
		keep = append(keep, p.Raw())
	}
	next := 0
	for _, p := range got.Props {
		if next < len(keep) && bytes.Equal(p.Raw(), keep[next]) {
			next++
		}
	}
	if next < len(keep) {
		t.Errorf("untouched property lost its bytes or its place: %q (%d of %d kept in order)\nmerged:\n%s",
			keep[next], next, len(keep), got.Bytes())
	}
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

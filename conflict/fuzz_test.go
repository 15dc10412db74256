package conflict_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/conflict"
)

// FuzzMerge feeds arbitrary triples of texts. Each text is read as the
// first card it holds, or as no card. Merge must not panic, must be
// symmetric, and its card must read back to the same bytes; Resolve must
// apply each conflict to it. The seed corpus is every scenario under
// testdata/merge.
func FuzzMerge(f *testing.F) {
	for _, dir := range scenarioDirs(f) {
		var triple [3][]byte
		for i, name := range []string{"base.vcf", "local.vcf", "remote.vcf"} {
			var err error
			if triple[i], err = os.ReadFile(filepath.Join(dir, name)); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(triple[0], triple[1], triple[2])
	}
	f.Fuzz(func(t *testing.T, base, local, remote []byte) {
		b, l, r := firstCard(base), firstCard(local), firstCard(remote)
		res, err := conflict.Merge(b, l, r)
		if err != nil {
			if !errors.Is(err, conflict.ErrUIDMismatch) {
				t.Fatalf("merge: %v", err)
			}
			return
		}
		rev, err := conflict.Merge(b, r, l)
		if err != nil {
			t.Fatalf("merge with sides exchanged: %v", err)
		}
		if !sameBytes(res.Card, rev.Card) || !slices.Equal(swapped(rev.Conflicts), res.Conflicts) {
			t.Fatalf("not symmetric:\n%s\n---\n%s", bytesOf(res.Card), bytesOf(rev.Card))
		}
		if res.Card == nil {
			return
		}
		out := res.Card.Bytes()
		cards, err := vcard.Parse(out)
		if err != nil || len(cards) != 1 || !bytes.Equal(cards[0].Bytes(), out) {
			t.Fatalf("merged card does not read back (%v, %d cards):\n%q", err, len(cards), out)
		}
		for _, c := range res.Conflicts {
			if _, err := conflict.Resolve(res.Card, c); err != nil {
				t.Fatalf("resolve %+v: %v\n%q", c, err, out)
			}
		}
	})
}

// firstCard is the first card in data, or nil.
func firstCard(data []byte) *vcard.Card {
	cards, _ := vcard.Parse(data)
	if len(cards) == 0 {
		return nil
	}
	return cards[0]
}

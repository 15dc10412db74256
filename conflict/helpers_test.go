package conflict_test

import (
	"bytes"
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/conflict"
)

// parseOne reads exactly one card.
func parseOne(data []byte) (*vcard.Card, error) {
	cards, err := vcard.Parse(data)
	if err != nil {
		return nil, err
	}
	if len(cards) != 1 {
		return nil, errNotOne
	}
	return cards[0], nil
}

var errNotOne = errors.New("input is not exactly one vCard")

// canonical is the content of a card as vcard.Property.Canonical sees it,
// in order: independent of folding, line endings and parameter order.
func canonical(c *vcard.Card) []string {
	if c == nil {
		return nil
	}
	out := make([]string, len(c.Props))
	for i, p := range c.Props {
		out[i] = p.Canonical()
	}
	return out
}

// sameBytes compares two merge results, nil meaning deleted.
func sameBytes(a, b *vcard.Card) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return bytes.Equal(a.Bytes(), b.Bytes())
}

func bytesOf(c *vcard.Card) string {
	if c == nil {
		return "<deleted>"
	}
	return string(c.Bytes())
}

// swapped returns conflicts as the merge with local and remote exchanged
// reports them: each with the other side, in Merge's order (by property,
// group, winner, loser, kind and side).
func swapped(cs []conflict.Decision) []conflict.Decision {
	out := slices.Clone(cs)
	for i := range out {
		out[i].Side = out[i].Side.Other()
	}
	slices.SortStableFunc(out, func(a, b conflict.Decision) int {
		return cmp.Or(cmp.Compare(a.Property, b.Property), cmp.Compare(strings.ToLower(a.Group), strings.ToLower(b.Group)),
			cmp.Compare(a.Winner, b.Winner), cmp.Compare(a.Loser, b.Loser), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Side, b.Side))
	})
	return out
}

// loserProps parses the losing lines of every conflict.
func loserProps(cs []conflict.Decision) []*vcard.Property {
	var out []*vcard.Property
	for _, c := range cs {
		if c.Loser == "" {
			continue
		}
		card, err := parseOne([]byte("BEGIN:VCARD\r\n" + strings.ReplaceAll(c.Loser, "\n", "\r\n") + "\r\nEND:VCARD\r\n"))
		if err != nil {
			continue
		}
		out = append(out, card.Props...)
	}
	return out
}

// units is a card's content in order, with the members of a group moved up
// to where the group starts: two cards that differ only in where a group's
// members sit hold the same contact.
func units(c *vcard.Card) []string {
	if c == nil {
		return nil
	}
	start := make(map[string]int)
	keys := make([]int, len(c.Props))
	for i, p := range c.Props {
		keys[i] = i
		if p.Group != "" {
			g := strings.ToLower(p.Group)
			if at, ok := start[g]; ok {
				keys[i] = at
			} else {
				start[g] = i
			}
		}
	}
	idx := make([]int, len(c.Props))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return keys[a] - keys[b] })
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = c.Props[j].Canonical()
	}
	return out
}

// scenarioDirs lists the case folders under testdata/merge.
func scenarioDirs(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "merge", "*"))
	if err != nil {
		t.Fatal(err)
	}
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		fi, err := os.Stat(d)
		return err != nil || !fi.IsDir()
	})
	if len(dirs) == 0 {
		t.Fatal("no cases under testdata/merge")
	}
	return dirs
}

package conflict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// Resolve applies the losing side of c to card, the merged card or a later
// version that still holds the winner: the winner's lines are replaced by
// the loser's, or removed when the losing side had deleted them. A conflict
// over the whole contact (Property "") resolves to nil: the user confirms
// the deletion. card is not modified; the result is a new card in which
// only the swapped properties are written afresh.
//
// It returns ErrStale when card no longer holds the winner, and
// ErrBadConflict when the conflict's lines do not read as vCard lines.
func Resolve(card *vcard.Card, c Decision) (*vcard.Card, error) {
	if c.Property == "" {
		return nil, nil
	}
	winners, err := parseLines(c.Winner)
	if err != nil {
		return nil, fmt.Errorf("conflict: resolve %s: winner: %w", c.ID, err)
	}
	losers, err := parseLines(c.Loser)
	if err != nil {
		return nil, fmt.Errorf("conflict: resolve %s: loser: %w", c.ID, err)
	}
	out := card.Clone()
	keys := make([]string, len(out.Props))
	for i, p := range out.Props {
		keys[i] = propKey(p)
	}
	at := make([]int, 0, len(winners))
	for _, w := range winners {
		k := propKey(w)
		i := slices.IndexFunc(keys, func(s string) bool { return s == k })
		if i < 0 {
			return nil, fmt.Errorf("conflict: resolve %s: %s: %w", c.ID, c.Property, ErrStale)
		}
		keys[i] = "" // matched; a group's two equal lines match two properties
		at = append(at, i)
	}
	first := slices.Min(at)
	slices.Sort(at)
	for j := len(at) - 1; j >= 0; j-- {
		out.Remove(out.Props[at[j]])
	}
	for j, l := range losers {
		g := l.Group
		if g != "" && c.Group != "" {
			g = c.Group // the loser's group may have been renamed on the way
		}
		v := l.Value
		if out.Version() == "2.1" {
			v = from3to21.Replace(v)
		}
		out.Insert(first+j, vcard.NewProperty(g, l.Name, v, l.Params...))
	}
	return out, nil
}

// from3to21 turns a value escaped as in vCard 3.0/4.0 (how Conflict lines
// are written) into vCard 2.1's escaping, which has no \n or \, and carries
// line breaks raw (the encoder then writes them quoted-printable).
var from3to21 = strings.NewReplacer(`\\`, `\\`, `\n`, "\n", `\N`, "\n", `\,`, ",")

// parseLines reads the content lines of a Conflict ("" reads as none).
func parseLines(s string) ([]*vcard.Property, error) {
	if s == "" {
		return nil, nil
	}
	cards, err := vcard.Parse([]byte("BEGIN:VCARD\r\n" + strings.ReplaceAll(s, "\n", "\r\n") + "\r\nEND:VCARD\r\n"))
	if err != nil || len(cards) != 1 || len(cards[0].Props) != strings.Count(s, "\n")+1 {
		return nil, fmt.Errorf("%w: %q", ErrBadConflict, s)
	}
	return cards[0].Props, nil
}

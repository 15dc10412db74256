package engine

import (
	"errors"
	"fmt"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/conflict"
)

// MergeFunc merges two concurrent versions of one contact's vCard against their common base: base is the
// version both sides last agreed on, nil when there is none (a device and a server that both hold the UID
// before their first sync). It must be deterministic — the same three inputs give the same bytes on every
// device — and keep every property it does not understand. The default is Merge (package conflict).
type MergeFunc func(base, local, remote []byte) (Merged, error)

// Merged is the result of a MergeFunc.
type Merged struct {
	// Data is the merged vCard.
	Data []byte
	// Conflicts lists the decisions taken between concurrent changes; the engine records them in the store
	// (ContactID and Remote are filled in there).
	Conflicts []changelog.Conflict
}

// errUnmergeable marks versions that cannot be merged (not one readable card each, different UIDs): the
// item is set aside rather than stopping the sync.
var errUnmergeable = errors.New("cannot merge")

// Merge is the default MergeFunc: package conflict's field-level three-way merge on the parsed cards.
func Merge(base, local, remote []byte) (Merged, error) {
	var cards [3]*vcard.Card
	for i, data := range [][]byte{base, local, remote} {
		if data == nil {
			continue
		}
		cs, err := vcard.Parse(data)
		if err != nil || len(cs) != 1 {
			return Merged{}, fmt.Errorf("%w: version %d is not one readable vCard", errUnmergeable, i)
		}
		cards[i] = cs[0]
	}
	res, err := conflict.Merge(cards[0], cards[1], cards[2])
	if err != nil {
		return Merged{}, fmt.Errorf("%w: %w", errUnmergeable, err)
	}
	if res.Card == nil {
		return Merged{}, fmt.Errorf("%w: the merge deleted the contact", errUnmergeable)
	}
	out := Merged{Data: res.Card.Bytes()}
	for _, c := range res.Conflicts {
		out.Conflicts = append(out.Conflicts, changelog.Conflict{
			ID: c.ID, Property: c.Property, Group: c.Group, Kind: string(c.Kind),
			Winner: c.Winner, Loser: c.Loser, Side: string(c.Side), At: c.At,
		})
	}
	return out, nil
}

// merge short-cuts the cases that need no three-way merge, so the MergeFunc only sees real concurrent edits.
func (s *Syncer) merge(base, local, remote []byte) (Merged, error) {
	switch {
	case string(local) == string(remote):
		return Merged{Data: remote}, nil
	case base != nil && string(base) == string(local):
		return Merged{Data: remote}, nil
	case base != nil && string(base) == string(remote):
		return Merged{Data: local}, nil
	}
	return s.cfg.merge(base, local, remote)
}

// sameContent reports whether two versions say the same thing: equal bytes, or a merge of the two with no base
// that needs to change neither (a server that re-serializes a card — Radicale sorts its properties — keeps
// its content, not its bytes).
func sameContent(a, b []byte) bool {
	if string(a) == string(b) {
		return true
	}
	ca, err := vcard.Parse(a)
	if err != nil || len(ca) != 1 {
		return false
	}
	cb, err := vcard.Parse(b)
	if err != nil || len(cb) != 1 {
		return false
	}
	res, err := conflict.Merge(nil, ca[0], cb[0])
	return err == nil && !res.WriteLocal && !res.WriteRemote
}

package conflict

import (
	"bytes"
	"fmt"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// Result is the outcome of a merge.
type Result struct {
	// Card is the merged contact, nil when it stays deleted. Editing it
	// never changes the inputs (only their read-only original bytes are
	// shared).
	Card *vcard.Card
	// Conflicts lists the decisions taken between concurrent changes,
	// sorted by property, group, winner, loser, kind and losing side.
	Conflicts []Decision
	// WriteLocal reports that the result (Card, or the deletion when Card is
	// nil) differs in content from local: the device must store it.
	WriteLocal bool
	// WriteRemote reports the same for remote: the result must be uploaded
	// (or the contact deleted there).
	WriteRemote bool
}

// Merge merges two versions of one contact, local and remote, that both
// descend from base, the last version the two sides agreed on.
//
// base is nil when there is no common version (both sides created the same
// UID independently); local or remote is nil when that side deleted the
// contact (or, with a nil base, never had it). Merge is symmetric: swapping
// local and remote gives a byte-identical Card and the same Conflicts with
// their Side swapped. The inputs are not modified.
//
// The only error is ErrUIDMismatch, for versions of different contacts.
func Merge(base, local, remote *vcard.Card) (Result, error) {
	if err := checkUID(base, local, remote); err != nil {
		return Result{}, err
	}
	switch {
	case local == nil && remote == nil:
		return Result{}, nil
	case local == nil || remote == nil:
		return mergeDeleted(base, local, remote), nil
	}
	l, r := newView(local, local.Props), newView(remote, remote.Props)
	if sameContent(l, r, false) {
		return Result{Card: sameOnBothSides(base, local, remote).Clone()}, nil
	}
	var b *view
	if base != nil {
		b = newView(base, base.Props)
		// A side that did not change keeps nothing to merge: the other side
		// is the result, byte for byte, in its own order.
		if sameContent(b, l, false) {
			return Result{Card: remote.Clone(), WriteLocal: true}, nil
		}
		if sameContent(b, r, false) {
			return Result{Card: local.Clone(), WriteRemote: true}, nil
		}
	} else {
		b = commonBase(l, r)
	}
	return newMerger(b, l, r).run(), nil
}

// sameOnBothSides picks the bytes to keep when both sides hold the same
// contact: a side that rewrote the base's bytes (a server that reformats
// what it stores) over one that left them alone, otherwise whichever bytes
// sort first, so that the choice never depends on which side is which.
func sameOnBothSides(base, local, remote *vcard.Card) *vcard.Card {
	lb, rb := local.Bytes(), remote.Bytes()
	if base != nil {
		bb := base.Bytes()
		switch lu, ru := bytes.Equal(lb, bb), bytes.Equal(rb, bb); {
		case lu && !ru:
			return remote
		case ru && !lu:
			return local
		}
	}
	if bytes.Compare(rb, lb) < 0 {
		return remote
	}
	return local
}

// checkUID refuses to merge versions of different contacts.
func checkUID(base, local, remote *vcard.Card) error {
	var uid string
	var from string
	for _, v := range []struct {
		name string
		card *vcard.Card
	}{{"base", base}, {"local", local}, {"remote", remote}} {
		if v.card == nil {
			continue
		}
		if from == "" {
			uid, from = v.card.UID(), v.name
			continue
		}
		if got := v.card.UID(); got != uid {
			return fmt.Errorf("conflict: merge: %s uid %q, %s uid %q: %w", from, uid, v.name, got, ErrUIDMismatch)
		}
	}
	return nil
}

// mergeDeleted handles a contact that exists on one side only: deleted on
// the other side, or (without a base) created on this one.
func mergeDeleted(base, local, remote *vcard.Card) Result {
	kept, gone := remote, LocalSide
	if remote == nil {
		kept, gone = local, RemoteSide
	}
	res := Result{}
	write := func(s Side) {
		if s == LocalSide {
			res.WriteLocal = true
		} else {
			res.WriteRemote = true
		}
	}
	if base == nil {
		res.Card = kept.Clone()
		write(gone)
		return res
	}
	kv := newView(kept, kept.Props)
	if sameContent(newView(base, base.Props), kv, true) {
		// Deleted on one side, unchanged on the other: it stays deleted. A
		// server that only rewrote REV or PRODID did not edit the contact.
		write(gone.Other())
		return res
	}
	// Edit beats delete: the contact comes back with the edit, and the
	// deletion is recorded so that a user can repeat it.
	res.Card = kept.Clone()
	write(gone)
	c := Decision{UID: kept.UID(), Kind: KindDelete, Side: gone, At: revOf(kept)}
	if fn := kept.Get("FN"); fn != nil {
		c.Winner = contentLine(fn)
	}
	c.ID = conflictID(&c)
	res.Conflicts = []Decision{c}
	return res
}

// commonBase stands in for a missing base: the units both sides hold, in
// the order of the side whose bytes sort first. Everything else counts as
// added by its side, so nothing is removed and differing single values
// become conflicts.
func commonBase(l, r *view) *view {
	p, q := l, r
	if bytes.Compare(r.card.Bytes(), l.card.Bytes()) < 0 {
		p, q = r, l
	}
	count := make(map[unitKey]int, len(q.units))
	for _, u := range q.units {
		count[u.key]++
	}
	keep := make([]bool, len(p.units))
	for _, u := range p.units {
		if count[u.key] > 0 {
			count[u.key]--
			keep[u.idx] = true
		}
	}
	var props []*vcard.Property
	for i, prop := range p.props {
		if keep[p.owner[i]] {
			props = append(props, prop)
		}
	}
	return newView(p.card, props)
}

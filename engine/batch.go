package engine

import (
	"context"
	"errors"

	"github.com/contactsync/contactsync/changelog"
)

// batch holds mirror writes that record effects already visible on the server, so that many uploads commit
// in one transaction. Losing a batch to a crash loses nothing: the next push meets its own uploads as 412s
// (If-None-Match or a stale If-Match), fetches them, finds them equal and records them then.
type batch struct {
	puts     []mirror
	dels     []string
	resolved []string // contacts whose push set-aside the uploads cleared
	unsure   []int    // puts whose stored bytes or tag the push fetches back (checkUploads)
	adopt    []int    // puts whose stored bytes the device takes as its own copy
	verdict  int      // what reading back found (keepsBytes, rewritesBytes), to record; 0 for nothing new
}

// commit writes the batch and whatever fn does in one transaction; the batch is emptied only if it commits.
func (s *Syncer) commit(ctx context.Context, b *batch, fn func(*changelog.Tx) error) error {
	var adopted map[int]uint64
	err := s.store.Update(ctx, func(tx *changelog.Tx) error {
		adopted = make(map[int]uint64, len(b.adopt))
		for _, idx := range b.adopt {
			// The storage's bytes for the device's own upload, unless the device changed the contact since.
			m := &b.puts[idx]
			cur, err := tx.Get(m.ContactID)
			if errors.Is(err, changelog.ErrNotFound) || (err == nil && cur.Rev != m.LocalRev) {
				continue
			}
			if err != nil {
				return err
			}
			nc, err := tx.Replace(s.origin, changelog.Contact{ID: m.ContactID, Data: m.Base, Source: cur.Source})
			if err != nil {
				return err
			}
			adopted[idx] = nc.Rev
		}
		if b.verdict != 0 {
			if err := s.ledger(tx).setRewrites(b.verdict); err != nil {
				return err
			}
		}
		for idx, m := range b.puts {
			if rev, ok := adopted[idx]; ok {
				m.LocalRev = rev
			}
			if err := s.ledger(tx).putMirror(m); err != nil {
				return err
			}
		}
		for _, id := range b.dels {
			if err := s.ledger(tx).deleteMirror(id); err != nil {
				return err
			}
		}
		for _, id := range b.resolved {
			if err := s.ledger(tx).clearAside(asidePush, id); err != nil {
				return err
			}
		}
		if fn != nil {
			return fn(tx)
		}
		return nil
	})
	if err == nil {
		*b = batch{}
	}
	return err
}

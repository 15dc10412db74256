package engine

import (
	"context"

	"github.com/contactsync/contactsync/changelog"
)

// batch holds mirror writes that record effects already visible on the server, so that many uploads commit
// in one transaction. Losing a batch to a crash loses nothing: the next push meets its own uploads as 412s
// (If-None-Match or a stale If-Match), fetches them, finds them equal and records them then.
type batch struct {
	puts     []mirror
	dels     []string
	resolved []string // contacts whose push set-aside the uploads cleared
}

// commit writes the batch and whatever fn does in one transaction; the batch is emptied only if it commits.
func (s *Syncer) commit(ctx context.Context, b *batch, fn func(*changelog.Tx) error) error {
	err := s.store.Update(ctx, func(tx *changelog.Tx) error {
		for _, m := range b.puts {
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

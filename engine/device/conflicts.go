package device

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/conflict"
	"github.com/contactsync/contactsync/engine"
)

// Resolutions recorded on a conflict.
const (
	KeptWinner = "kept-winner"
	TookLoser  = "took-loser"
)

// Resolved says how a conflict was closed.
type Resolved struct {
	// ID is the conflict's full ID.
	ID string
	// Rev is the revision of the edit that took the other value back (0 when the merged value was kept).
	Rev uint64
}

// Conflicts lists the decisions merges took between concurrent edits: the open ones, or with all every one.
func (d *Device) Conflicts(ctx context.Context, all bool) ([]changelog.Conflict, error) {
	cs, err := d.store.Conflicts(ctx, all)
	if err != nil {
		return nil, fmt.Errorf("device: conflicts: %w", err)
	}
	return cs, nil
}

// FindConflict returns the open conflict whose ID is ref, or the only one whose ID starts with ref, as
// listings show them shortened. ErrNoConflict or ErrAmbiguous otherwise.
func (d *Device) FindConflict(ctx context.Context, ref string) (changelog.Conflict, error) {
	c, err := d.findConflict(ctx, ref)
	if err != nil {
		return c, fmt.Errorf("device: %w", err)
	}
	return c, nil
}

func (d *Device) findConflict(ctx context.Context, ref string) (changelog.Conflict, error) {
	cs, err := d.store.Conflicts(ctx, false)
	if err != nil {
		return changelog.Conflict{}, err
	}
	var match []changelog.Conflict
	for _, x := range cs {
		if x.ID == ref {
			return x, nil
		}
		if strings.HasPrefix(x.ID, ref) {
			match = append(match, x)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return changelog.Conflict{}, fmt.Errorf("conflict %q: %w", ref, ErrNoConflict)
	default:
		return changelog.Conflict{}, fmt.Errorf("conflict %q: %w: %d open conflicts start with it", ref, ErrAmbiguous, len(match))
	}
}

// TakeOther resolves the open conflict ref (see FindConflict) by taking the losing value back. That is an
// ordinary local edit of the contact, committed with the conflict's resolution, so it syncs to every remote
// like any edit. ErrContactGone when the contact was removed since, ErrStale when it was edited since and no
// longer holds the value the merge kept (close the conflict with KeepMerged instead, or edit the contact).
func (d *Device) TakeOther(ctx context.Context, ref string) (Resolved, error) {
	return d.resolve(ctx, ref, func(tx *changelog.Tx, x changelog.Conflict) (uint64, error) {
		rec, err := tx.Get(x.ContactID)
		if errors.Is(err, changelog.ErrNotFound) {
			return 0, fmt.Errorf("contact %s: %w", x.ContactID, ErrContactGone)
		}
		if err != nil {
			return 0, err
		}
		card, err := parseOne(rec.Data)
		if err != nil {
			return 0, fmt.Errorf("contact %s: %w", x.ContactID, err)
		}
		out, err := conflict.Resolve(card, engine.ConflictDecision(x))
		if errors.Is(err, conflict.ErrStale) {
			return 0, fmt.Errorf("contact %s: %w", x.ContactID, ErrStale)
		}
		if err != nil {
			return 0, err
		}
		if out == nil {
			err = tx.Remove(changelog.Local, x.ContactID)
		} else {
			_, err = tx.Replace(changelog.Local, changelog.Contact{ID: x.ContactID, Data: out.Bytes(), Source: rec.Source})
		}
		if err != nil {
			return 0, err
		}
		return tx.LastRevision(), tx.ResolveConflict(x.ID, TookLoser)
	})
}

// KeepMerged closes the open conflict ref (see FindConflict), confirming the value the merge kept.
func (d *Device) KeepMerged(ctx context.Context, ref string) (Resolved, error) {
	return d.resolve(ctx, ref, func(tx *changelog.Tx, x changelog.Conflict) (uint64, error) {
		return 0, tx.ResolveConflict(x.ID, KeptWinner)
	})
}

// resolve finds the conflict and applies fn to it in one transaction, in which the conflict is read again.
func (d *Device) resolve(ctx context.Context, ref string, fn func(*changelog.Tx, changelog.Conflict) (uint64, error)) (Resolved, error) {
	found, err := d.findConflict(ctx, ref)
	if err != nil {
		return Resolved{}, fmt.Errorf("device: %w", err)
	}
	res := Resolved{ID: found.ID}
	err = d.store.Update(ctx, func(tx *changelog.Tx) error {
		x, err := tx.Conflict(found.ID)
		if err != nil {
			return err
		}
		res.Rev, err = fn(tx, x)
		return err
	})
	if err != nil {
		return Resolved{}, fmt.Errorf("device: resolve %s: %w", ref, err)
	}
	return res, nil
}

package testbed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
)

// editor makes a device's edits, as its user would, and records each one the store acknowledges.
type editor struct {
	seed   uint64
	device int
	name   string
	store  *changelog.Store
	ledger *ledger
	now    func() time.Time
}

// apply makes one planned edit in one transaction; errSkip when its contact (or the value to remove) is not on
// the device.
func (e *editor) apply(ctx context.Context, o op) error {
	at := e.now()
	var made []Edit
	err := e.store.Update(ctx, func(tx *changelog.Tx) error {
		made = nil
		switch o.kind {
		case Create:
			c, err := e.newCard(o.tok, at)
			if err != nil {
				return err
			}
			if _, err := tx.Add(changelog.Local, c); err != nil {
				return err
			}
			made = append(made, Edit{Token: o.tok, Contact: c.ID, Kind: Create})
			return nil
		case Import:
			var changes []changelog.Change
			for k := range o.size {
				tok := importToken(o.tok, k)
				c, err := e.newCard(tok, at)
				if err != nil {
					return err
				}
				changes = append(changes, changelog.Change{Op: changelog.OpAdd, Contact: c})
				made = append(made, Edit{Token: tok, Contact: c.ID, Kind: Import})
			}
			_, err := tx.Apply(changelog.Local, changes)
			return err
		}
		cur, err := tx.Get(o.target)
		if errors.Is(err, changelog.ErrNotFound) {
			return errSkip
		}
		if err != nil {
			return err
		}
		cards, err := vcard.Parse(cur.Data)
		if err != nil || len(cards) != 1 {
			return fmt.Errorf("testbed: %s holds an unreadable card for %s: %v", e.name, o.target, err)
		}
		card := cards[0]
		ed := Edit{Token: o.tok, Contact: o.target, Kind: o.kind, Property: o.prop, Concurrent: o.concurrent, seen: history(card)}
		switch o.kind {
		case Delete:
			made = append(made, ed)
			return tx.Remove(changelog.Local, o.target)
		default:
			if err := applyEdit(card, o, &ed, at); err != nil {
				return err
			}
		}
		made = append(made, ed)
		_, err = tx.Replace(changelog.Local, changelog.Contact{ID: cur.ID, Data: card.Bytes(), Source: cur.Source})
		return err
	})
	if err != nil {
		return err
	}
	for _, ed := range made {
		ed.Device, ed.At = e.name, at
		e.ledger.record(ed)
	}
	return nil
}

// newCard is a new contact as the device's user would type it.
func (e *editor) newCard(tok string, at time.Time) (changelog.Contact, error) {
	data, err := newCardData(e.seed, tok, at)
	if err != nil {
		return changelog.Contact{}, err
	}
	return changelog.Contact{ID: "tb-" + tok, Data: data}, nil
}

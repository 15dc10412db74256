package device

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/changelog/contact"
)

// newVCardVersion is the version of cards created from mozContact JSON.
const newVCardVersion = "4.0"

// Add stores a new contact read from input: a vCard, or mozContact JSON (a new card is made from its fields,
// or from the vCard it carries). A card without UID gets one now, its permanent identity. source marks a
// contact that must never be uploaded or merged ("" for an ordinary one). An ID already in the store fails
// with ErrExists, and the contact returned then carries that ID.
func (d *Device) Add(ctx context.Context, input []byte, source string) (changelog.Contact, error) {
	e, err := readEdit(input)
	if err != nil {
		return changelog.Contact{}, fmt.Errorf("device: add: %w", err)
	}
	card, err := e.apply(nil)
	if err != nil {
		return changelog.Contact{}, fmt.Errorf("device: add: %w", err)
	}
	if card.UID() == "" {
		card.Set("UID", vcard.NewCard(newVCardVersion).UID())
	}
	stored, err := d.store.Add(ctx, changelog.Local, changelog.Contact{ID: card.UID(), Data: card.Bytes(), Source: source})
	if err != nil {
		return changelog.Contact{ID: card.UID()}, fmt.Errorf("device: add %s: %w", card.UID(), err)
	}
	return stored, nil
}

// Update replaces contact id with input: a whole vCard, or mozContact JSON applied to the stored card so that
// only the fields that changed touch its vCard. changed is false when the result is the stored card byte for
// byte: then nothing is committed. An unknown id fails with ErrNotFound before the input is read. The read and
// the write are one transaction, so a sync applying a change to the same contact meanwhile is never
// overwritten unseen.
func (d *Device) Update(ctx context.Context, id string, input []byte) (stored changelog.Contact, changed bool, err error) {
	err = d.store.Update(ctx, func(tx *changelog.Tx) error {
		old, err := tx.Get(id)
		if err != nil {
			return err
		}
		base, err := parseOne(old.Data)
		if err != nil {
			return fmt.Errorf("stored vCard: %w", err)
		}
		e, err := readEdit(input)
		if err != nil {
			return err
		}
		card, err := e.apply(base)
		if err != nil {
			return err
		}
		switch uid := card.UID(); {
		case uid == "":
			card.Set("UID", id)
		case uid != id:
			return &InputError{fmt.Errorf("the vCard has UID %q, not %q: a contact's UID cannot change", uid, id)}
		}
		data := card.Bytes()
		if bytes.Equal(data, old.Data) {
			stored = old
			return nil
		}
		stored, err = tx.Replace(changelog.Local, changelog.Contact{ID: id, Data: data, Source: old.Source})
		changed = err == nil
		return err
	})
	if err != nil {
		return changelog.Contact{}, false, fmt.Errorf("device: update %s: %w", id, err)
	}
	return stored, changed, nil
}

// Remove removes contact id, in a transaction of its own; ErrNotFound when there is none.
func (d *Device) Remove(ctx context.Context, id string) error {
	if err := d.store.Remove(ctx, changelog.Local, id); err != nil {
		return fmt.Errorf("device: remove %s: %w", id, err)
	}
	return nil
}

// Get returns contact id; ErrNotFound when there is none.
func (d *Device) Get(ctx context.Context, id string) (changelog.Contact, error) {
	c, err := d.store.Get(ctx, id)
	if err != nil {
		return c, fmt.Errorf("device: get %s: %w", id, err)
	}
	return c, nil
}

// List yields every contact in ID order from one snapshot, holding one at a time in memory.
func (d *Device) List(ctx context.Context) iter.Seq2[changelog.Contact, error] {
	return func(yield func(changelog.Contact, error) bool) {
		for c, err := range d.store.All(ctx) {
			if err != nil {
				yield(c, fmt.Errorf("device: list: %w", err))
				return
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// Changes yields the changelog's tasks since revision since, compacted per contact, as a consumer replaying
// from that cursor sees them (package changelog, Store.Sync).
func (d *Device) Changes(ctx context.Context, since uint64) iter.Seq2[changelog.Task, error] {
	return func(yield func(changelog.Task, error) bool) {
		for t, err := range d.store.Sync(ctx, since) {
			if err != nil {
				yield(t, fmt.Errorf("device: changes since %d: %w", since, err))
				return
			}
			if !yield(t, nil) {
				return
			}
		}
	}
}

// Export writes each stored card as is, in ID order, and returns how many it wrote. A card whose text does not
// end with a line break (the last card of some files) is followed by one when another card comes after it, so
// each BEGIN:VCARD starts its own line; the last card is written exactly as stored.
func (d *Device) Export(ctx context.Context, w io.Writer) (int, error) {
	n := 0
	needBreak := false
	for c, err := range d.store.All(ctx) {
		if err == nil && needBreak {
			_, err = io.WriteString(w, "\r\n")
		}
		if err == nil {
			_, err = w.Write(c.Data)
		}
		if err != nil {
			return n, fmt.Errorf("device: export: %w", err)
		}
		last := c.Data[len(c.Data)-1]
		needBreak = last != '\n' && last != '\r'
		n++
	}
	return n, nil
}

// MozContact reads a stored contact as a mozContact carrying its verbatim vCard. Its ID is the store's (which
// differs from the card's for a card imported without UID); updated stays what the card's REV says, so the
// JSON edited and given back to Update changes nothing it did not mean to.
func MozContact(c changelog.Contact) (*contact.MozContact, error) {
	card, err := parseOne(c.Data)
	if err != nil {
		return nil, fmt.Errorf("device: contact %s: %w", c.ID, err)
	}
	mc, err := vcard.ToContact(card)
	if err != nil {
		return nil, fmt.Errorf("device: contact %s: %w", c.ID, err)
	}
	mc.ID = c.ID
	return mc, nil
}

// An edit is a contact as a front end gives it: a whole vCard, or mozContact fields to apply.
type edit struct {
	card *vcard.Card
	moz  *contact.MozContact
}

// readEdit reads input as a vCard or, when it starts with '{', as mozContact JSON.
func readEdit(input []byte) (edit, error) {
	trimmed := bytes.TrimLeft(input, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return edit{}, &InputError{ErrEmptyInput}
	}
	if trimmed[0] != '{' {
		card, err := parseOne(input)
		if err != nil {
			return edit{}, &InputError{err}
		}
		return edit{card: card}, nil
	}
	var mc contact.MozContact
	if err := json.Unmarshal(trimmed, &mc); err != nil {
		return edit{}, &InputError{fmt.Errorf("mozContact JSON: %w", err)}
	}
	if err := mc.Validate(); err != nil {
		return edit{}, &InputError{fmt.Errorf("mozContact JSON: %w", err)}
	}
	return edit{moz: &mc}, nil
}

// apply makes the card the edit asks for: the vCard given, or the mozContact's fields applied to base (nil: a
// new card, made from the vCard the JSON carries, as `get --format json` prints it, else from scratch).
func (e edit) apply(base *vcard.Card) (*vcard.Card, error) {
	if e.card != nil {
		return e.card, nil
	}
	mc := e.moz
	var card *vcard.Card
	var err error
	switch {
	case base != nil:
		if mc.ID != "" && mc.ID != base.UID() {
			return nil, &InputError{fmt.Errorf("the JSON has id %q, not %q: a contact's UID cannot change", mc.ID, base.UID())}
		}
		card = base.Clone()
	case mc.VCard != "":
		if card, err = parseOne([]byte(mc.VCard)); err != nil {
			return nil, &InputError{fmt.Errorf("the JSON's vcard field: %w", err)}
		}
	case mc.ID != "":
		card = vcard.NewCardUID(newVCardVersion, mc.ID)
	default:
		card = vcard.NewCard(newVCardVersion)
	}
	if err := vcard.Apply(card, mc); err != nil {
		return nil, &InputError{err}
	}
	return card, nil
}

// parseOne parses data that must hold exactly one vCard.
func parseOne(data []byte) (*vcard.Card, error) {
	cards, err := vcard.Parse(data)
	if err != nil {
		return nil, err
	}
	if len(cards) != 1 {
		return nil, fmt.Errorf("%w (found %d)", vcard.ErrNotOneCard, len(cards))
	}
	return cards[0], nil
}

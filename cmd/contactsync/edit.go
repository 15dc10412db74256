package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/changelog/contact"
)

// newVCardVersion is the version of cards created from mozContact JSON.
const newVCardVersion = "4.0"

// addCmd stores a new contact read from stdin.
type addCmd struct {
	source string
}

func (c *addCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("add", g.stdio.Err)
	fs.StringVar(&c.source, "source", "", "mark the contact as coming from a source that must never be uploaded or merged")
	fs.Usage = func() {
		fmt.Fprintln(g.stdio.Err, "Usage: contactsync add < contact.vcf  (or mozContact JSON on stdin)")
		fs.PrintDefaults()
	}
	rest, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: add reads the contact from stdin and takes no arguments", errUsage)
	}
	card, err := readEdit(g.stdio.In, nil)
	if err != nil {
		return err
	}
	if card.UID() == "" {
		// A contact created on this device: give it its permanent identity now.
		card.Set("UID", vcard.NewCard(newVCardVersion).UID())
	}
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	stored, err := store.Add(ctx, changelog.Local, changelog.Contact{ID: card.UID(), Data: card.Bytes(), Source: c.source})
	if errors.Is(err, changelog.ErrExists) {
		return fmt.Errorf("a contact with ID %q already exists (use 'contactsync update %s')", card.UID(), card.UID())
	}
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	fmt.Fprintf(g.stdio.Out, "%s\n", stored.ID)
	fmt.Fprintf(g.stdio.Err, "added %s at revision %d\n", stored.ID, stored.Rev)
	return nil
}

// updateCmd replaces a contact with a vCard from stdin, or patches it with mozContact JSON so that only the
// fields that changed touch the stored vCard.
type updateCmd struct{}

func (c *updateCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("update", g.stdio.Err)
	fs.Usage = func() {
		fmt.Fprintln(g.stdio.Err, "Usage: contactsync update ID < contact.vcf  (or mozContact JSON on stdin)")
	}
	rest, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: update needs exactly one contact ID", errUsage)
	}
	id := rest[0]
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	old, err := getContact(ctx, store, id)
	if err != nil {
		return err
	}
	base, err := parseOne(old.Data)
	if err != nil {
		return fmt.Errorf("contact %s: stored vCard: %w", id, err)
	}
	card, err := readEdit(g.stdio.In, base)
	if err != nil {
		return err
	}
	switch uid := card.UID(); {
	case uid == "":
		card.Set("UID", id)
	case uid != id:
		return fmt.Errorf("the vCard on stdin has UID %q, not %q: a contact's UID cannot change", uid, id)
	}
	data := card.Bytes()
	if bytes.Equal(data, old.Data) {
		fmt.Fprintf(g.stdio.Err, "%s unchanged\n", id)
		return nil
	}
	stored, err := store.Replace(ctx, changelog.Local, changelog.Contact{ID: id, Data: data, Source: old.Source})
	if err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	fmt.Fprintf(g.stdio.Err, "updated %s at revision %d\n", id, stored.Rev)
	return nil
}

// readEdit reads one contact from r: a vCard, or mozContact JSON applied to base (nil: a new card).
func readEdit(r io.Reader, base *vcard.Card) (*vcard.Card, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: stdin is empty: pipe in a vCard or mozContact JSON", errUsage)
	}
	if trimmed[0] != '{' {
		card, err := parseOne(data)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		return card, nil
	}
	var mc contact.MozContact
	if err := json.Unmarshal(trimmed, &mc); err != nil {
		return nil, fmt.Errorf("stdin: mozContact JSON: %w", err)
	}
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("stdin: mozContact JSON: %w", err)
	}
	card := base
	switch {
	case card != nil:
		if mc.ID != "" && mc.ID != card.UID() {
			return nil, fmt.Errorf("stdin: the JSON has id %q, not %q: a contact's UID cannot change", mc.ID, card.UID())
		}
		card = card.Clone()
	case mc.VCard != "":
		// JSON that carries its vCard (as `get --format json` prints it): edit that card.
		if card, err = parseOne([]byte(mc.VCard)); err != nil {
			return nil, fmt.Errorf("stdin: the JSON's vcard field: %w", err)
		}
	case mc.ID != "":
		card = vcard.NewCardUID(newVCardVersion, mc.ID)
	default:
		card = vcard.NewCard(newVCardVersion)
	}
	if err := vcard.Apply(card, &mc); err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	return card, nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/changelog/contact"
)

// listCmd prints one line per contact (ID, then display name), or the contacts as mozContact JSON.
type listCmd struct {
	json bool
}

func (c *listCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("list", g.stdio.Err)
	fs.BoolVar(&c.json, "json", false, "print a JSON array of mozContact objects")
	rest, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: list takes no arguments", errUsage)
	}
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()

	w := bufio.NewWriter(g.stdio.Out)
	defer w.Flush()
	if c.json {
		fmt.Fprint(w, "[")
	}
	n := 0
	for rec, err := range store.All(ctx) {
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		if c.json {
			mc, err := toMozContact(rec)
			if err != nil {
				return err
			}
			b, err := json.Marshal(mc)
			if err != nil {
				return fmt.Errorf("list: contact %s: %w", rec.ID, err)
			}
			if n > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, "\n%s", b)
		} else {
			fmt.Fprintf(w, "%s\t%s\n", rec.ID, displayName(rec.Data))
		}
		n++
	}
	if c.json {
		fmt.Fprint(w, "\n]\n")
	} else {
		fmt.Fprintf(g.stdio.Err, "%d contacts\n", n)
	}
	return w.Flush()
}

// displayName is the card's FN, else its N, for a human listing; unreadable cards show as such.
func displayName(data []byte) string {
	cards, _ := vcard.Parse(data)
	if len(cards) == 0 {
		return "(unreadable vCard)"
	}
	if p := cards[0].Get("FN"); p != nil && p.Text() != "" {
		return p.Text()
	}
	if p := cards[0].Get("N"); p != nil {
		parts := p.Components()
		name := ""
		for _, i := range []int{1, 2, 0} {
			if i < len(parts) && parts[i] != "" {
				if name != "" {
					name += " "
				}
				name += parts[i]
			}
		}
		if name != "" {
			return name
		}
	}
	return "(no name)"
}

// toMozContact reads a stored contact as a mozContact carrying its verbatim vCard.
func toMozContact(rec changelog.Contact) (*contact.MozContact, error) {
	card, err := parseOne(rec.Data)
	if err != nil {
		return nil, fmt.Errorf("contact %s: %w", rec.ID, err)
	}
	mc, err := vcard.ToContact(card)
	if err != nil {
		return nil, fmt.Errorf("contact %s: %w", rec.ID, err)
	}
	// The ID is the store's (it differs from the card for a card imported without UID); updated stays what
	// the card's REV says, so the JSON edited and sent back to `update` changes nothing it did not mean to.
	mc.ID = rec.ID
	return mc, nil
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

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/engine/device"
)

// listCmd prints one line per contact (ID, then display name), or the contacts as mozContact JSON.
type listCmd struct {
	json bool
}

var listHelp = help{
	usage: []string{"list [--json]"},
	about: "Lists the contacts, one line each with its ID and display name, or as a JSON array of mozContact objects.",
}

func (c *listCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("list", listHelp)
	fs.BoolVar(&c.json, "json", false, "print a JSON array of mozContact objects")
	d, _, err := g.open(fs, args, noArgs("list takes no arguments"))
	if err != nil {
		return err
	}
	defer d.Close()

	w := bufio.NewWriter(g.stdio.Out)
	defer w.Flush()
	if c.json {
		fmt.Fprint(w, "[")
	}
	n := 0
	for rec, err := range d.List(ctx) {
		if err != nil {
			return err
		}
		if c.json {
			mc, err := device.MozContact(rec)
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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/contactsync/contactsync/engine/device"
)

// addCmd stores a new contact read from stdin.
type addCmd struct {
	source string
}

var addHelp = help{
	usage: []string{"add [--source NAME] < CONTACT"},
	about: "Adds the contact on stdin, a vCard or mozContact JSON, and prints its ID (a new UUID when it has none).",
}

func (c *addCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("add", addHelp)
	fs.StringVar(&c.source, "source", "", "mark the contact as coming from source `NAME`, whose contacts are never uploaded or merged")
	var input []byte
	d, _, err := g.open(fs, args, func(pos []string) error {
		if len(pos) > 0 {
			return fmt.Errorf("%w: add reads the contact from stdin and takes no arguments", errUsage)
		}
		var err error
		input, err = readStdin(g.stdio.In)
		return err
	})
	if err != nil {
		return err
	}
	defer d.Close()
	stored, err := d.Add(ctx, input, c.source)
	if errors.Is(err, device.ErrExists) {
		return fmt.Errorf("a contact with ID %q already exists (use 'contactsync update %s')", stored.ID, stored.ID)
	}
	if err != nil {
		return stdinError(err)
	}
	fmt.Fprintf(g.stdio.Out, "%s\n", stored.ID)
	fmt.Fprintf(g.stdio.Err, "added %s at revision %d\n", stored.ID, stored.Rev)
	return nil
}

// updateCmd replaces a contact with a vCard from stdin, or patches it with mozContact JSON so that only the
// fields that changed touch the stored vCard.
type updateCmd struct{}

var updateHelp = help{
	usage: []string{"update ID < CONTACT"},
	about: "Replaces contact ID with the vCard on stdin, or with mozContact JSON on stdin rewrites only the fields it changes.",
}

func (c *updateCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("update", updateHelp)
	d, rest, err := g.open(fs, args, func(pos []string) error {
		if len(pos) != 1 {
			return fmt.Errorf("%w: update needs exactly one contact ID", errUsage)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()
	id := rest[0]
	input, err := readStdin(g.stdio.In)
	if err != nil {
		return err
	}
	stored, changed, err := d.Update(ctx, id, input)
	if errors.Is(err, device.ErrNotFound) {
		return noContact(id)
	}
	if err != nil {
		return stdinError(err)
	}
	if !changed {
		fmt.Fprintf(g.stdio.Err, "%s unchanged\n", id)
		return nil
	}
	fmt.Fprintf(g.stdio.Err, "updated %s at revision %d\n", id, stored.Rev)
	return nil
}

// readStdin reads the contact an edit command takes on stdin.
func readStdin(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	return data, nil
}

// stdinError says that a contact the device could not read came from stdin.
func stdinError(err error) error {
	var ie *device.InputError
	switch {
	case errors.Is(err, device.ErrEmptyInput):
		return fmt.Errorf("%w: stdin is empty: pipe in a vCard or mozContact JSON", errUsage)
	case errors.As(err, &ie):
		return fmt.Errorf("stdin: %w", ie)
	}
	return err
}

// noContact says plainly which IDs are unknown, and where to see the IDs there are.
func noContact(ids ...string) error {
	if len(ids) == 1 {
		return fmt.Errorf("no contact with ID %s (see 'contactsync list')", ids[0])
	}
	return fmt.Errorf("no contacts with IDs %s (see 'contactsync list')", strings.Join(ids, ", "))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/contactsync/contactsync/engine/device"
)

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

func (c *updateCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("update", g.stdio.Err)
	fs.Usage = func() {
		fmt.Fprintln(g.stdio.Err, "Usage: contactsync update ID < contact.vcf  (or mozContact JSON on stdin)")
	}
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

// noContact says plainly that an ID is unknown, and where to see the IDs.
func noContact(id string) error {
	return fmt.Errorf("no contact with ID %q (see 'contactsync list')", id)
}

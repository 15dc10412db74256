package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/contactsync/contactsync/engine"
)

// statusCmd shows each remote's sync state. It never shows a password; the sync token is the server's
// bookmark, not a secret.
type statusCmd struct {
	json bool
}

var statusHelp = help{
	usage: []string{"status [--json]"},
	about: "Shows each remote's sync state: last sync, changes waiting to be pushed, sync token, mirrored contacts, open conflicts, last error and what was set aside.",
}

// statusJSON is the stable shape of `status --json`.
type statusJSON struct {
	Name        string      `json:"name"`
	URL         string      `json:"url"`
	AddressBook string      `json:"addressbook"`
	Username    string      `json:"username,omitempty"`
	State       string      `json:"state"`
	LastSync    *time.Time  `json:"last_sync"`
	Cursor      uint64      `json:"cursor"`
	Pending     int         `json:"pending"`
	SyncToken   string      `json:"sync_token"`
	Mirrored    int         `json:"mirrored"`
	Conflicts   int         `json:"conflicts"`
	LastError   string      `json:"last_error,omitempty"`
	SetAside    []asideJSON `json:"set_aside"`
}

type asideJSON struct {
	Kind   string    `json:"kind"`
	Ref    string    `json:"ref"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

func (c *statusCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("status", statusHelp)
	fs.BoolVar(&c.json, "json", false, "print JSON")
	d, _, err := g.open(fs, args, noArgs("status takes no arguments"))
	if err != nil {
		return err
	}
	defer d.Close()
	all, err := d.Status(ctx)
	if err != nil {
		return err
	}
	if c.json {
		out := make([]statusJSON, 0, len(all))
		for _, s := range all {
			out = append(out, toStatusJSON(s))
		}
		enc := json.NewEncoder(g.stdio.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(all) == 0 {
		fmt.Fprintln(g.stdio.Out, "no remote configured (add one with `contactsync remote add`)")
	}
	for _, s := range all {
		printStatus(g.stdio.Out, s)
	}
	return nil
}

func toStatusJSON(s engine.RemoteStatus) statusJSON {
	j := statusJSON{Name: s.Name, URL: s.Endpoint, AddressBook: s.Collection, Username: s.Username, State: s.State,
		Cursor: s.Cursor, Pending: s.Pending, SyncToken: s.SyncToken, Mirrored: s.Mirrored, Conflicts: s.Conflicts,
		LastError: s.LastError, SetAside: []asideJSON{}}
	if !s.LastSync.IsZero() {
		t := s.LastSync.UTC()
		j.LastSync = &t
	}
	for _, a := range s.SetAside {
		j.SetAside = append(j.SetAside, asideJSON{Kind: a.Kind, Ref: a.Ref, Reason: a.Reason, At: a.At.UTC()})
	}
	return j
}

func printStatus(w io.Writer, s engine.RemoteStatus) {
	last := "never"
	if !s.LastSync.IsZero() {
		last = s.LastSync.Local().Format(time.DateTime)
	}
	token := "none"
	if s.SyncToken != "" {
		token = "held (" + s.SyncToken + ")"
	}
	fmt.Fprintf(w, "%s  %s  [%s]\n", s.Name, s.Collection, s.State)
	fmt.Fprintf(w, "  last sync:  %s\n", last)
	fmt.Fprintf(w, "  pending:    %d change(s) to push (cursor at revision %d)\n", s.Pending, s.Cursor)
	fmt.Fprintf(w, "  sync token: %s\n", token)
	fmt.Fprintf(w, "  mirrored:   %d contact(s), %d open conflict(s)\n", s.Mirrored, s.Conflicts)
	if s.LastError != "" {
		fmt.Fprintf(w, "  last error: %s\n", s.LastError)
	}
	for _, a := range s.SetAside {
		fmt.Fprintf(w, "  set aside (%s) %s: %s\n", a.Kind, a.Ref, a.Reason)
	}
}

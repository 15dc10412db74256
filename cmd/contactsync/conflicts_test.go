package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/conflict"
)

// storeMerge records a real merge in the CLI's store the way the sync engine does: the merged card and its
// conflicts in one transaction.
func storeMerge(t *testing.T, db, base, local, remote string) conflict.Result {
	t.Helper()
	parse := func(s string) *vcard.Card {
		cs, err := vcard.Parse([]byte(s))
		if err != nil || len(cs) != 1 {
			t.Fatalf("not one vCard: %v", err)
		}
		return cs[0]
	}
	res, err := conflict.Merge(parse(base), parse(local), parse(remote))
	if err != nil {
		t.Fatal(err)
	}
	s, err := changelog.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(context.Background(), func(tx *changelog.Tx) error {
		if _, err := tx.Add(changelog.FromRemote("home"), changelog.Contact{ID: res.Card.UID(), Data: res.Card.Bytes()}); err != nil {
			return err
		}
		for _, c := range res.Conflicts {
			if err := tx.RecordConflict(changelog.Conflict{ID: c.ID, ContactID: c.UID, Property: c.Property, Group: c.Group,
				Kind: string(c.Kind), Winner: c.Winner, Loser: c.Loser, Side: string(c.Side), Remote: "home", At: c.At}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestConflictsListAndResolve(t *testing.T) {
	c := newCLI(t)
	const (
		base   = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Ann\r\nNOTE:original\r\nREV:20260101T000000Z\r\nEND:VCARD\r\n"
		local  = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Ann\r\nNOTE:typed on the phone\r\nREV:20260102T000000Z\r\nEND:VCARD\r\n"
		remote = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Ann\r\nNOTE:typed on the laptop\r\nREV:20260103T000000Z\r\nEND:VCARD\r\n"
	)
	res := storeMerge(t, c.db, base, local, remote)
	if len(res.Conflicts) != 1 {
		t.Fatalf("merge gave %d conflicts, want 1", len(res.Conflicts))
	}
	id := res.Conflicts[0].ID

	list := c.ok("", "conflicts")
	if !strings.Contains(list, shortID(id)) || !strings.Contains(list, "NOTE:typed on the laptop") || !strings.Contains(list, "NOTE:typed on the phone") {
		t.Fatalf("conflicts listing:\n%s", list)
	}
	var js []conflictJSON
	if err := json.Unmarshal([]byte(c.ok("", "conflicts", "--json")), &js); err != nil {
		t.Fatal(err)
	}
	if len(js) != 1 || js[0].ID != id || js[0].Kept != "NOTE:typed on the laptop" || js[0].Other != "NOTE:typed on the phone" || js[0].LosingSide != "local" {
		t.Fatalf("conflicts --json = %+v", js)
	}

	before := c.ok("", "get", "u1")
	c.ok("", "conflicts", "resolve", shortID(id))
	after := c.ok("", "get", "u1")
	if after != strings.Replace(before, "NOTE:typed on the laptop", "NOTE:typed on the phone", 1) {
		t.Fatalf("resolve changed more than NOTE:\nbefore %q\nafter  %q", before, after)
	}
	if out, errOut, _ := c.run("", "conflicts"); out != "" || !strings.Contains(errOut, "no open conflicts") {
		t.Fatalf("after resolve: %q %q", out, errOut)
	}
	// The resolution is a local change in the log, so it syncs like any edit.
	if changes := c.ok("", "changes", "--since", "1"); !strings.HasPrefix(changes, "update\tu1\trev=2\tlocal\n") {
		t.Fatalf("changes after resolve = %q", changes)
	}
	if all := c.ok("", "conflicts", "--all"); !strings.Contains(all, "took-loser at rev 2") {
		t.Fatalf("conflicts --all:\n%s", all)
	}
	if _, _, err := c.run("", "conflicts", "resolve", id); err == nil || !strings.Contains(err.Error(), "no open conflict") {
		t.Fatalf("resolving twice: %v", err)
	}
}

func TestConflictsKeepAndStale(t *testing.T) {
	c := newCLI(t)
	const (
		base   = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u2\r\nFN:Bo\r\nTITLE:Engineer\r\nEND:VCARD\r\n"
		local  = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u2\r\nFN:Bo\r\nTITLE:Manager\r\nEND:VCARD\r\n"
		remote = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u2\r\nFN:Bo\r\nTITLE:Director\r\nEND:VCARD\r\n"
	)
	res := storeMerge(t, c.db, base, local, remote)
	if len(res.Conflicts) != 1 {
		t.Fatalf("merge gave %d conflicts, want 1", len(res.Conflicts))
	}
	id := res.Conflicts[0].ID
	// The user edits the contact after the merge: swapping the old value back would overwrite the newer edit.
	edited := strings.Replace(string(res.Card.Bytes()), "TITLE:"+strings.TrimPrefix(res.Conflicts[0].Winner, "TITLE:"), "TITLE:CEO", 1)
	c.ok(edited, "update", "u2")
	if _, _, err := c.run("", "conflicts", "resolve", id); err == nil || !strings.Contains(err.Error(), "edited since the merge") {
		t.Fatalf("resolve of a stale conflict: %v", err)
	}
	c.ok("", "conflicts", "resolve", id, "--keep")
	if got := c.ok("", "get", "u2"); !strings.Contains(got, "TITLE:CEO") {
		t.Fatalf("--keep changed the contact: %q", got)
	}
	if _, _, err := c.run("", "conflicts", "frob"); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}

package device_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/conflict"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/device"
)

// merge records a real merge in the device's store the way the engine does: the merged card and its conflicts
// in one transaction.
func merge(t *testing.T, d *device.Device, base, local, remote string) conflict.Result {
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
	err = d.Store().Update(context.Background(), func(tx *changelog.Tx) error {
		if _, err := tx.Add(changelog.FromRemote("home"), changelog.Contact{ID: res.Card.UID(), Data: res.Card.Bytes()}); err != nil {
			return err
		}
		for _, c := range res.Conflicts {
			rec := engine.ConflictRecord(c)
			rec.Remote = "home"
			if err := tx.RecordConflict(rec); err != nil {
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

func card(uid, prop string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Ann\r\n" + prop + "\r\nEND:VCARD\r\n"
}

func TestConflictRecordRoundTrip(t *testing.T) {
	d := open(t)
	res := merge(t, d, card("u1", "NOTE:original"), card("u1", "NOTE:phone\r\nREV:20260102T000000Z"), card("u1", "NOTE:laptop\r\nREV:20260103T000000Z"))
	if len(res.Conflicts) != 1 || res.Conflicts[0].At.IsZero() {
		t.Fatalf("conflicts %+v, want one with the winner's REV", res.Conflicts)
	}
	cs, err := d.Conflicts(context.Background(), false)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Conflicts: %v, %v", cs, err)
	}
	// What the store gives back converts to the very decision the merge took.
	got, want := engine.ConflictDecision(cs[0]), res.Conflicts[0]
	if !got.At.Equal(want.At) {
		t.Fatalf("decision from the store at %v, want %v", got.At, want.At)
	}
	got.At = want.At
	if got != want {
		t.Fatalf("decision from the store %+v, want %+v", got, want)
	}
}

func TestTakeOtherByPrefix(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	res := merge(t, d, card("u1", "NOTE:original"), card("u1", "NOTE:phone"), card("u1", "NOTE:laptop"))
	id := res.Conflicts[0].ID
	before := get(t, d, "u1")
	kept := strings.TrimPrefix(res.Conflicts[0].Winner, "NOTE:")
	other := strings.TrimPrefix(res.Conflicts[0].Loser, "NOTE:")

	r, err := d.TakeOther(ctx, id[:6])
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != id || r.Rev != 2 {
		t.Fatalf("resolved %+v, want ID %s at revision 2", r, id)
	}
	if after := get(t, d, "u1"); after != strings.Replace(before, "NOTE:"+kept, "NOTE:"+other, 1) {
		t.Fatalf("TakeOther changed more than NOTE:\nbefore %q\nafter  %q", before, after)
	}
	all, err := d.Conflicts(ctx, true)
	if err != nil || len(all) != 1 || all[0].Resolution != device.TookLoser || all[0].ResolvedRev != 2 {
		t.Fatalf("conflicts after TakeOther: %+v, %v", all, err)
	}
	if _, err := d.TakeOther(ctx, id); !errors.Is(err, device.ErrNoConflict) {
		t.Fatalf("resolving twice: %v, want ErrNoConflict", err)
	}
}

func TestResolveRefusals(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	res := merge(t, d, card("u2", "TITLE:Engineer"), card("u2", "TITLE:Manager"), card("u2", "TITLE:Director"))
	merge(t, d, card("u3", "NOTE:a"), card("u3", "NOTE:b"), card("u3", "NOTE:c"))
	if _, err := d.FindConflict(ctx, ""); !errors.Is(err, device.ErrAmbiguous) {
		t.Fatalf("an empty prefix of two conflicts: %v, want ErrAmbiguous", err)
	}

	// Edited since the merge: taking the old value back would overwrite the newer edit.
	id := res.Conflicts[0].ID
	edited := strings.Replace(get(t, d, "u2"), res.Conflicts[0].Winner, "TITLE:CEO", 1)
	if _, _, err := d.Update(ctx, "u2", []byte(edited)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.TakeOther(ctx, id); !errors.Is(err, device.ErrStale) {
		t.Fatalf("TakeOther of a stale conflict: %v, want ErrStale", err)
	}
	r, err := d.KeepMerged(ctx, id)
	if err != nil || r.ID != id || r.Rev != 0 {
		t.Fatalf("KeepMerged: %+v, %v", r, err)
	}
	if got := get(t, d, "u2"); got != edited {
		t.Fatalf("KeepMerged changed the contact: %q", got)
	}

	// Removed since the merge: nothing to put the value back into.
	if err := d.Remove(ctx, "u3"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.TakeOther(ctx, ""); !errors.Is(err, device.ErrContactGone) {
		t.Fatalf("TakeOther for a removed contact: %v, want ErrContactGone", err)
	}
}

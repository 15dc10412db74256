package device_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine/device"
)

func TestOpenMakesAPrivateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	d, err := device.Open(filepath.Join(dir, "contacts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("store directory mode %v, want 0700", fi.Mode().Perm())
	}
	if _, err := device.Open(""); !errors.Is(err, device.ErrInvalid) {
		t.Fatalf("Open(\"\"): %v, want ErrInvalid", err)
	}
}

func TestAddAssignsUIDAndRefusesATakenOne(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	c, err := d.Add(ctx, []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jane Roe\r\nEND:VCARD\r\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ID) != 36 || c.Rev != 1 {
		t.Fatalf("Add gave ID %q at revision %d, want a new UUID at 1", c.ID, c.Rev)
	}
	if stored := get(t, d, c.ID); !strings.Contains(stored, "UID:"+c.ID+"\r\n") || !strings.Contains(stored, "FN:Jane Roe\r\n") {
		t.Fatalf("stored card %q lacks its UID or name", stored)
	}
	again, err := d.Add(ctx, []byte(get(t, d, c.ID)), "")
	if !errors.Is(err, device.ErrExists) || again.ID != c.ID {
		t.Fatalf("Add of a taken UID: %v, ID %q; want ErrExists naming %q", err, again.ID, c.ID)
	}
}

func TestAddFromMozContactJSON(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	c, err := d.Add(ctx, []byte(`{"givenName":["Ana"],"familyName":["Lima"],"name":["Ana Lima"],"email":[{"type":["work"],"value":"ana@example.org"}]}`), "social")
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != "social" {
		t.Fatalf("source %q, want social", c.Source)
	}
	cards, err := vcard.Parse([]byte(get(t, d, c.ID)))
	if err != nil || len(cards) != 1 {
		t.Fatalf("stored card does not parse: %v", err)
	}
	if cards[0].UID() != c.ID || cards[0].Get("EMAIL") == nil || cards[0].Get("EMAIL").Text() != "ana@example.org" {
		t.Fatalf("stored card %q", cards[0].Bytes())
	}
}

func TestBadInputIsAnInputError(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	for name, input := range map[string]string{
		"not a vCard":   "hello",
		"two cards":     "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:B\r\nEND:VCARD\r\n",
		"bad JSON":      `{"name": [1]}`,
		"bad vcard key": `{"vcard": "nonsense"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := d.Add(ctx, []byte(input), "")
			var ie *device.InputError
			if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "device: ") || strings.HasPrefix(ie.Error(), "device: ") {
				t.Fatalf("Add(%q): %v; want a device error around an InputError that names no package", input, err)
			}
		})
	}
	if _, err := d.Add(ctx, []byte(" \r\n"), ""); !errors.Is(err, device.ErrEmptyInput) {
		t.Fatalf("Add of blank input: %v, want ErrEmptyInput", err)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	c, err := d.Add(ctx, []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jane Roe\r\nTEL;TYPE=cell:+1 555 0101\r\nEND:VCARD\r\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	before := get(t, d, c.ID)

	// mozContact JSON as MozContact gives it, one field changed: only that property changes.
	mc, err := device.MozContact(c)
	if err != nil {
		t.Fatal(err)
	}
	mc.Name = []string{"Jane Q. Roe"}
	patch, err := json.Marshal(mc)
	if err != nil {
		t.Fatal(err)
	}
	up, changed, err := d.Update(ctx, c.ID, patch)
	if err != nil || !changed || up.Rev != 2 {
		t.Fatalf("JSON update: changed %v, rev %d, %v", changed, up.Rev, err)
	}
	after := get(t, d, c.ID)
	if strings.Replace(after, "FN:Jane Q. Roe", "FN:Jane Roe", 1) != before || after == before {
		t.Fatalf("JSON update changed more than FN:\nbefore %q\nafter  %q", before, after)
	}

	// The same card again commits nothing.
	if _, changed, err := d.Update(ctx, c.ID, []byte(after)); err != nil || changed {
		t.Fatalf("update with the stored card: changed %v, %v", changed, err)
	}
	if rev, err := d.Store().LastRevision(ctx); err != nil || rev != 2 {
		t.Fatalf("last revision %d (%v) after a no-op update, want 2", rev, err)
	}

	// A card without UID takes the contact's; another UID is refused.
	noUID := strings.Replace(after, "UID:"+c.ID+"\r\n", "", 1)
	noUID = strings.Replace(noUID, "FN:Jane Q. Roe", "FN:J. Roe", 1)
	if _, changed, err := d.Update(ctx, c.ID, []byte(noUID)); err != nil || !changed {
		t.Fatalf("update with a card without UID: changed %v, %v", changed, err)
	}
	if got := get(t, d, c.ID); !strings.Contains(got, "UID:"+c.ID) || !strings.Contains(got, "FN:J. Roe") {
		t.Fatalf("after an update without UID: %q", got)
	}
	var ie *device.InputError
	if _, _, err := d.Update(ctx, c.ID, []byte(strings.Replace(after, "UID:"+c.ID, "UID:someone-else", 1))); !errors.As(err, &ie) || !strings.Contains(err.Error(), "cannot change") {
		t.Fatalf("update with another UID: %v", err)
	}
	if _, _, err := d.Update(ctx, c.ID, []byte(`{"id":"someone-else","name":["X"]}`)); !errors.As(err, &ie) || !strings.Contains(err.Error(), "cannot change") {
		t.Fatalf("JSON update with another id: %v", err)
	}
	// An unknown ID is reported before the input is looked at.
	if _, _, err := d.Update(ctx, "nobody", nil); !errors.Is(err, device.ErrNotFound) {
		t.Fatalf("update of an unknown ID: %v, want ErrNotFound", err)
	}
}

func TestRemoveGetChanges(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	a, err := d.Add(ctx, []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:A\r\nEND:VCARD\r\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Add(ctx, []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:b\r\nFN:B\r\nEND:VCARD\r\n"), ""); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, "a"); !errors.Is(err, device.ErrNotFound) {
		t.Fatalf("Get after Remove: %v", err)
	}
	if err := d.Remove(ctx, "a"); !errors.Is(err, device.ErrNotFound) {
		t.Fatalf("second Remove: %v", err)
	}
	var ops []string
	for task, err := range d.Changes(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, task.Op.String()+" "+task.ID)
	}
	// The add and remove of a cancel out; b's add stays.
	if got := strings.Join(ops, ","); got != "add b,done " {
		t.Fatalf("changes since 0 = %q", got)
	}
	var ids []string
	for c, err := range d.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if len(ids) != 1 || ids[0] != "b" {
		t.Fatalf("List = %v", ids)
	}
}

func TestExportKeepsCardsVerbatim(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	// The first card has no final line break: the export must add one before the next card, and nothing else.
	first := "BEGIN:VCARD\nVERSION:3.0\nUID:a\nFN:A\nEND:VCARD"
	second := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:b\r\nFN:B\r\nEND:VCARD"
	for id, c := range map[string]string{"a": first, "b": second} {
		if _, err := d.Store().Add(ctx, changelog.Local, changelog.Contact{ID: id, Data: []byte(c)}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := d.Export(ctx, &buf)
	if err != nil || n != 2 {
		t.Fatalf("Export: %d, %v", n, err)
	}
	if want := first + "\r\n" + second; buf.String() != want {
		t.Fatalf("export = %q, want %q", buf.String(), want)
	}
}

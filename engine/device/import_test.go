package device_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/engine/device"
)

func TestImportBatchesAndReportsProgress(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	book := synthetic.AddressBook(4, 7)
	var calls [][2]int
	sum, err := d.Import(ctx, "book.vcf", strings.NewReader(string(book)), device.ImportOptions{Batch: 3,
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 7 || sum.Updated != 0 || sum.Unchanged != 0 || len(sum.Rejected) != 0 {
		t.Fatalf("summary %+v, want 7 added", sum)
	}
	if want := [][2]int{{0, 7}, {3, 7}, {6, 7}, {7, 7}}; !slices.Equal(calls, want) {
		t.Fatalf("progress calls %v, want %v (one per batch of 3)", calls, want)
	}
	// One revision per card.
	if rev, err := d.Store().LastRevision(ctx); err != nil || rev != 7 {
		t.Fatalf("last revision %d (%v), want 7", rev, err)
	}

	// Again: nothing changes and no revision is added; one card edited is an update.
	sum, err = d.ImportData(ctx, "book.vcf", book, device.ImportOptions{})
	if err != nil || sum.Unchanged != 7 || sum.Added != 0 {
		t.Fatalf("re-import: %+v, %v", sum, err)
	}
	edited := strings.Replace(string(book), "FN:", "FN:Dr ", 1)
	sum, err = d.ImportData(ctx, "book.vcf", []byte(edited), device.ImportOptions{})
	if err != nil || sum.Updated != 1 || sum.Unchanged != 6 {
		t.Fatalf("import of one edited card: %+v, %v", sum, err)
	}
	if rev, err := d.Store().LastRevision(ctx); err != nil || rev != 8 {
		t.Fatalf("last revision %d (%v), want 8", rev, err)
	}
}

func TestImportRejectsWithReasonsAndKeepsTheRest(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	data := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:good-1\r\nFN:Good One\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad-1\r\nFN:Never Ends\r\n"
	sum, err := d.ImportData(ctx, "mixed.vcf", []byte(data), device.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 1 || len(sum.Rejected) != 1 || !strings.HasPrefix(sum.Rejected[0], "mixed.vcf: ") || !strings.Contains(sum.Rejected[0], "line") {
		t.Fatalf("summary %+v: want one added and one rejected naming the file and line", sum)
	}
	if got := get(t, d, "good-1"); !strings.Contains(got, "FN:Good One") {
		t.Fatalf("good card: %q", got)
	}
}

func TestImportCardWithoutUIDIsStableAndVerbatim(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	card := "BEGIN:VCARD\nVERSION:3.0\nFN:No Uid\nEND:VCARD\n"
	for range 2 {
		if _, err := d.ImportData(ctx, "nouid.vcf", []byte(card), device.ImportOptions{Source: "social"}); err != nil {
			t.Fatal(err)
		}
	}
	parsed, err := vcard.Parse([]byte(card))
	if err != nil {
		t.Fatal(err)
	}
	id := device.ContactID(parsed[0])
	c, err := d.Get(ctx, id)
	if err != nil {
		t.Fatalf("the card is not under ContactID %s: %v", id, err)
	}
	if string(c.Data) != card || c.Source != "social" {
		t.Fatalf("stored %q from %q, want the card verbatim from social", c.Data, c.Source)
	}
	if n, err := d.Store().Count(ctx); err != nil || n != 1 {
		t.Fatalf("%d contacts (%v) after importing the same card twice, want 1", n, err)
	}
}

func TestImportStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := open(t)
	_, err := d.ImportData(ctx, "book.vcf", synthetic.AddressBook(1, 10), device.ImportOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("import with a canceled context: %v", err)
	}
	if n, err := d.Store().Count(context.Background()); err != nil || n != 0 {
		t.Fatalf("%d contacts (%v) stored by a canceled import", n, err)
	}
	if _, err := d.ImportData(context.Background(), "x", nil, device.ImportOptions{Batch: -1}); !errors.Is(err, device.ErrInvalid) {
		t.Fatalf("negative batch: %v", err)
	}
}

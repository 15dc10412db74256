package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/google/uuid"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
)

// DefaultImportBatch is the number of cards per transaction of an import. Each commit costs an fsync of the
// write-ahead log (synchronous=FULL), which on a busy disk is tens of milliseconds, so batches are large; a
// kill loses at most one batch's work, which the re-run redoes.
const DefaultImportBatch = 5000

// parseChunk is the number of cards parsed as one piece: small enough that the first batch's parse is short and
// the rest overlaps with the writes.
const parseChunk = 500

// uidNamespace derives a stable ID for cards that have no UID, from their bytes, so importing the same file
// twice finds the same contacts instead of duplicating them.
var uidNamespace = uuid.MustParse("6f1e2f3a-7c1d-4c8e-9a57-0e3b8c1d2a44")

// ImportOptions tune an import.
type ImportOptions struct {
	// Batch is the number of cards per transaction (0: DefaultImportBatch).
	Batch int
	// Source marks the contacts as coming from a source that must never be uploaded or merged (a social
	// network import, say); "" for ordinary contacts.
	Source string
	// Progress, when set, is called with the number of top-level cards in the input and how many of them are
	// done: once with done 0 before the first batch, then after each batch commits.
	Progress func(done, total int)
}

// ImportSummary counts what an import did.
type ImportSummary struct {
	Added, Updated, Unchanged int
	// Rejected names each card that could not be read, with the reason: "NAME: card 3 (line 40): …".
	Rejected []string
}

// Add adds o's counts to s, for a summary over several files.
func (s *ImportSummary) Add(o ImportSummary) {
	s.Added += o.Added
	s.Updated += o.Updated
	s.Unchanged += o.Unchanged
	s.Rejected = append(s.Rejected, o.Rejected...)
}

// Import reads a .vcf file from r and imports it: see ImportData. name names the input in the summary and in
// errors.
func (d *Device) Import(ctx context.Context, name string, r io.Reader, opts ImportOptions) (ImportSummary, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return ImportSummary{}, fmt.Errorf("device: import %s: %w", name, err)
	}
	return d.ImportData(ctx, name, data, opts)
}

// ImportData imports the cards of a .vcf file, a batch of cards per transaction, so a killed import keeps
// whole batches only and can simply be run again: new IDs are added, changed cards replace the stored ones,
// and a card already stored with the same bytes and source is left alone, adding no revision. A card without
// UID is stored verbatim under an ID derived from its bytes (see ContactID). Cards that cannot be read are
// rejected with their reason and the rest is imported. On an error the summary counts what committed before it.
func (d *Device) ImportData(ctx context.Context, name string, data []byte, opts ImportOptions) (ImportSummary, error) {
	var sum ImportSummary
	if err := d.importData(ctx, name, data, opts, &sum); err != nil {
		return sum, fmt.Errorf("device: %w", err)
	}
	return sum, nil
}

func (d *Device) importData(ctx context.Context, name string, data []byte, opts ImportOptions, sum *ImportSummary) error {
	batch := opts.Batch
	switch {
	case batch == 0:
		batch = DefaultImportBatch
	case batch < 0:
		return fmt.Errorf("%w: import batch %d < 1", ErrInvalid, batch)
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(int, int) {}
	}
	// Parse ahead in pieces on every core while the batches before commit: the parse and the writes cost about
	// the same, so overlapping them nearly halves an import.
	chunks, total := splitCards(data, min(batch, parseChunk))
	done := make(chan struct{})
	defer close(done)
	progress(0, total)
	var pending []*vcard.Card
	written := 0
	flush := func() error {
		if err := d.importBatch(ctx, pending, opts.Source, sum); err != nil {
			return fmt.Errorf("import %s (cards %d–%d): %w", name, written+1, written+len(pending), err)
		}
		written += len(pending)
		pending = pending[:0]
		progress(written, total)
		return nil
	}
	// Parse up to a batch beyond the one being filled: enough to keep every core busy while a batch commits.
	parsed := parseChunks(chunks, runtime.GOMAXPROCS(0)+(batch+parseChunk-1)/parseChunk, done)
	for {
		r, ok, err := parsed.take(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		for _, e := range r.errs {
			sum.Rejected = append(sum.Rejected, fmt.Sprintf("%s: %v", name, e))
		}
		for _, card := range r.cards {
			pending = append(pending, card)
			if len(pending) == batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if len(pending) > 0 {
		return flush()
	}
	return nil
}

// importBatch writes one batch in one transaction, and counts it in sum once it committed.
func (d *Device) importBatch(ctx context.Context, cards []*vcard.Card, source string, sum *ImportSummary) error {
	var batch ImportSummary
	err := d.store.Update(ctx, func(tx *changelog.Tx) error {
		batch = ImportSummary{}
		for _, card := range cards {
			if err := ctx.Err(); err != nil {
				return err
			}
			data := card.Bytes()
			id := contactID(card, data)
			// Try the add first: a first import, the common case, then costs no lookup. A statement that fails on
			// the unique key leaves the transaction as it was.
			_, err := tx.Add(changelog.Local, changelog.Contact{ID: id, Data: data, Source: source})
			if err == nil {
				batch.Added++
				continue
			}
			if !errors.Is(err, changelog.ErrExists) {
				return err
			}
			old, err := tx.Get(id)
			switch {
			case err != nil:
				return err
			case string(old.Data) == string(data) && old.Source == source:
				batch.Unchanged++
			default:
				if _, err := tx.Replace(changelog.Local, changelog.Contact{ID: id, Data: data, Source: source}); err != nil {
					return err
				}
				batch.Updated++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	sum.Add(batch)
	return nil
}

// ContactID is the ID a card is stored under: its UID, or for a card without one a UUID derived from its
// bytes. The card itself is kept as it came; a UID is written into it only when it is first uploaded.
func ContactID(card *vcard.Card) string { return contactID(card, card.Bytes()) }

// contactID is ContactID for a card whose bytes the caller already holds.
func contactID(card *vcard.Card, data []byte) string {
	if uid := card.UID(); uid != "" {
		return uid
	}
	return uuid.NewSHA1(uidNamespace, data).String()
}

// parseErrors unpacks the joined *vcard.ParseError values Parse returns, one per card it could not read.
func parseErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

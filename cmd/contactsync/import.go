package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/google/uuid"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
)

// importCmd reads .vcf files into the store, a batch of cards per transaction, so a killed import keeps whole
// batches only and can simply be run again: a card already in the store with the same bytes is left alone.
type importCmd struct {
	batch  int
	source string
	// memLimit is the process's memory limit before the import (GOMEMLIMIT, or none).
	memLimit int64
}

// importBatch is the default number of cards per transaction. Each commit costs an fsync of the write-ahead log
// (synchronous=FULL), which on a busy disk is tens of milliseconds, so batches are large; a kill loses at most
// one batch's work, which the re-run redoes.
const importBatch = 5000

// parseChunk is the number of cards parsed as one piece: small enough that the first batch's parse is short and
// the rest overlaps with the writes.
const parseChunk = 500

// importHeapLimit is the heap size, beyond the file being imported, below which an import does not collect
// garbage: it allocates a parsed card per card and keeps little but the file and the batches in flight (tens of
// MB), so collecting often costs more than the memory it frees. Past the limit the collector runs.
const importHeapLimit = 128 << 20

// uidNamespace derives a stable ID for cards that have no UID, from their bytes, so importing the same file
// twice finds the same contacts instead of duplicating them.
var uidNamespace = uuid.MustParse("6f1e2f3a-7c1d-4c8e-9a57-0e3b8c1d2a44")

type importSummary struct {
	added, updated, unchanged int
	rejected                  []string
}

func (c *importCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("import", g.stdio.Err)
	fs.IntVar(&c.batch, "batch", importBatch, "cards per transaction")
	fs.StringVar(&c.source, "source", "", "mark the contacts as coming from a source that must never be uploaded or merged (e.g. a social network import)")
	fs.Usage = func() {
		fmt.Fprintln(g.stdio.Err, "Usage: contactsync import [--batch N] [--source NAME] FILE...  (FILE - reads stdin)")
		fs.PrintDefaults()
	}
	files, err := g.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: import needs at least one .vcf file", errUsage)
	}
	if c.batch < 1 {
		return fmt.Errorf("%w: --batch must be at least 1", errUsage)
	}
	store, err := g.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	// Collect only once the heap nears importHeapLimit past the file (see importFile), or the limit the user
	// set if that is lower.
	c.memLimit = debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(c.memLimit)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))

	var sum importSummary
	for _, name := range files {
		if err := c.importFile(ctx, g, store, name, &sum); err != nil {
			printImportSummary(g.stdio.Out, &sum)
			return err
		}
	}
	printImportSummary(g.stdio.Out, &sum)
	if len(sum.rejected) > 0 {
		return fmt.Errorf("%d card(s) rejected", len(sum.rejected))
	}
	return nil
}

func (c *importCmd) importFile(ctx context.Context, g *globals, store *changelog.Store, name string, sum *importSummary) error {
	data, err := readInput(g.stdio.In, name)
	if err != nil {
		return err
	}
	debug.SetMemoryLimit(min(importHeapLimit+int64(len(data)), c.memLimit)) // never above the user's GOMEMLIMIT
	// Parse ahead in pieces on every core while the batches before commit: the parse and the writes cost about
	// the same, so overlapping them nearly halves an import.
	chunks, total := splitCards(data, min(c.batch, parseChunk))
	done := make(chan struct{})
	defer close(done)
	bar := newProgress(g.stdio.Err, "import "+name, int64(total))
	defer bar.Finish()
	var pending []*vcard.Card
	written := 0
	flush := func() error {
		if err := c.importBatch(ctx, store, pending, sum); err != nil {
			return fmt.Errorf("import %s (cards %d–%d): %w", name, written+1, written+len(pending), err)
		}
		bar.Add(int64(len(pending)))
		written += len(pending)
		pending = pending[:0]
		return nil
	}
	// Parse up to a batch beyond the one being filled: enough to keep every core busy while a batch commits.
	parsed := parseChunks(chunks, runtime.GOMAXPROCS(0)+(c.batch+parseChunk-1)/parseChunk, done)
	for {
		r, ok, err := parsed.take(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		for _, e := range r.errs {
			sum.rejected = append(sum.rejected, fmt.Sprintf("%s: %v", name, e))
		}
		for _, card := range r.cards {
			pending = append(pending, card)
			if len(pending) == c.batch {
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

// importBatch writes one batch in one transaction: new IDs are added, changed cards replace the stored ones,
// identical cards are skipped so a re-run after a kill adds no revision for work already done.
func (c *importCmd) importBatch(ctx context.Context, store *changelog.Store, cards []*vcard.Card, sum *importSummary) error {
	var batch importSummary
	err := store.Update(ctx, func(tx *changelog.Tx) error {
		batch = importSummary{}
		for _, card := range cards {
			if err := ctx.Err(); err != nil {
				return err
			}
			data := card.Bytes()
			id := contactID(card, data)
			// Try the add first: a first import, the common case, then costs no lookup. A statement that fails on
			// the unique key leaves the transaction as it was.
			_, err := tx.Add(changelog.Local, changelog.Contact{ID: id, Data: data, Source: c.source})
			if err == nil {
				batch.added++
				continue
			}
			if !errors.Is(err, changelog.ErrExists) {
				return err
			}
			old, err := tx.Get(id)
			switch {
			case err != nil:
				return err
			case string(old.Data) == string(data) && old.Source == c.source:
				batch.unchanged++
			default:
				if _, err := tx.Replace(changelog.Local, changelog.Contact{ID: id, Data: data, Source: c.source}); err != nil {
					return err
				}
				batch.updated++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	sum.added += batch.added
	sum.updated += batch.updated
	sum.unchanged += batch.unchanged
	return nil
}

// contactID is the card's UID, or for a card without one a UUID derived from its bytes. The card itself is kept
// as it came; a UID is written into it only when it is first uploaded to a server.
func contactID(card *vcard.Card, data []byte) string {
	if uid := card.UID(); uid != "" {
		return uid
	}
	return uuid.NewSHA1(uidNamespace, data).String()
}

func printImportSummary(w io.Writer, s *importSummary) {
	fmt.Fprintf(w, "imported %d, updated %d, unchanged %d, rejected %d\n", s.added, s.updated, s.unchanged, len(s.rejected))
	for _, r := range s.rejected {
		fmt.Fprintf(w, "  rejected: %s\n", r)
	}
}

// readInput reads a named file, or stdin for "-".
func readInput(stdin io.Reader, name string) ([]byte, error) {
	if name == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err // already names the file and the cause
	}
	return data, nil
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

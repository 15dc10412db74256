package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/contactsync/contactsync/engine/device"
)

// importCmd reads .vcf files into the store, a batch of cards per transaction, so a killed import keeps whole
// batches only and can simply be run again: a card already in the store with the same bytes is left alone.
type importCmd struct {
	batch  int
	source string
	// memLimit is the process's memory limit before the import (GOMEMLIMIT, or none).
	memLimit int64
}

// importHeapLimit is the heap size, beyond the file being imported, below which an import does not collect
// garbage: it allocates a parsed card per card and keeps little but the file and the batches in flight (tens of
// MB), so collecting often costs more than the memory it frees. Past the limit the collector runs. The process
// owns its collector, so the CLI sets this, not package device.
const importHeapLimit = 128 << 20

var importHelp = help{
	usage: []string{"import [--batch N] [--source NAME] FILE..."},
	about: "Imports the vCards of each .vcf FILE (- reads stdin) into the store, a batch of cards per transaction, and names every card it cannot read.",
}

func (c *importCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("import", importHelp)
	fs.IntVar(&c.batch, "batch", device.DefaultImportBatch, "cards per transaction")
	fs.StringVar(&c.source, "source", "", "mark the contacts as coming from source `NAME`, whose contacts are never uploaded or merged (a social network import, say)")
	d, files, err := g.open(fs, args, func(files []string) error {
		if len(files) == 0 {
			return fmt.Errorf("%w: import needs at least one .vcf file", errUsage)
		}
		if c.batch < 1 {
			return fmt.Errorf("%w: --batch must be at least 1", errUsage)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.Close()
	// Collect only once the heap nears importHeapLimit past the file (see importFile), or the limit the user
	// set if that is lower.
	c.memLimit = debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(c.memLimit)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))

	var sum device.ImportSummary
	// What the summary lists as rejected in a file without any card is not a card but the text around none,
	// so such a file is said to hold no vCard instead.
	var empty []string
	rejected := 0
	for _, name := range files {
		before := len(sum.Rejected)
		cards, err := c.importFile(ctx, g, d, name, &sum)
		if err != nil {
			printImportSummary(g.stdio.Out, &sum)
			return err
		}
		if cards == 0 {
			empty = append(empty, inputName(name))
		} else {
			rejected += len(sum.Rejected) - before
		}
	}
	printImportSummary(g.stdio.Out, &sum)
	var errs []string
	if len(empty) > 0 {
		errs = append(errs, "no vCard found in "+strings.Join(empty, ", "))
	}
	if rejected > 0 {
		errs = append(errs, fmt.Sprintf("%d card(s) rejected", rejected))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// inputName is how messages name an input file.
func inputName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

// importFile imports one file and returns how many cards (BEGIN:VCARD ... END:VCARD) it held, read or not.
func (c *importCmd) importFile(ctx context.Context, g *globals, d *device.Device, name string, sum *device.ImportSummary) (cards int, err error) {
	data, err := readInput(g.stdio.In, name)
	if err != nil {
		return 0, err
	}
	debug.SetMemoryLimit(min(importHeapLimit+int64(len(data)), c.memLimit)) // never above the user's GOMEMLIMIT
	var bar *progress
	defer func() {
		if bar != nil {
			bar.Finish()
		}
	}()
	shown := 0
	file, err := d.ImportData(ctx, name, data, device.ImportOptions{Batch: c.batch, Source: c.source, Progress: func(done, total int) {
		cards = total
		if bar == nil {
			bar = newProgress(g.stdio.Err, "import "+name, int64(total))
		}
		bar.Add(int64(done - shown))
		shown = done
	}})
	sum.Add(file)
	return cards, err
}

func printImportSummary(w io.Writer, s *device.ImportSummary) {
	fmt.Fprintf(w, "imported %d, updated %d, unchanged %d, rejected %d\n", s.Added, s.Updated, s.Unchanged, len(s.Rejected))
	for _, r := range s.Rejected {
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

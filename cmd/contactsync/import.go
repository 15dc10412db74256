package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

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

func (c *importCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("import", g.stdio.Err)
	fs.IntVar(&c.batch, "batch", device.DefaultImportBatch, "cards per transaction")
	fs.StringVar(&c.source, "source", "", "mark the contacts as coming from a source that must never be uploaded or merged (e.g. a social network import)")
	fs.Usage = func() {
		fmt.Fprintln(g.stdio.Err, "Usage: contactsync import [--batch N] [--source NAME] FILE...  (FILE - reads stdin)")
		fs.PrintDefaults()
	}
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
	for _, name := range files {
		if err := c.importFile(ctx, g, d, name, &sum); err != nil {
			printImportSummary(g.stdio.Out, &sum)
			return err
		}
	}
	printImportSummary(g.stdio.Out, &sum)
	if len(sum.Rejected) > 0 {
		return fmt.Errorf("%d card(s) rejected", len(sum.Rejected))
	}
	return nil
}

func (c *importCmd) importFile(ctx context.Context, g *globals, d *device.Device, name string, sum *device.ImportSummary) error {
	data, err := readInput(g.stdio.In, name)
	if err != nil {
		return err
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
		if bar == nil {
			bar = newProgress(g.stdio.Err, "import "+name, int64(total))
		}
		bar.Add(int64(done - shown))
		shown = done
	}})
	sum.Add(file)
	return err
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

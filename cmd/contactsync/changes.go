package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/contactsync/contactsync/changelog"
)

// changesCmd prints the changelog's DataStore tasks since a revision, one per line, as a consumer replaying
// from that cursor would see them.
type changesCmd struct {
	since uint64
	json  bool
}

var changesHelp = help{
	usage: []string{"changes [--since REV] [--json]"},
	about: "Prints the changelog's tasks since revision REV, one per line, as a consumer whose cursor is at REV would replay them.",
}

// taskJSON is one line of `changes --json`.
type taskJSON struct {
	Op      string   `json:"op"`
	ID      string   `json:"id,omitempty"`
	Rev     uint64   `json:"rev"`
	Origins []string `json:"origins,omitempty"`
}

func (c *changesCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("changes", changesHelp)
	fs.Uint64Var(&c.since, "since", 0, "replay from revision `REV` (0: everything)")
	fs.BoolVar(&c.json, "json", false, "one JSON object per line")
	d, _, err := g.open(fs, args, noArgs("changes takes no arguments (use --since REV)"))
	if err != nil {
		return err
	}
	defer d.Close()

	w := bufio.NewWriter(g.stdio.Out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	for task, err := range d.Changes(ctx, c.since) {
		if err != nil {
			return err
		}
		origins := make([]string, len(task.Origins))
		for i, o := range task.Origins {
			origins[i] = string(o)
		}
		if c.json {
			if err := enc.Encode(taskJSON{Op: task.Op.String(), ID: task.ID, Rev: task.Rev, Origins: origins}); err != nil {
				return err
			}
			continue
		}
		switch task.Op {
		case changelog.OpDone:
			fmt.Fprintf(w, "done\trev=%d\n", task.Rev)
		case changelog.OpClear:
			fmt.Fprintf(w, "clear\trev=%d\n", task.Rev)
		default:
			fmt.Fprintf(w, "%s\t%s\trev=%d\t%s\n", task.Op, task.ID, task.Rev, strings.Join(origins, ","))
		}
	}
	return w.Flush()
}

package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// help is a command's help text in the house style: how to call it, one sentence saying what it does, then its
// flags.
type help struct {
	// usage are the ways to call the command, each written after "contactsync ".
	usage []string
	// about is one sentence saying what the command does.
	about string
	// more, when set, is printed after about (the list of commands, say).
	more string
	// first names flags to list first, in this order, where a flag belongs next to another; the rest follow
	// in alphabetical order.
	first []string
	// hide names flags of the flag set that do not apply to this form of the command (a verb's flag set shared
	// with its siblings).
	hide []string
	// notes, when set, is a paragraph after the flags.
	notes string
}

// newFlagSet returns the flag set of a command whose help is h. The flag package's own messages are
// discarded: a parse error is returned and printed once by main, and -h or --help prints h on stdout (see
// parseArgs).
func newFlagSet(name string, h help) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() { h.write(fs.Output(), fs) }
	return fs
}

// write prints the help, with the flags of fs (nil for a command without flags of its own).
func (h help) write(w io.Writer, fs *flag.FlagSet) {
	for i, u := range h.usage {
		lead := "Usage: "
		if i > 0 {
			lead = "       "
		}
		fmt.Fprintf(w, "%scontactsync %s\n", lead, u)
	}
	fmt.Fprintf(w, "\n%s\n%s", h.about, h.more)
	if names := h.flagOrder(fs); len(names) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		for _, name := range names {
			writeFlag(w, fs.Lookup(name))
		}
	}
	if h.notes != "" {
		fmt.Fprintf(w, "\n%s\n", h.notes)
	}
}

// flagOrder lists fs's flags: those named in first, then the others alphabetically.
func (h help) flagOrder(fs *flag.FlagSet) []string {
	if fs == nil {
		return nil
	}
	var names []string
	for _, name := range h.first {
		if fs.Lookup(name) != nil && !slices.Contains(h.hide, name) {
			names = append(names, name)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(h.first, f.Name) && !slices.Contains(h.hide, f.Name) {
			names = append(names, f.Name)
		}
	})
	return names
}

// valueNames are the placeholders of flag values whose text names none (with `NAME` in back quotes).
var valueNames = map[string]string{"int": "N", "uint": "N", "float": "NUMBER", "duration": "DURATION", "string": "TEXT"}

// writeFlag prints one flag as `--name VALUE` (`-n VALUE` for a one-letter name) and, below it, what it does and its default.
func writeFlag(w io.Writer, f *flag.Flag) {
	value, usage := flag.UnquoteUsage(f)
	if v, ok := valueNames[value]; ok {
		value = v
	}
	if value != "" {
		value = " " + value
	}
	dash := "--"
	if len(f.Name) == 1 {
		dash = "-" // -o, -v: one letter, one dash, as people type them
	}
	fmt.Fprintf(w, "  %s%s%s\n      %s%s\n", dash, f.Name, value, usage, defaultText(f))
}

// defaultText is " (default X)" for a flag whose default is not its type's zero value.
func defaultText(f *flag.Flag) string {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return ""
	}
	def := f.DefValue
	if d, err := time.ParseDuration(def); err == nil && strings.HasSuffix(def, "s") {
		def = shortDuration(d)
	}
	return fmt.Sprintf(" (default %s)", def)
}

// shortDuration writes d as people do: 5m and 1h30m rather than Go's 5m0s and 1h30m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

package main

import (
	"flag"
	"fmt"

	"github.com/contactsync/contactsync/engine/device"
)

// open is the preamble of every command that works on the store: it parses the command's flags (the globals
// included), lets check refuse the positional arguments as a usage error before anything is opened, and opens
// the device --db names. The caller closes the device.
func (g *globals) open(fs *flag.FlagSet, args []string, check func(pos []string) error) (*device.Device, []string, error) {
	pos, err := g.parseFlags(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if check != nil {
		if err := check(pos); err != nil {
			return nil, nil, err
		}
	}
	if g.db == "" {
		return nil, nil, fmt.Errorf("%w: no store path: pass --db or set CONTACTSYNC_DB", errUsage)
	}
	d, err := device.Open(g.db)
	if err != nil {
		return nil, nil, err
	}
	return d, pos, nil
}

// noArgs refuses positional arguments, saying so in msg.
func noArgs(msg string) func([]string) error {
	return func(pos []string) error {
		if len(pos) > 0 {
			return fmt.Errorf("%w: %s", errUsage, msg)
		}
		return nil
	}
}

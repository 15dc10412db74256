package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/engine"

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
	var opts []device.Option
	if g.timeouts != (carddav.Timeouts{}) {
		for _, t := range []time.Duration{g.timeouts.Connect, g.timeouts.TLSHandshake, g.timeouts.ResponseHeader, g.timeouts.Stall} {
			if t <= 0 {
				return nil, nil, fmt.Errorf("%w: timeouts must be positive", errUsage)
			}
		}
		opts = append(opts, device.WithKind(engine.KindCardDAV, device.NewCardDAV(device.CardDAVOptions{Timeouts: g.timeouts})))
	}
	d, err := device.Open(g.db, opts...)
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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/contactsync/contactsync/engine/testbed"
)

// testbedCmd runs the multi-device test bed (package engine/testbed) and prints its report: N devices,
// seeded random edits, faults and kills, and an oracle that checks convergence and that nothing was lost.
type testbedCmd struct {
	cfg                    testbed.Config
	seed                   uint64
	passwordFile, keepDir  string
	asJSON, withVdirsyncer bool
}

var testbedHelp = help{
	usage: []string{"testbed [--devices N] [--contacts N] [--ops N] [--seed N] [--duration DURATION] [--kill-rate NUMBER] " +
		"[--fault-rate NUMBER] [--server URL [--username NAME --password-file FILE]] [--with-vdirsyncer] [--dir DIR] [--json]"},
	about: "Runs N simulated devices making random concurrent edits, with faults and kills, against one server, and checks that they converge with no duplicate and no lost edit.",
}

func (c *testbedCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("testbed", testbedHelp)
	fs.IntVar(&c.cfg.Devices, "devices", 3, "number of devices")
	fs.IntVar(&c.cfg.Contacts, "contacts", 100, "contacts on the server before the devices start")
	fs.IntVar(&c.cfg.Ops, "ops", 50, "random edits per device")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the run; the same seed gives the same plan of edits, kills and faults")
	fs.StringVar(&c.cfg.Server, "server", "", "the CardDAV server at `URL` (default: the embedded server, in this process, data in a temporary directory); the run creates and deletes an address book of its own there")
	fs.StringVar(&c.cfg.Username, "username", "", "user `NAME` on --server")
	fs.StringVar(&c.passwordFile, "password-file", "", "`FILE` whose first line is the password for --server")
	fs.Float64Var(&c.cfg.KillRate, "kill-rate", 0, "SIGKILLs per second of each device's worker (above 0, workers run as 'contactsync worker' processes)")
	fs.Float64Var(&c.cfg.FaultRate, "fault-rate", 0, "share of requests, 0 to 1, that meet an injected fault during the edits")
	fs.DurationVar(&c.cfg.Duration, "duration", 10*time.Second, "length of the edit phase")
	fs.DurationVar(&c.cfg.ConvergeTimeout, "converge-timeout", 2*time.Minute, "how long the devices may take to converge once the edits stop")
	fs.BoolVar(&c.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&c.withVdirsyncer, "with-vdirsyncer", false, "add Debian's vdirsyncer, syncing a vdir the test bed edits, as one more device")
	fs.StringVar(&c.keepDir, "dir", "", "keep the devices' stores and logs in `DIR` (default: a temporary directory, removed)")
	pos, err := g.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: testbed takes no arguments", errUsage)
	}
	if c.passwordFile != "" {
		if c.cfg.Password, err = readSecretFile(c.passwordFile, g.stdio.In); err != nil {
			return err
		}
	}
	c.cfg.Seed, c.cfg.Vdirsyncer, c.cfg.Dir, c.cfg.Log = c.seed, c.withVdirsyncer, c.keepDir, g.stdio.Err
	if c.cfg.KillRate > 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("testbed: find this program to run its workers: %w", err)
		}
		c.cfg.Command = func(args ...string) *exec.Cmd { return exec.Command(exe, args...) }
	}
	rep, err := testbed.Run(ctx, c.cfg)
	if rep.Devices > 0 { // a run took place, passed or not
		if c.asJSON {
			enc := json.NewEncoder(g.stdio.Out)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(rep); jerr != nil && err == nil {
				err = jerr
			}
		} else {
			fmt.Fprint(g.stdio.Out, rep)
		}
	}
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	return nil
}

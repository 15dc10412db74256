package testbed

import (
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"time"
)

// Config describes one run. A zero Devices, Contacts, Ops, Duration or ConvergeTimeout takes the default.
type Config struct {
	// Devices is the number of devices (3 by default).
	Devices int
	// Contacts is the number of contacts on the server before the devices start (100 by default).
	Contacts int
	// Ops is the number of random edits each device makes (50 by default); concurrent edits of the same
	// contact on several devices come on top, one group for every ten of them.
	Ops int
	// Seed makes a run reproducible: the same seed gives the same plan of edits (kinds, instants, targets,
	// values), kills and fault draws. Which request meets which fault and whether a target is on a device yet
	// depend on timing.
	Seed uint64
	// Duration is how long the edit phase lasts; the edits, kills and faults are spread over it (10s by
	// default).
	Duration time.Duration
	// ConvergeTimeout bounds the wait, after the edit phase, for every device to hold what the server holds
	// (2 minutes by default).
	ConvergeTimeout time.Duration

	// Server is the CardDAV server URL; empty runs the embedded server in this process, with its data in a
	// temporary directory. On another server the run creates an address book of its own and deletes it at
	// the end.
	Server, Username, Password string

	// KillRate is how many times per second, on average, each device's worker is SIGKILLed during the edit
	// phase. Above 0 the workers run as separate processes (Command); at 0 they run in this process.
	KillRate float64
	// FaultRate is the share of requests, in [0, 1], that meet a fault during the edit phase.
	FaultRate float64

	// Command returns the command that runs the contactsync CLI with args (`--db DB worker …`, `--db DB
	// remote add …`); needed when KillRate > 0.
	Command func(args ...string) *exec.Cmd

	// Vdirsyncer adds Debian's vdirsyncer, syncing a vdir the test bed edits, as one more device.
	Vdirsyncer bool

	// Dir holds the devices' stores and logs; empty uses a temporary directory removed at the end.
	Dir string
	// Log receives progress lines (nothing by default).
	Log io.Writer
	// Logger receives the engine's logs of in-process workers (nothing by default).
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Devices == 0 {
		c.Devices = 3
	}
	if c.Contacts == 0 {
		c.Contacts = 100
	}
	if c.Ops == 0 {
		c.Ops = 50
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.ConvergeTimeout == 0 {
		c.ConvergeTimeout = 2 * time.Minute
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	switch {
	case c.Devices < 1 || c.Devices > 99:
		return c, fmt.Errorf("%w: %d devices (1 to 99)", ErrInvalid, c.Devices)
	case c.Contacts < 1 || c.Contacts > 99_999:
		return c, fmt.Errorf("%w: %d contacts (1 to 99,999)", ErrInvalid, c.Contacts)
	case c.Ops < 0 || c.Ops > 49_999:
		return c, fmt.Errorf("%w: %d ops per device (1 to 49,999)", ErrInvalid, c.Ops)
	case c.Duration < 0 || c.ConvergeTimeout < 0:
		return c, fmt.Errorf("%w: negative duration", ErrInvalid)
	case c.KillRate < 0 || c.KillRate > 100:
		return c, fmt.Errorf("%w: kill rate %v per second (0 to 100)", ErrInvalid, c.KillRate)
	case c.FaultRate < 0 || c.FaultRate > 1 || c.FaultRate != c.FaultRate:
		return c, fmt.Errorf("%w: fault rate %v (0 to 1)", ErrInvalid, c.FaultRate)
	case c.KillRate > 0 && c.Command == nil:
		return c, fmt.Errorf("%w: kills need Command to run workers as processes", ErrInvalid)
	case c.Server == "" && (c.Username != "" || c.Password != ""):
		return c, fmt.Errorf("%w: credentials without a server", ErrInvalid)
	}
	return c, nil
}

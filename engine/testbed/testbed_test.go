package testbed_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/engine/testbed"
	"go.uber.org/goleak"
)

// TestScenarios runs fixed-seed test beds with in-process workers and one request in ten failing, against
// the embedded server, Radicale, Xandikos and SabreDAV, and with vdirsyncer as a third-party device. Each must converge
// with nothing lost. (The scenarios with workers as processes SIGKILLed live with the CLI, in
// cmd/contactsync, which is the program they run.)
func TestScenarios(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server string // "" for the embedded server, else a carddavtest server name
		cfg    testbed.Config
	}{
		{"embedded", "", testbed.Config{Seed: 201, Devices: 3, Contacts: 200, Ops: 60, Duration: 8 * time.Second, FaultRate: 0.1}},
		{"embedded, five devices", "", testbed.Config{Seed: 202, Devices: 5, Contacts: 100, Ops: 40, Duration: 6 * time.Second, FaultRate: 0.1}},
		{"radicale", "radicale", testbed.Config{Seed: 203, Devices: 3, Contacts: 80, Ops: 40, Duration: 8 * time.Second, FaultRate: 0.1}},
		{"xandikos", "xandikos", testbed.Config{Seed: 204, Devices: 3, Contacts: 60, Ops: 30, Duration: 8 * time.Second, FaultRate: 0.1}},
		{"sabredav", "sabredav", testbed.Config{Seed: 206, Devices: 3, Contacts: 60, Ops: 30, Duration: 8 * time.Second, FaultRate: 0.1}},
		{"embedded with vdirsyncer", "", testbed.Config{Seed: 205, Devices: 2, Contacts: 100, Ops: 30, Duration: 8 * time.Second, FaultRate: 0.1, Vdirsyncer: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if tc.server != "" {
				srv := carddavtest.Start(t, tc.server)
				cfg.Server, cfg.Username, cfg.Password = srv.URL, srv.Username, srv.Password
			}
			cfg.Log = logWriter{t}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rep, err := testbed.Run(ctx, cfg)
			if errors.Is(err, testbed.ErrNoVdirsyncer) && os.Getenv("CI") == "" {
				t.Skip(err)
			}
			t.Logf("\n%s", rep)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Passed || rep.FaultsTotal == 0 || rep.EditsTotal == 0 || rep.Concurrent == 0 {
				t.Fatalf("a passing run with faults, edits and concurrent edits expected: %+v", rep)
			}
			if cfg.Vdirsyncer && (rep.ThirdParty == nil || rep.ThirdParty.Acknowledged == 0) {
				t.Fatalf("vdirsyncer's edits never reached the server: %+v", rep.ThirdParty)
			}
		})
	}
}

// TestSeedReproducesPlan runs the same small seed twice without faults or concurrency in the plan's timing:
// the edits made are the same.
func TestSeedReproducesPlan(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"), goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
	run := func() testbed.Report {
		rep, err := testbed.Run(context.Background(), testbed.Config{Seed: 42, Devices: 1, Contacts: 20, Ops: 25, Duration: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	a, b := run(), run()
	if a.EditsTotal != b.EditsTotal || a.Skipped != b.Skipped || a.Contacts != b.Contacts || len(a.Edits) != len(b.Edits) {
		t.Fatalf("seed 42 twice, different runs:\n%s\n%s", a, b)
	}
	for k, n := range a.Edits {
		if b.Edits[k] != n {
			t.Fatalf("seed 42 twice: %d then %d %s edits", n, b.Edits[k], k)
		}
	}
}

func TestConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  testbed.Config
	}{
		{"too many devices", testbed.Config{Devices: 100}},
		{"fault rate above 1", testbed.Config{FaultRate: 1.5}},
		{"kills without a command", testbed.Config{KillRate: 1}},
		{"credentials without a server", testbed.Config{Username: "u"}},
		{"negative ops", testbed.Config{Ops: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := testbed.Run(context.Background(), tc.cfg); !errors.Is(err, testbed.ErrInvalid) {
				t.Fatalf("Run: %v, want ErrInvalid", err)
			}
		})
	}
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

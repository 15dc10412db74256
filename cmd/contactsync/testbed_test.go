package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/engine/testbed"
)

// runTestbed runs `contactsync testbed ARGS --json` in this process and decodes its report. Workers it starts
// as processes are this test binary acting as the CLI (see TestMain).
func runTestbed(t *testing.T, args ...string) (testbed.Report, string, error) {
	t.Helper()
	t.Setenv("CONTACTSYNC_AS_CLI", "1")
	var out, errOut bytes.Buffer
	err := Run(context.Background(), append([]string{"testbed", "--json"}, args...), Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut})
	var rep testbed.Report
	if out.Len() > 0 {
		if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
			t.Fatalf("testbed --json printed something that is not a report: %v\n%s", jerr, out.String())
		}
	}
	return rep, errOut.String(), err
}

func TestTestbedUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want error
	}{
		{"positional argument", []string{"testbed", "extra"}, errUsage},
		{"unknown flag", []string{"testbed", "--bogus"}, errUsage},
		{"fault rate above 1", []string{"testbed", "--fault-rate", "2"}, testbed.ErrInvalid},
		{"password without server", []string{"testbed", "--username", "u"}, testbed.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			if _, _, err := c.run("", tc.args...); !errors.Is(err, tc.want) {
				t.Fatalf("contactsync %s: %v, want %v", strings.Join(tc.args, " "), err, tc.want)
			}
		})
	}
}

// TestTestbedReport runs a small in-process test bed and checks the report it prints, as JSON and as text.
func TestTestbedReport(t *testing.T) {
	rep, log, err := runTestbed(t, "--devices", "2", "--contacts", "30", "--ops", "15", "--duration", "1500ms", "--seed", "3")
	if err != nil {
		t.Fatalf("testbed: %v\n%s", err, log)
	}
	if !rep.Passed || !rep.Converged || rep.Devices != 2 || rep.InitialContacts != 30 || rep.EditsTotal == 0 || rep.Requests == 0 {
		t.Fatalf("report: %+v", rep)
	}
	if !strings.Contains(log, "waiting for convergence") {
		t.Errorf("no progress on stderr: %q", log)
	}
	c := newCLI(t)
	text := c.ok("", "testbed", "--devices", "2", "--contacts", "10", "--ops", "5", "--duration", "500ms")
	if !strings.HasPrefix(text, "testbed PASS: seed 1, 2 devices") || !strings.Contains(text, "no acknowledged edit lost") {
		t.Errorf("text report:\n%s", text)
	}
}

// killScenarios are the fixed-seed regression runs with workers as processes SIGKILLed at random instants and
// one request in ten failing, against the embedded server and Radicale.
var killScenarios = []struct {
	server string // "" for the embedded server
	args   []string
}{
	{"", []string{"--seed", "101", "--devices", "3", "--contacts", "300", "--ops", "60", "--duration", "12s", "--kill-rate", "3", "--fault-rate", "0.1"}},
	{"", []string{"--seed", "102", "--devices", "4", "--contacts", "150", "--ops", "50", "--duration", "12s", "--kill-rate", "3", "--fault-rate", "0.1"}},
	{"radicale", []string{"--seed", "103", "--devices", "3", "--contacts", "100", "--ops", "40", "--duration", "12s", "--kill-rate", "2", "--fault-rate", "0.1"}},
}

// TestTestbedKillScenarios is the bar: at least 200 kills and a 10% fault rate across the runs, every
// run converging with nothing lost.
func TestTestbedKillScenarios(t *testing.T) {
	kills := 0
	var faults int64
	for _, sc := range killScenarios {
		name := sc.server
		if name == "" {
			name = "embedded"
		}
		t.Run(name+"/"+strings.Join(sc.args[:2], "="), func(t *testing.T) {
			args := sc.args
			if sc.server == "radicale" {
				srv := carddavtest.Start(t, "radicale")
				pw := filepath.Join(t.TempDir(), "password")
				if err := os.WriteFile(pw, []byte(srv.Password+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--server", srv.URL, "--username", srv.Username, "--password-file", pw)
			}
			rep, log, err := runTestbed(t, args...)
			t.Logf("%s", textOf(rep))
			if err != nil {
				t.Fatalf("testbed: %v\nlog:\n%s", err, log)
			}
			if rep.Kills == 0 || rep.FaultsTotal == 0 {
				t.Fatalf("no kills or no faults: the run proved little: %+v", rep)
			}
			kills += rep.Kills
			faults += rep.FaultsTotal
		})
	}
	t.Logf("across the runs: %d kills, %d faults", kills, faults)
	if !t.Failed() && kills < 200 {
		t.Errorf("%d kills across the runs, want at least 200", kills)
	}
}

func textOf(r testbed.Report) string { return fmt.Sprint(r) }

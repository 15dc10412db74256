package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// remoteName is the name every benchmark device gives its one remote.
const remoteName = "bench"

// device is our side: a contactsync store set up as a user does (`import`, `remote add`), synced either by the
// engine in this process (what the engine itself costs) or by the `contactsync sync` command (what a user runs,
// process start and store open included).
type device struct {
	bin, db        string
	abURL          string
	user, password string
}

// newDevice imports cards (none for an empty device) into a store in dir and adds the address book at abURL as
// its remote.
func newDevice(ctx context.Context, b *testing.B, dir, bin, abURL, user, password string, cards [][]byte) *device {
	b.Helper()
	d := &device{bin: bin, db: filepath.Join(dir, "contacts.db"), abURL: abURL, user: user, password: password}
	if len(cards) > 0 {
		file := filepath.Join(dir, "book.vcf")
		if err := os.WriteFile(file, bytes.Join(cards, nil), 0o600); err != nil {
			b.Fatal(err)
		}
		d.run(ctx, b, "import", file)
	}
	args := []string{"remote", "add", remoteName, "--url", abURL}
	if user != "" {
		pw := filepath.Join(dir, "password")
		if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		args = append(args, "--username", user, "--password-file", pw)
	}
	d.run(ctx, b, args...)
	return d
}

func (d *device) run(ctx context.Context, b *testing.B, args ...string) {
	b.Helper()
	if out, err := exec.CommandContext(ctx, d.bin, append([]string{"--db", d.db}, args...)...).CombinedOutput(); err != nil {
		b.Fatalf("contactsync %s: %v\n%s", args[0], err, out)
	}
}

// engineSync runs one Sync in this process, built as `contactsync sync` builds it (same client options, same
// engine defaults, a Meter counting requests). Only the Sync call is timed; opening the store is not.
func (d *device) engineSync(ctx context.Context) (engine.Stats, time.Duration, error) {
	store, err := changelog.Open(d.db, engine.Migrations())
	if err != nil {
		return engine.Stats{}, 0, err
	}
	defer store.Close()
	meter := carddav.NewMeter(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	opts := []carddav.Option{carddav.WithUserAgent("contactsync"), carddav.WithHTTPClient(meter)}
	if d.user != "" {
		opts = append(opts, carddav.WithBasicAuth(d.user, d.password))
	}
	client, err := carddav.New(d.abURL, opts...)
	if err != nil {
		return engine.Stats{}, 0, err
	}
	s, err := engine.NewSyncer(ctx, store, remoteName, client.Collection(d.abURL), engine.WithMeter(meter))
	if err != nil {
		return engine.Stats{}, 0, err
	}
	start := time.Now()
	st, err := s.Sync(ctx)
	return st, time.Since(start), err
}

// cliOutcome is what one `contactsync sync` process did, from its summary line and its rusage.
type cliOutcome struct {
	elapsed                        time.Duration
	uploaded, downloaded, requests int64
	// maxRSS is the process's peak resident set, in bytes.
	maxRSS int64
}

var summaryField = regexp.MustCompile(`(uploaded|downloaded|requests) (\d+)`)

// cliSync runs `contactsync sync` as a child process, timed from start to exit.
func (d *device) cliSync(ctx context.Context) (cliOutcome, error) {
	cmd := exec.CommandContext(ctx, d.bin, "--db", d.db, "sync", remoteName)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	o := cliOutcome{elapsed: time.Since(start)}
	if err != nil {
		return o, fmt.Errorf("contactsync sync: %w\n%s", err, out.Bytes())
	}
	for _, m := range summaryField.FindAllSubmatch(out.Bytes(), -1) {
		v, _ := strconv.ParseInt(string(m[2]), 10, 64)
		switch string(m[1]) {
		case "uploaded":
			o.uploaded = v
		case "downloaded":
			o.downloaded = v
		case "requests":
			o.requests = v
		}
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.maxRSS = ru.Maxrss * 1024 // Linux reports kilobytes
	}
	return o, nil
}

// edit changes the contacts with these UIDs on the device, as a user's edit would (one local transaction).
func (d *device) edit(ctx context.Context, uids []string, round int) error {
	store, err := changelog.Open(d.db, engine.Migrations())
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Update(ctx, func(tx *changelog.Tx) error {
		for _, id := range uids {
			c, err := tx.Get(id)
			if err != nil {
				return err
			}
			if _, err := tx.Replace(changelog.Local, changelog.Contact{ID: id, Data: editCard(c.Data, round)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// count returns how many contacts the device holds.
func (d *device) count(ctx context.Context) (int, error) {
	store, err := changelog.Open(d.db, engine.Migrations())
	if err != nil {
		return 0, err
	}
	defer store.Close()
	return store.Count(ctx)
}

// editCard is the edit every contender makes: the formatted name changes, nothing else.
func editCard(card []byte, round int) []byte {
	return bytes.Replace(card, []byte("\r\nFN:"), fmt.Appendf(nil, "\r\nFN:Edited%d ", round), 1)
}

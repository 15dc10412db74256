package testbed

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
	enginedevice "github.com/contactsync/contactsync/engine/device"
)

// Timing of the devices' workers: quick enough that a run of seconds sees many sync rounds.
const (
	remoteName   = "testbed"
	pullInterval = time.Second
	debounce     = 50 * time.Millisecond
	maxBackoff   = 2 * time.Second
	// faultHold is how long the proxy holds a request it times out before answering 504.
	faultHold = 3 * time.Second
)

// device is one simulated phone: a contact store, the user editing it, and a sync worker.
type device struct {
	name   string
	dir    string
	store  *changelog.Store
	editor *editor
	w      worker
	proc   *procWorker // nil when the worker runs in this process
}

// newDevice makes device i: its store in its own directory, the remote configured, the worker started.
func newDevice(ctx context.Context, r *run, i int) (*device, error) {
	d := &device{name: fmt.Sprintf("device-%d", i), dir: filepath.Join(r.dir, fmt.Sprintf("device-%d", i))}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, fmt.Errorf("testbed: %s: %w", d.name, err)
	}
	db := filepath.Join(d.dir, "contacts.db")
	store, err := changelog.Open(db, engine.Migrations())
	if err != nil {
		return nil, fmt.Errorf("testbed: %s: %w", d.name, err)
	}
	d.store = store
	d.editor = &editor{seed: r.cfg.Seed, device: i, name: d.name, store: store, ledger: r.ledger, now: time.Now}
	if r.cfg.KillRate > 0 {
		err = d.startProcess(ctx, r, db)
	} else {
		err = d.startInproc(ctx, r, i)
	}
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("testbed: %s: %w", d.name, err)
	}
	return d, nil
}

// startProcess configures the remote with `contactsync remote add`, as a user would, and starts `contactsync
// worker`.
func (d *device) startProcess(ctx context.Context, r *run, db string) error {
	args := []string{"--db", db, "remote", "add", remoteName, "--url", r.abURL}
	if r.be.username != "" {
		pw := filepath.Join(d.dir, "password")
		if err := os.WriteFile(pw, []byte(r.be.password+"\n"), 0o600); err != nil {
			return err
		}
		args = append(args, "--username", r.be.username, "--password-file", pw)
	}
	cmd := r.cfg.Command(args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("contactsync remote add: %w: %s", err, out)
	}
	p, err := newProcWorker(r.cfg.Command, filepath.Join(d.dir, "worker.log"), "--db", db, "worker",
		"--pull-interval", pullInterval.String(), "--debounce", debounce.String(), "-v")
	if err != nil {
		return err
	}
	if err := p.start(); err != nil {
		p.log.Close()
		return err
	}
	d.proc, d.w = p, p
	return nil
}

// startInproc runs an engine.Worker in this process, talking to the server through the proxy.
func (d *device) startInproc(ctx context.Context, r *run, i int) error {
	rc := engine.RemoteConfig{Name: remoteName, Endpoint: r.abURL, Kind: engine.KindCardDAV, Collection: r.abURL, Username: r.be.username}
	if err := engine.AddRemote(ctx, d.store, rc); err != nil {
		return err
	}
	logger := slog.New(r.counter).With("device", d.name)
	rnd := lockedRand(newRand(r.cfg.Seed, 1<<33+uint64(i)).Float64)
	// The same Syncer, client and all, as `contactsync worker` builds for a remote.
	s, err := enginedevice.NewSyncer(ctx, d.store, rc, r.be.password, engine.WithLogger(logger), engine.WithRandom(rnd))
	if err != nil {
		return err
	}
	w, err := startInproc(d.store, s, engine.WithLogger(logger), engine.WithRandom(rnd), engine.WithDebounce(debounce),
		engine.WithPullInterval(pullInterval), engine.WithMaxBackoff(maxBackoff))
	if err != nil {
		return err
	}
	d.w = w
	return nil
}

// lockedRand makes a random source safe for the worker and its syncer to share.
func lockedRand(f func() float64) func() float64 {
	var mu sync.Mutex
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return f()
	}
}

// snapshot reads what the device holds. A contact whose ID is not its card's UID is a problem: the engine
// keys contacts by UID.
func (d *device) snapshot(ctx context.Context) (*state, []Problem, error) {
	st := newState(d.name)
	var problems []Problem
	for c, err := range d.store.All(ctx) {
		if err != nil {
			return nil, nil, fmt.Errorf("testbed: read %s: %w", d.name, err)
		}
		cards, perr := vcard.Parse(c.Data)
		if perr != nil || len(cards) != 1 {
			problems = append(problems, Problem{Check: "unreadable", Contact: c.ID, Device: d.name, Detail: fmt.Sprintf("not one readable vCard: %v", perr)})
			continue
		}
		if uid := cards[0].UID(); uid != c.ID {
			problems = append(problems, Problem{Check: "unreadable", Contact: c.ID, Device: d.name, Detail: fmt.Sprintf("stored under ID %q but its UID is %q", c.ID, uid)})
		}
		st.cards[c.ID] = cards[0]
	}
	return st, problems, nil
}

// conflicts lists every conflict the device recorded, open or resolved.
func (d *device) conflicts(ctx context.Context) ([]changelog.Conflict, error) {
	cs, err := d.store.Conflicts(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("testbed: conflicts of %s: %w", d.name, err)
	}
	return cs, nil
}

package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// vdirDevice is a third-party client as one more device: Debian's vdirsyncer syncing a vdir (a directory of
// .vcf files) with the address book, while the test bed edits the files as its user. vdirsyncer has rules of
// its own — on a conflict the server's version wins ("b wins") and the local edit is dropped — so an edit made
// here counts as acknowledged only once the server shows it after a sync; an edit vdirsyncer dropped is
// counted, not held against the engine.
type vdirDevice struct {
	name, dir, vdir, config string
	bin                     string
	seed                    uint64
	index                   int
	ledger                  *ledger
	be                      *backend

	mu      sync.Mutex // one sync or edit at a time
	pending []Edit     // made in the vdir, not yet seen on the server
	dropped int
	syncs   int
	failed  int
	lastErr string
}

func newVdirDevice(ctx context.Context, r *run, index int) (*vdirDevice, error) {
	bin, err := exec.LookPath("vdirsyncer")
	if err != nil {
		return nil, ErrNoVdirsyncer
	}
	v := &vdirDevice{name: "vdirsyncer", dir: filepath.Join(r.dir, "vdirsyncer"), bin: bin, seed: r.cfg.Seed,
		index: index, ledger: r.ledger, be: r.be}
	v.vdir = filepath.Join(v.dir, "vdir")
	v.config = filepath.Join(v.dir, "config")
	if err := os.MkdirAll(v.vdir, 0o700); err != nil {
		return nil, fmt.Errorf("testbed: vdirsyncer: %w", err)
	}
	var auth string
	if r.be.username != "" {
		pw := filepath.Join(v.dir, "password")
		if err := os.WriteFile(pw, []byte(r.be.password), 0o600); err != nil {
			return nil, fmt.Errorf("testbed: vdirsyncer: %w", err)
		}
		auth = fmt.Sprintf("username = %q\npassword.fetch = [\"command\", \"cat\", %q]\n", r.be.username, pw)
	}
	conf := fmt.Sprintf(`[general]
status_path = %q

[pair testbed]
a = "testbed_local"
b = "testbed_remote"
collections = null
conflict_resolution = "b wins"

[storage testbed_local]
type = "filesystem"
path = %q
fileext = ".vcf"

[storage testbed_remote]
type = "carddav"
url = %q
%s`, filepath.Join(v.dir, "status")+"/", v.vdir+"/", r.abURL, auth)
	if err := os.WriteFile(v.config, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("testbed: vdirsyncer: %w", err)
	}
	if out, err := v.command(ctx, "discover", "testbed").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("testbed: vdirsyncer discover: %w: %s", err, out)
	}
	return v, nil
}

func (v *vdirDevice) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, v.bin, append([]string{"-c", v.config}, args...)...)
	cmd.Stdin = strings.NewReader("")
	return cmd
}

// sync runs `vdirsyncer sync`, then acknowledges the edits the server now shows and drops those vdirsyncer
// threw away.
func (v *vdirDevice) sync(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	out, err := v.command(ctx, "sync").CombinedOutput()
	v.syncs++
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A failed sync (a fault, a 412 vdirsyncer leaves for the next run) is vdirsyncer's business; the next
		// one tries again.
		v.failed++
		v.lastErr = lastLine(out)
	}
	if len(v.pending) == 0 {
		return nil
	}
	server, _, err := v.be.snapshot(ctx)
	if err != nil {
		return err
	}
	local, _, err := v.snapshot()
	if err != nil {
		return err
	}
	keep := v.pending[:0]
	for _, e := range v.pending {
		switch v.outcome(e, server, local) {
		case acked:
			v.ledger.record(e)
		case dropped:
			v.dropped++
		default:
			keep = append(keep, e)
		}
	}
	v.pending = keep
	return nil
}

type fate int

const (
	waiting fate = iota
	acked
	dropped
)

// outcome decides what became of an edit made in the vdir: on the server (acknowledged), gone from the vdir
// too (vdirsyncer's conflict resolution dropped it), or still waiting to be uploaded.
func (v *vdirDevice) outcome(e Edit, server, local *state) fate {
	has := func(st *state) bool {
		c := st.cards[e.Contact]
		if e.Kind == Delete {
			return c == nil
		}
		return c != nil && slices.Contains(history(c), e.Token)
	}
	switch {
	case has(server):
		return acked
	case !has(local):
		return dropped
	}
	return waiting
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// finish drops what is still waiting: the last sync ran, and it never reached the server.
func (v *vdirDevice) finish() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.dropped += len(v.pending)
	v.pending = nil
}

// apply makes one planned edit on the vdir's files.
func (v *vdirDevice) apply(o op) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	at := time.Now()
	if o.kind == Create || o.kind == Import {
		size := max(o.size, 1)
		for k := range size {
			tok := o.tok
			if o.kind == Import {
				tok = importToken(o.tok, k)
			}
			data, err := newCardData(v.seed, tok, at)
			if err != nil {
				return err
			}
			if err := writeFile(filepath.Join(v.vdir, "tb-"+tok+".vcf"), data); err != nil {
				return err
			}
			v.pending = append(v.pending, Edit{Token: tok, Device: v.name, Contact: "tb-" + tok, Kind: o.kind, At: at})
		}
		return nil
	}
	path, card, err := v.find(o.target)
	if err != nil || card == nil {
		return errors.Join(errSkip, err)
	}
	ed := Edit{Token: o.tok, Device: v.name, Contact: o.target, Kind: o.kind, Property: o.prop, Concurrent: o.concurrent, seen: history(card), At: at}
	switch o.kind {
	case Delete:
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("testbed: vdirsyncer: %w", err)
		}
		v.pending = append(v.pending, ed)
		return nil
	default:
		if err := applyEdit(card, o, &ed, at); err != nil {
			return err
		}
	}
	if err := writeFile(path, card.Bytes()); err != nil {
		return err
	}
	v.pending = append(v.pending, ed)
	return nil
}

// writeFile replaces a file atomically, so vdirsyncer never reads half of it.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("testbed: vdirsyncer: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("testbed: vdirsyncer: %w", err)
	}
	return nil
}

// find returns the file holding the contact with this UID and its card; nil when there is none.
func (v *vdirDevice) find(uid string) (string, *vcard.Card, error) {
	entries, err := os.ReadDir(v.vdir)
	if err != nil {
		return "", nil, fmt.Errorf("testbed: vdirsyncer: %w", err)
	}
	// vdirsyncer names a file after the UID when the UID is a safe file name, as the test bed's are; look
	// there first, then everywhere.
	names := []string{uid + ".vcf"}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".vcf") && n != uid+".vcf" {
			names = append(names, n)
		}
	}
	for _, n := range names {
		path := filepath.Join(v.vdir, n)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("testbed: vdirsyncer: %w", err)
		}
		cards, perr := vcard.Parse(data)
		if perr == nil && len(cards) == 1 && cards[0].UID() == uid {
			return path, cards[0], nil
		}
		if n == uid+".vcf" {
			break
		}
	}
	return "", nil, nil
}

// snapshot reads the vdir.
func (v *vdirDevice) snapshot() (*state, []Problem, error) {
	st := newState(v.name)
	entries, err := os.ReadDir(v.vdir)
	if err != nil {
		return nil, nil, fmt.Errorf("testbed: vdirsyncer: %w", err)
	}
	var problems []Problem
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".vcf") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(v.vdir, e.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("testbed: vdirsyncer: %w", err)
		}
		cards, perr := vcard.Parse(bytes.TrimPrefix(data, []byte("\ufeff")))
		if perr != nil || len(cards) != 1 {
			problems = append(problems, Problem{Check: "unreadable", Device: v.name, Detail: fmt.Sprintf("%s: %v", e.Name(), perr)})
			continue
		}
		st.cards[cards[0].UID()] = cards[0]
	}
	return st, problems, nil
}

package testbed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactsync/contactsync/adapters/faultproxy"
	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/changelog"
)

// run is one test-bed run in progress.
type run struct {
	cfg     Config
	dir     string
	be      *backend
	proxy   *faultproxy.Proxy
	abURL   string // the address book as the devices reach it: through the proxy
	ledger  *ledger
	counter *counter
	devices []*device
	vdir    *vdirDevice // nil unless Config.Vdirsyncer
	initial []string    // UIDs of the initial contacts

	skipped, kills, exits atomic.Int64

	mu       sync.Mutex
	problems []Problem // found while running (editors, workers)
}

func (r *run) logf(format string, a ...any) {
	fmt.Fprintf(r.cfg.Log, "testbed: "+format+"\n", a...)
}

func (r *run) problem(p Problem) {
	r.mu.Lock()
	r.problems = append(r.problems, p)
	r.mu.Unlock()
}

// Run runs the test bed: it fills an address book, starts the devices, lets them edit while faults and kills
// hit, waits for them to converge and checks the outcome. The error is ErrFailed (with the Report listing the
// problems) when a check fails, another error when the run itself could not be carried out.
func Run(ctx context.Context, cfg Config) (rep Report, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	start := time.Now()
	r := &run{cfg: cfg, ledger: &ledger{}, counter: newCounter(handlerOf(cfg.Logger))}
	var cleanup []func() error
	defer func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			if cerr := cleanup[i](); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()

	if r.dir = cfg.Dir; r.dir == "" {
		if r.dir, err = os.MkdirTemp("", "contactsync-testbed-*"); err != nil {
			return Report{}, fmt.Errorf("testbed: %w", err)
		}
		cleanup = append(cleanup, func() error { return os.RemoveAll(r.dir) })
	}
	if cfg.Server == "" {
		r.be, err = startEmbedded(ctx, r.dir)
	} else {
		r.be, err = openExternal(ctx, cfg.Server, cfg.Username, cfg.Password, cfg.Seed)
	}
	if err != nil {
		return Report{}, err
	}
	cleanup = append(cleanup, r.be.stop)

	if err := r.fill(ctx); err != nil {
		return Report{}, err
	}
	r.proxy, err = faultproxy.New(r.be.root, faultproxy.WithSeed(cfg.Seed), faultproxy.WithHold(faultHold))
	if err != nil {
		return Report{}, err
	}
	psrv, err := faultproxy.Start(r.proxy)
	if err != nil {
		return Report{}, err
	}
	cleanup = append(cleanup, psrv.Close)
	r.abURL = psrv.URL + r.be.abPath

	for i := 1; i <= cfg.Devices; i++ {
		d, err := newDevice(ctx, r, i)
		if err != nil {
			return Report{}, err
		}
		r.devices = append(r.devices, d)
		cleanup = append(cleanup, func() error { return errors.Join(d.w.stop(), d.store.Close()) })
	}
	if cfg.Vdirsyncer {
		if r.vdir, err = newVdirDevice(ctx, r, cfg.Devices+1); err != nil {
			return Report{}, err
		}
	}
	r.logf("%d devices on %s, %d contacts; waiting for the first download", cfg.Devices, r.be.name, cfg.Contacts)
	if err := r.waitDownload(ctx); err != nil {
		return Report{}, err
	}

	editStart := time.Now()
	r.logf("edit phase: %d edits per device over %s, fault rate %g, kill rate %g/s", cfg.Ops, cfg.Duration, cfg.FaultRate, cfg.KillRate)
	if err := r.editPhase(ctx); err != nil {
		return Report{}, err
	}
	editTime := time.Since(editStart)

	r.logf("edit phase over; faults and kills stopped; waiting for convergence")
	convStart := time.Now()
	converged, err := r.converge(ctx)
	if err != nil {
		return Report{}, err
	}
	convTime := time.Since(convStart)
	for _, d := range r.devices {
		if err := d.w.stop(); err != nil {
			r.problem(Problem{Check: "worker", Device: d.name, Detail: err.Error()})
		}
	}

	rep, err = r.report(ctx, converged)
	if err != nil {
		return rep, err
	}
	rep.EditSeconds, rep.ConvergeSeconds = editTime.Seconds(), convTime.Seconds()
	rep.TotalSeconds = time.Since(start).Seconds()
	if editTime > 0 {
		rep.EditsPerSecond = float64(rep.EditsTotal) / editTime.Seconds()
	}
	rep.RequestsPerSecond = float64(rep.Requests) / rep.TotalSeconds
	if !rep.Passed {
		return rep, fmt.Errorf("%w: %d problems, first: %s", ErrFailed, len(rep.Problems), rep.Problems[0])
	}
	return rep, nil
}

func handlerOf(l *slog.Logger) slog.Handler {
	if l == nil {
		return nil
	}
	return l.Handler()
}

// fill puts the initial contacts on the server and records their creation.
func (r *run) fill(ctx context.Context) error {
	cards := make([][]byte, r.cfg.Contacts)
	now := time.Now()
	for i := range cards {
		parsed, err := vcard.Parse(synthetic.Card(r.cfg.Seed, i))
		if err != nil || len(parsed) != 1 {
			return fmt.Errorf("testbed: generated card %d: %v", i, err)
		}
		c := parsed[0]
		tok := initialToken(r.cfg.Seed, i)
		stamp(c, tok, now)
		cards[i] = c.Bytes()
		r.initial = append(r.initial, c.UID())
		r.ledger.record(Edit{Token: tok, Device: "server", Contact: c.UID(), Kind: Create, At: now})
	}
	return r.be.fill(ctx, cards)
}

// waitDownload waits until every device holds the initial contacts.
func (r *run) waitDownload(ctx context.Context) error {
	return r.poll(ctx, r.cfg.ConvergeTimeout, func() (bool, error) {
		for _, d := range r.devices {
			n, err := d.store.Count(ctx)
			if err != nil || n < len(r.initial) {
				return false, err
			}
		}
		if r.vdir != nil {
			if err := r.vdir.sync(ctx); err != nil {
				return false, err
			}
			st, _, err := r.vdir.snapshot()
			if err != nil || len(st.cards) < len(r.initial) {
				return false, err
			}
		}
		return true, nil
	})
}

// poll calls cond every pollEvery until it holds, fails, or timeout passes (then it returns an error).
func (r *run) poll(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return errTimeout
		}
		for _, d := range r.devices {
			d.w.trigger()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

const pollEvery = 250 * time.Millisecond

// editPhase runs the users' plans, the concurrent edits and the kills, with faults on, for the Duration.
func (r *run) editPhase(ctx context.Context) error {
	if err := r.proxy.SetRate(r.cfg.FaultRate); err != nil {
		return err
	}
	begin := time.Now()
	var wg sync.WaitGroup
	for i, d := range r.devices {
		ops := devicePlan(r.cfg.Seed, i+1, r.cfg.Ops, r.cfg.Duration, r.initial)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, o := range ops {
				if !waitUntil(ctx, begin.Add(o.at)) {
					return
				}
				r.edit(ctx, d, o)
			}
		}()
	}
	phaseEnd := make(chan struct{})
	var syncer sync.WaitGroup
	if v := r.vdir; v != nil {
		ops := devicePlan(r.cfg.Seed, v.index, r.cfg.Ops, r.cfg.Duration, r.initial)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, o := range ops {
				if !waitUntil(ctx, begin.Add(o.at)) {
					return
				}
				if err := v.apply(o); errors.Is(err, errSkip) {
					r.skipped.Add(1)
				} else if err != nil {
					r.problem(Problem{Check: "editor", Contact: o.target, Device: v.name, Edit: o.tok, Detail: err.Error()})
				}
			}
		}()
		// vdirsyncer has no worker: it syncs when run, here once a pull interval.
		syncer.Add(1)
		go func() {
			defer syncer.Done()
			for {
				if err := v.sync(ctx); err != nil {
					r.problem(Problem{Check: "worker", Device: v.name, Detail: err.Error()})
					return
				}
				select {
				case <-phaseEnd:
					return
				case <-ctx.Done():
					return
				case <-time.After(pullInterval):
				}
			}
		}()
	}
	groups := groupPlan(r.cfg.Seed, len(r.devices), r.cfg.Ops, r.cfg.Duration, r.initial)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, g := range groups {
			if !waitUntil(ctx, begin.Add(g.at)) {
				return
			}
			for _, dev := range sortedInts(g.ops) {
				r.edit(ctx, r.devices[dev-1], g.ops[dev])
			}
		}
	}()
	var killers sync.WaitGroup
	if r.cfg.KillRate > 0 {
		for i, d := range r.devices {
			killers.Add(1)
			go func() {
				defer killers.Done()
				r.killLoop(ctx, d, newRand(r.cfg.Seed, 1<<34+uint64(i)), phaseEnd)
			}()
		}
	}
	waitUntil(ctx, begin.Add(r.cfg.Duration))
	wg.Wait()
	close(phaseEnd)
	killers.Wait()
	syncer.Wait()
	if err := r.proxy.SetRate(0); err != nil {
		return err
	}
	return ctx.Err()
}

// edit applies one planned edit on a device; a contact not there is a skip, any other failure a problem.
func (r *run) edit(ctx context.Context, d *device, o op) {
	err := d.editor.apply(ctx, o)
	switch {
	case err == nil:
	case errors.Is(err, errSkip):
		r.skipped.Add(1)
	case ctx.Err() == nil:
		r.problem(Problem{Check: "editor", Contact: o.target, Device: d.name, Edit: o.tok, Detail: "the store refused the edit: " + err.Error()})
	}
}

// killLoop SIGKILLs the device's worker at random instants (exponentially distributed gaps, KillRate per
// second) and starts it again at once, until the phase ends; a worker that exits by itself is a problem,
// and is started again too.
func (r *run) killLoop(ctx context.Context, d *device, rng interface{ ExpFloat64() float64 }, phaseEnd <-chan struct{}) {
	p := d.proc
	for {
		gap := time.Duration(rng.ExpFloat64() / r.cfg.KillRate * float64(time.Second))
		timer := time.NewTimer(gap)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-phaseEnd:
			timer.Stop()
			r.restartIfDead(d)
			return
		case <-p.done():
			timer.Stop()
			r.restartIfDead(d)
		case <-timer.C:
			p.kill()
			r.kills.Add(1)
			if err := p.start(); err != nil {
				r.problem(Problem{Check: "worker", Device: d.name, Detail: err.Error()})
				return
			}
		}
	}
}

// restartIfDead records a worker that exited without being asked and starts it again.
func (r *run) restartIfDead(d *device) {
	p := d.proc
	if !isClosed(p.done()) {
		return
	}
	if why, ok := p.unexpected(); ok {
		r.exits.Add(1)
		r.problem(Problem{Check: "worker", Device: d.name, Detail: why})
	}
	if err := p.start(); err != nil {
		r.problem(Problem{Check: "worker", Device: d.name, Detail: err.Error()})
	}
}

// waitUntil waits for t; false if ctx ended first.
func waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func sortedInts[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// converge waits until every device holds exactly what the server holds; false when ConvergeTimeout passes
// first.
func (r *run) converge(ctx context.Context) (bool, error) {
	err := r.poll(ctx, r.cfg.ConvergeTimeout, func() (bool, error) {
		for _, d := range r.devices {
			if d.proc != nil {
				r.restartIfDead(d)
			}
		}
		if r.vdir != nil {
			if err := r.vdir.sync(ctx); err != nil {
				return false, err
			}
		}
		server, _, err := r.be.snapshot(ctx)
		if err != nil {
			return false, err
		}
		states, _, err := r.snapshots(ctx)
		if err != nil {
			return false, err
		}
		for _, st := range states {
			if len(diff(server, st, 1)) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	if errors.Is(err, errTimeout) {
		return false, nil
	}
	return err == nil, err
}

// report takes the final snapshots, runs the oracle and fills the report.
func (r *run) report(ctx context.Context, converged bool) (Report, error) {
	edits := r.ledger.all()
	rep := Report{Seed: r.cfg.Seed, Server: r.be.name, Devices: len(r.devices), InitialContacts: len(r.initial),
		Edits: map[Kind]int{}, Converged: converged, Skipped: int(r.skipped.Load()), Kills: int(r.kills.Load()),
		WorkerExits: int(r.exits.Load())}
	if r.vdir != nil {
		r.vdir.finish()
		rep.ThirdParty = &ThirdParty{Client: "vdirsyncer", Syncs: r.vdir.syncs, FailedSyncs: r.vdir.failed,
			Dropped: r.vdir.dropped, LastError: r.vdir.lastErr}
	}
	for _, e := range edits {
		if e.Device == "server" {
			continue
		}
		if rep.ThirdParty != nil && e.Device == r.vdir.name {
			rep.ThirdParty.Acknowledged++
		}
		rep.Edits[e.Kind]++
		rep.EditsTotal++
		if e.Concurrent {
			rep.Concurrent++
		}
	}
	counts := r.proxy.Counts()
	rep.Faults, rep.FaultsTotal, rep.Requests = counts.Faults, counts.Total(), counts.Requests
	rep.Retries, rep.SyncRetries = int(r.counter.retries.Load()), int(r.counter.syncRetries.Load())
	for _, d := range r.devices {
		if d.proc != nil {
			req, syncs := d.proc.retries()
			rep.Retries += req
			rep.SyncRetries += syncs
		}
	}

	server, problems, err := r.be.snapshot(ctx)
	if err != nil {
		return rep, err
	}
	rep.Contacts = len(server.cards)
	r.mu.Lock()
	problems = append(slices.Clone(r.problems), problems...)
	r.mu.Unlock()
	states, ps, err := r.snapshots(ctx)
	if err != nil {
		return rep, err
	}
	problems = append(problems, ps...)
	for _, st := range states {
		problems = append(problems, diff(server, st, 10)...)
	}
	conflicts := map[string][]changelog.Conflict{}
	seen := map[string]bool{}
	for _, d := range r.devices {
		cs, err := d.conflicts(ctx)
		if err != nil {
			return rep, err
		}
		for _, c := range cs {
			conflicts[c.ContactID] = append(conflicts[c.ContactID], c)
			if !seen[c.ID] {
				seen[c.ID] = true
				rep.Conflicts++
			}
		}
	}
	problems = append(problems, duplicates(server, edits)...)
	problems = append(problems, checkEdits(server, edits, conflicts)...)
	rep.Problems = problems
	rep.Passed = converged && len(problems) == 0
	if !converged && len(problems) == 0 {
		rep.Problems = []Problem{{Check: "convergence", Detail: fmt.Sprintf("the devices did not converge within %s", r.cfg.ConvergeTimeout)}}
	}
	return rep, nil
}

// snapshots reads every device (and the vdir).
func (r *run) snapshots(ctx context.Context) ([]*state, []Problem, error) {
	var out []*state
	var problems []Problem
	for _, d := range r.devices {
		st, ps, err := d.snapshot(ctx)
		if err != nil {
			return nil, nil, err
		}
		out, problems = append(out, st), append(problems, ps...)
	}
	if r.vdir != nil {
		st, ps, err := r.vdir.snapshot()
		if err != nil {
			return nil, nil, err
		}
		out, problems = append(out, st), append(problems, ps...)
	}
	return out, problems, nil
}

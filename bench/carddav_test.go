package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
)

// The CardDAV comparison's knobs. A quick run (the default) uses small address books; the full run, for
// docs/benchmarks.md, is CONTACTSYNC_BENCH_FULL=1.
//
//	CONTACTSYNC_BENCH_FULL=1          N = 1,000 and 5,000; the RSS run syncs 100,000 contacts
//	CONTACTSYNC_BENCH_N=200,1000      address-book sizes (overrides the above)
//	CONTACTSYNC_BENCH_SERVERS=radicale servers, of embedded, radicale, xandikos (default: all three)
//	CONTACTSYNC_BENCH_RSS_N=20000     contacts of the RSS run
//	CONTACTSYNC_BENCH_REVERSE=1       contenders of each phase in reverse order (to see whether order matters)
//	CONTACTSYNC_BENCH_PHASES=upload:raw+engine,download
//	                                  only these phases, each with all its contenders or those named after ':'
//	                                  (the phases build on each other: noop and incremental need the whole upload)
const (
	envFull    = "CONTACTSYNC_BENCH_FULL"
	envSizes   = "CONTACTSYNC_BENCH_N"
	envServers = "CONTACTSYNC_BENCH_SERVERS"
	envRSSN    = "CONTACTSYNC_BENCH_RSS_N"
	envReverse = "CONTACTSYNC_BENCH_REVERSE"
	envPhases  = "CONTACTSYNC_BENCH_PHASES"
)

// cardSeed is the synthetic address book every contender of the comparison syncs.
const cardSeed = 7

// noopRuns is how many no-op syncs each contender makes; the median is reported (a no-op is short enough for
// one run to be noise on a shared machine).
const noopRuns = 3

// benchConfig is the comparison's size and servers, from the environment.
type benchConfig struct {
	sizes   []int
	servers []string
	rssN    int
	// phases maps each phase to run to the contenders to run in it (nil: all); nil runs every phase.
	phases map[string][]string
}

func loadBenchConfig(b *testing.B) benchConfig {
	b.Helper()
	cfg := benchConfig{sizes: []int{100}, servers: []string{"embedded", "radicale", "xandikos"}, rssN: 2_000}
	if os.Getenv(envFull) == "1" {
		cfg.sizes, cfg.rssN = []int{1_000, 5_000}, 100_000
	}
	if v := os.Getenv(envSizes); v != "" {
		cfg.sizes = nil
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("%s=%q: want a comma-separated list of positive sizes", envSizes, v)
			}
			cfg.sizes = append(cfg.sizes, n)
		}
	}
	if v := os.Getenv(envServers); v != "" {
		cfg.servers = strings.Split(v, ",")
	}
	if v := os.Getenv(envRSSN); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive size", envRSSN, v)
		}
		cfg.rssN = n
	}
	if v := os.Getenv(envPhases); v != "" {
		cfg.phases = map[string][]string{}
		for f := range strings.SplitSeq(v, ",") {
			phase, who, named := strings.Cut(strings.TrimSpace(f), ":")
			if !slices.Contains([]string{"upload", "noop", "incremental", "download"}, phase) {
				b.Fatalf("%s=%q: unknown phase %q (upload, noop, incremental, download)", envPhases, v, phase)
			}
			cfg.phases[phase] = nil
			if named {
				cfg.phases[phase] = strings.Split(who, "+")
			}
		}
	}
	return cfg
}

// requireOneShot refuses to run under a benchtime that would repeat an operation: an initial upload cannot
// run twice on the same address book, so each operation is measured exactly once per -count.
func requireOneShot(b *testing.B) {
	b.Helper()
	if f := flag.Lookup("test.benchtime"); f == nil || f.Value.String() != "1x" {
		b.Fatal("the CardDAV comparison measures each operation once: run it with -benchtime 1x (bench/run does)")
	}
}

// BenchmarkCardDAV compares, for each server and address-book size, our sync with the raw limit (rawBook)
// and with vdirsyncer, all on one server process and the same synthetic cards, in four phases that build on
// each other:
//
//   - upload: N contacts from a device to an empty address book (each contender its own fresh book);
//   - noop: a sync with nothing to do, on the book each contender uploaded (median of noopRuns);
//   - incremental: 1% of the contacts edited on the device, then a sync;
//   - download: everything in the engine's book onto an empty device.
//
// "engine" is engine.Syncer.Sync in this process, "cli" the `contactsync sync` process, "raw" the reference
// client, "vdirsyncer" Debian's vdirsyncer process. Each sub-benchmark reports its wall time as ns/op and,
// where counted, its requests; bench/run prints the ratios and checks them against issue 4's targets.
func BenchmarkCardDAV(b *testing.B) {
	requireOneShot(b)
	cfg := loadBenchConfig(b)
	bin := contactsyncBinary(b)
	for _, name := range cfg.servers {
		b.Run(name, func(b *testing.B) {
			srv := startServer(b, name)
			for _, n := range cfg.sizes {
				b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { compare(b, srv, bin, n, cfg.phases) })
			}
		})
	}
}

// comparison holds what the phases hand each other.
type comparison struct {
	// root is the benchmark of the whole comparison: the state the phases hand each other lives in its
	// temporary directories, which outlast each phase's.
	root  *testing.B
	srv   *benchServer
	bin   string
	n     int
	uids  []string
	cards [][]byte
	// changed counts the incremental phase's edits per contender.
	changed int

	raw *rawBook
	dev *device // the engine's and the CLI's device (they take turns)
	vds *vdirsyncer
	// engineBook is the book the engine uploaded, which every contender downloads.
	engineBook string
}

func compare(b *testing.B, srv *benchServer, bin string, n int, only map[string][]string) {
	c := &comparison{root: b, srv: srv, bin: bin, n: n, changed: max(1, n/100)}
	for i := range n {
		c.uids = append(c.uids, fmt.Sprintf("bench-%d-%08d", cardSeed, i))
		c.cards = append(c.cards, synthetic.Card(cardSeed, i))
	}
	ctx := context.Background()
	phases := []struct {
		name        string
		contenders  []string
		run         func(context.Context, *testing.B, string) measurement
		extraChange bool
	}{
		{"upload", []string{"raw", "engine", "vdirsyncer"}, c.upload, false},
		{"noop", []string{"raw", "engine", "cli", "vdirsyncer"}, c.noop, false},
		{"incremental", []string{"raw", "engine", "cli", "vdirsyncer"}, c.incremental, true},
		{"download", []string{"raw", "engine", "cli", "vdirsyncer"}, c.download, false},
	}
	for _, p := range phases {
		if only != nil {
			who, ok := only[p.name]
			if !ok {
				continue
			}
			if who != nil {
				for _, w := range who {
					if !slices.Contains(p.contenders, w) {
						b.Fatalf("%s: phase %s has no contender %q (%v)", envPhases, p.name, w, p.contenders)
					}
				}
				p.contenders = slices.DeleteFunc(p.contenders, func(c string) bool { return !slices.Contains(who, c) })
			}
		}
		if os.Getenv(envReverse) == "1" {
			slices.Reverse(p.contenders)
		}
		b.Run(p.name, func(b *testing.B) {
			for _, who := range p.contenders {
				b.Run(who, func(b *testing.B) {
					if b.N != 1 {
						b.Fatalf("b.N = %d; the comparison runs each operation once (-benchtime 1x)", b.N)
					}
					m := p.run(ctx, b, who)
					m.report(b, p.extraChange, c.changed)
				})
			}
		})
	}
}

// measurement is one contender's result for one operation.
type measurement struct {
	elapsed time.Duration
	// requests is how many HTTP requests it sent; -1 where nobody counts them (vdirsyncer).
	requests int64
	// serverCPU is the CPU time the server process spent on it; -1 for the embedded server (it shares the
	// benchmark's process). Unlike wall time it does not depend on what else the shared machine runs.
	serverCPU time.Duration
}

// report sets the sub-benchmark's ns/op to the measured wall time and adds the request counts.
func (m measurement) report(b *testing.B, incremental bool, changes int) {
	b.ReportMetric(float64(m.elapsed.Nanoseconds()), "ns/op")
	if m.serverCPU >= 0 {
		b.ReportMetric(float64(m.serverCPU.Milliseconds()), "server-cpu-ms")
	}
	if m.requests < 0 {
		return
	}
	b.ReportMetric(float64(m.requests), "requests")
	if incremental {
		// Requests beyond one per edited contact: the engine's own overhead (listing, token, retries).
		b.ReportMetric(float64(m.requests-int64(changes)), "extra-requests")
	}
}

// median runs fn runs times and returns the median wall time, the mean server CPU time and the largest
// request count.
func median(runs int, fn func() (measurement, error)) (measurement, error) {
	var times []time.Duration
	out := measurement{requests: -1}
	for range runs {
		m, err := fn()
		if err != nil {
			return m, err
		}
		times = append(times, m.elapsed)
		out.requests = max(out.requests, m.requests)
		out.serverCPU += m.serverCPU / time.Duration(runs)
	}
	slices.Sort(times)
	out.elapsed = times[len(times)/2]
	return out, nil
}

// measure runs op, the timed part of a contender's work, and adds the server CPU time it cost to what op
// measured itself.
func (c *comparison) measure(op func() (measurement, error)) (measurement, error) {
	mark := c.srv.cpu()
	m, err := op()
	m.serverCPU = -1
	if mark >= 0 {
		m.serverCPU = c.srv.cpu() - mark
	}
	return m, err
}

func (c *comparison) label(who string) string { return fmt.Sprintf("n%d-%s", c.n, who) }

func (c *comparison) upload(ctx context.Context, b *testing.B, who string) measurement {
	book := c.srv.newBook(ctx, b, c.label(who))
	var op func() (measurement, error)
	switch who {
	case "raw":
		raw, err := newRawBook(book, c.srv.user, c.srv.password)
		if err != nil {
			b.Fatal(err)
		}
		c.raw = raw
		op = func() (measurement, error) {
			start := time.Now()
			for i, card := range c.cards {
				if err := raw.put(ctx, carddav.HrefForUID(book, c.uids[i]), card, ""); err != nil {
					return measurement{}, err
				}
			}
			// The token a next sync starts from: the one listing a client needs after uploading.
			listed, err := raw.sync(ctx)
			if err == nil && listed != c.n {
				err = fmt.Errorf("raw upload: listing holds %d of %d", listed, c.n)
			}
			return measurement{elapsed: time.Since(start), requests: raw.requests}, err
		}
	case "engine":
		c.engineBook = book
		c.dev = newDevice(ctx, b, c.root.TempDir(), c.bin, book, c.srv.user, c.srv.password, c.cards)
		op = func() (measurement, error) {
			st, elapsed, err := c.dev.engineSync(ctx)
			if err == nil && st.Uploaded != c.n {
				err = fmt.Errorf("engine upload: uploaded %d of %d", st.Uploaded, c.n)
			}
			return measurement{elapsed: elapsed, requests: st.Requests}, err
		}
	case "vdirsyncer":
		c.vds = newVdirsyncer(ctx, b, c.root.TempDir(), book, c.srv.user, c.srv.password, c.uids, c.cards)
		op = func() (measurement, error) {
			elapsed, err := c.vds.sync(ctx)
			return measurement{elapsed: elapsed, requests: -1}, err
		}
	}
	m, err := c.measure(op)
	if err != nil {
		b.Fatal(err)
	}
	c.checkBook(ctx, b, book, c.n)
	return m
}

// checkBook fails unless the book lists want members (an untimed check that a contender did the whole job).
func (c *comparison) checkBook(ctx context.Context, b *testing.B, book string, want int) {
	b.Helper()
	r, err := newRawBook(book, c.srv.user, c.srv.password)
	if err != nil {
		b.Fatal(err)
	}
	if got, err := r.sync(ctx); err != nil || got != want {
		b.Fatalf("%s holds %d members; want %d (%v)", book, got, want, err)
	}
}

func (c *comparison) noop(ctx context.Context, b *testing.B, who string) measurement {
	need(b, c.raw != nil && c.dev != nil && c.vds != nil, "the upload phase")
	m, err := median(noopRuns, func() (measurement, error) {
		return c.measure(func() (measurement, error) {
			switch who {
			case "raw":
				before, start := c.raw.requests, time.Now()
				changed, err := c.raw.sync(ctx)
				if err == nil && changed != 0 {
					err = fmt.Errorf("raw no-op listed %d changes", changed)
				}
				return measurement{elapsed: time.Since(start), requests: c.raw.requests - before}, err
			case "engine":
				st, elapsed, err := c.dev.engineSync(ctx)
				if err == nil && st.Uploaded+st.Downloaded != 0 {
					err = fmt.Errorf("engine no-op moved contacts: %s", st)
				}
				return measurement{elapsed: elapsed, requests: st.Requests}, err
			case "cli":
				o, err := c.dev.cliSync(ctx)
				if err == nil && o.uploaded+o.downloaded != 0 {
					err = fmt.Errorf("cli no-op moved contacts: %+v", o)
				}
				return measurement{elapsed: o.elapsed, requests: o.requests}, err
			default:
				elapsed, err := c.vds.sync(ctx)
				return measurement{elapsed: elapsed, requests: -1}, err
			}
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// incremental edits c.changed contacts on each contender's device, then times the sync that sends them. The
// engine and the CLI share a device, so the CLI edits the next slice of contacts.
func (c *comparison) incremental(ctx context.Context, b *testing.B, who string) measurement {
	need(b, c.raw != nil && c.dev != nil && c.vds != nil, "the upload phase")
	k := c.changed
	var op func() (measurement, error)
	switch who {
	case "raw":
		op = func() (measurement, error) {
			before, start := c.raw.requests, time.Now()
			for i := range k {
				href := carddav.HrefForUID(c.raw.abURL, c.uids[i])
				if err := c.raw.put(ctx, href, editCard(c.cards[i], 1), c.raw.etags[href]); err != nil {
					return measurement{}, err
				}
			}
			changed, err := c.raw.sync(ctx)
			if err == nil && changed != k {
				err = fmt.Errorf("raw incremental: listing shows %d changes of %d", changed, k)
			}
			return measurement{elapsed: time.Since(start), requests: c.raw.requests - before}, err
		}
	case "engine":
		if err := c.dev.edit(ctx, c.uids[:k], 1); err != nil {
			b.Fatal(err)
		}
		op = func() (measurement, error) {
			st, elapsed, err := c.dev.engineSync(ctx)
			if err == nil && st.Uploaded != k {
				err = fmt.Errorf("engine incremental: uploaded %d of %d", st.Uploaded, k)
			}
			return measurement{elapsed: elapsed, requests: st.Requests}, err
		}
	case "cli":
		if err := c.dev.edit(ctx, c.uids[k:2*k], 1); err != nil {
			b.Fatal(err)
		}
		op = func() (measurement, error) {
			o, err := c.dev.cliSync(ctx)
			if err == nil && o.uploaded != int64(k) {
				err = fmt.Errorf("cli incremental: uploaded %d of %d", o.uploaded, k)
			}
			return measurement{elapsed: o.elapsed, requests: o.requests}, err
		}
	default:
		for i := range k {
			if err := c.vds.write(c.uids[i], editCard(c.cards[i], 1)); err != nil {
				b.Fatal(err)
			}
		}
		op = func() (measurement, error) {
			elapsed, err := c.vds.sync(ctx)
			return measurement{elapsed: elapsed, requests: -1}, err
		}
	}
	m, err := c.measure(op)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// download fetches the engine's book onto an empty device (a fresh store, vdir or reference client).
func (c *comparison) download(ctx context.Context, b *testing.B, who string) measurement {
	need(b, c.engineBook != "", "the upload phase")
	book := c.engineBook
	var op func() (measurement, error)
	var check func() (int, error)
	switch who {
	case "raw":
		r, err := newRawBook(book, c.srv.user, c.srv.password)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		op = func() (measurement, error) {
			start := time.Now()
			if _, err := r.sync(ctx); err != nil {
				return measurement{}, err
			}
			for batch := range slices.Chunk(r.members, carddav.DefaultMultiGetBatch) {
				n, err := r.multiget(ctx, batch)
				if err != nil {
					return measurement{}, err
				}
				got += n
			}
			return measurement{elapsed: time.Since(start), requests: r.requests}, nil
		}
		check = func() (int, error) { return got, nil }
	case "engine", "cli":
		d := newDevice(ctx, b, c.root.TempDir(), c.bin, book, c.srv.user, c.srv.password, nil)
		op = func() (measurement, error) {
			if who == "engine" {
				st, elapsed, err := d.engineSync(ctx)
				if err == nil && st.Downloaded != c.n {
					err = fmt.Errorf("engine download: downloaded %d of %d", st.Downloaded, c.n)
				}
				return measurement{elapsed: elapsed, requests: st.Requests}, err
			}
			o, err := d.cliSync(ctx)
			if err == nil && o.downloaded != int64(c.n) {
				err = fmt.Errorf("cli download: downloaded %d of %d", o.downloaded, c.n)
			}
			return measurement{elapsed: o.elapsed, requests: o.requests}, err
		}
		check = func() (int, error) { return d.count(ctx) }
	default:
		v := newVdirsyncer(ctx, b, c.root.TempDir(), book, c.srv.user, c.srv.password, nil, nil)
		op = func() (measurement, error) {
			elapsed, err := v.sync(ctx)
			return measurement{elapsed: elapsed, requests: -1}, err
		}
		check = v.count
	}
	m, err := c.measure(op)
	if err != nil {
		b.Fatal(err)
	}
	if held, err := check(); err != nil || held != c.n {
		b.Fatalf("%s download: holds %d of %d contacts: %v", who, held, c.n, err)
	}
	return m
}

// need fails a phase whose earlier phase did not run (or failed): the phases build on each other.
func need(b *testing.B, ok bool, what string) {
	b.Helper()
	if !ok {
		b.Fatalf("needs %s, which did not run or failed (the phases build on each other: select the whole N)", what)
	}
}

// BenchmarkCardDAVInitialSyncRSS measures the peak resident memory of `contactsync sync` uploading a whole
// device (100,000 contacts in the full run) to an empty address book on the embedded server, which runs in
// this process so that only the client's memory is counted. It reports MB-maxrss (10^6 bytes) beside the time.
func BenchmarkCardDAVInitialSyncRSS(b *testing.B) {
	requireOneShot(b)
	cfg := loadBenchConfig(b)
	bin := contactsyncBinary(b)
	b.Run("embedded", func(b *testing.B) {
		b.Run(fmt.Sprintf("N=%d", cfg.rssN), func(b *testing.B) {
			b.Run("cli", func(b *testing.B) {
				ctx := context.Background()
				srv := startServer(b, "embedded")
				cards := make([][]byte, cfg.rssN)
				for i := range cards {
					cards[i] = synthetic.Card(cardSeed, i)
				}
				d := newDevice(ctx, b, b.TempDir(), bin, srv.newBook(ctx, b, "rss"), srv.user, srv.password, cards)
				o, err := d.cliSync(ctx)
				if err != nil || o.uploaded != int64(cfg.rssN) {
					b.Fatalf("initial sync: uploaded %d of %d: %v", o.uploaded, cfg.rssN, err)
				}
				b.ReportMetric(float64(o.elapsed.Nanoseconds()), "ns/op")
				b.ReportMetric(float64(o.requests), "requests")
				b.ReportMetric(float64(o.maxRSS)/1e6, "MB-maxrss")
			})
		})
	})
}

package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// liveEdits is how many edits the live-edit benchmark times; the 99th percentile of 60 is the second worst.
const liveEdits = 60

// BenchmarkCardDAVLiveEdit measures what a user of a running `contactsync worker` waits for: a contact added by
// another process (here, this one, through its own connection to the worker's store) until it is on the server,
// as p50 and p99 over liveEdits edits spaced 50–250 ms apart; and the CPU the waiting worker uses while nothing
// happens (idle-cpu-pct, percent of one core over 10 s). The reference, raw, is the same card PUT straight to
// the server by this process: the server's own part of the wait.
func BenchmarkCardDAVLiveEdit(b *testing.B) {
	requireOneShot(b)
	ctx := context.Background()
	srv := startServer(b, "embedded")
	bin := contactsyncBinary(b)
	b.Run("embedded", func(b *testing.B) {
		b.Run("raw", func(b *testing.B) {
			raw, err := newRawBook(srv.newBook(ctx, b, "live-raw"), srv.user, srv.password)
			if err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, liveEdits)
			for i := range liveEdits {
				start := time.Now()
				if err := raw.put(ctx, carddav.HrefForUID(raw.abURL, liveUID(i)), liveCard(i), ""); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			reportLatency(b, lat)
		})
		b.Run("worker", func(b *testing.B) {
			abURL := srv.newBook(ctx, b, "live-worker")
			d := newDevice(ctx, b, b.TempDir(), bin, abURL, srv.user, srv.password, nil)
			d.run(ctx, b, "sync")
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			w := exec.CommandContext(wctx, bin, "--db", d.db, "worker", "--pull-interval", "5m")
			w.Stderr = os.Stderr
			if err := w.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
			store, err := changelog.Open(d.db, engine.Migrations())
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			raw, err := newRawBook(abURL, srv.user, srv.password)
			if err != nil {
				b.Fatal(err)
			}
			// The first edit also waits for the worker to start; it is not counted.
			rnd := rand.New(rand.NewPCG(1, 2))
			lat := make([]time.Duration, 0, liveEdits)
			for i := -1; i < liveEdits; i++ {
				uid := liveUID(1000 + i)
				if _, err := store.Add(ctx, changelog.Local, changelog.Contact{ID: uid, Data: liveCard(1000 + i)}); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := waitOnServer(ctx, raw, carddav.HrefForUID(abURL, uid), 30*time.Second); err != nil {
					b.Fatalf("edit %d: %v", i, err)
				}
				if i >= 0 {
					lat = append(lat, time.Since(start))
				}
				time.Sleep(time.Duration(50+rnd.IntN(200)) * time.Millisecond) // the next edit comes later, as a person's would
			}
			reportLatency(b, lat)
			before := processCPU(w.Process.Pid)
			const idle = 10 * time.Second
			time.Sleep(idle)
			after := processCPU(w.Process.Pid)
			if before < 0 || after < 0 {
				b.Fatal("cannot read the worker's CPU time from /proc")
			}
			used := after - before
			b.ReportMetric(100*float64(used)/float64(idle), "idle-cpu-pct")
		})
	})
}

func liveUID(i int) string { return fmt.Sprintf("live-%04d", i) }

func liveCard(i int) []byte {
	return fmt.Appendf(nil, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:Live Edit %d\r\nTEL:+1 555 %04d\r\nEND:VCARD\r\n", liveUID(i), i, i)
}

// waitOnServer polls href every 2 ms until the server has it.
func waitOnServer(ctx context.Context, raw *rawBook, href string, limit time.Duration) error {
	target := raw.origin + href
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, _, err := raw.do(ctx, http.MethodGet, target, nil, nil, http.StatusOK, http.StatusNotFound)
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s not on the server after %v", href, limit)
}

// reportLatency reports the median as ns/op (what ratios compare) and p50/p99 in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	b.ReportMetric(float64(p(0.5).Nanoseconds()), "ns/op")
	b.ReportMetric(float64(p(0.5).Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(p(0.99).Microseconds())/1000, "ms-p99")
}

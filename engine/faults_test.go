package engine_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactsync/contactsync/engine"
)

// fakeClock never sleeps: each wait advances it and is recorded.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func status(req *http.Request, code int, header http.Header) *http.Response {
	return &http.Response{StatusCode: code, Header: header, Body: io.NopCloser(strings.NewReader("")), Request: req}
}

func testRetryAfter(t *testing.T, e *env) {
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	a := e.device(engine.WithClock(clk), engine.WithRandom(func() float64 { return 0 }))
	importCards(t, a, 3)
	failures := 0
	a.tr.reset(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPut && failures < 2 {
			failures++
			return status(req, http.StatusServiceUnavailable, http.Header{"Retry-After": {"7"}}), nil
		}
		return nil, nil
	})
	st := a.sync()
	if st.Retries != 2 || st.Uploaded != 3 {
		t.Fatalf("stats %+v, want 2 retries and 3 uploads", st)
	}
	long := 0
	for _, w := range clk.waits {
		if w >= 7*time.Second {
			long++
		}
	}
	if long != 2 {
		t.Fatalf("waits %v: want the server's Retry-After of 7s honoured twice", clk.waits)
	}
	e.converged(a)
}

func testLostResponse(t *testing.T, e *env) {
	// The server stores the PUT but the connection dies before its answer arrives: the retry meets its own
	// upload (If-None-Match fails) and must neither duplicate it nor fail.
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	a := e.device(engine.WithClock(clk))
	a.add(card("lost-answer", "Lost Answer"))
	cut := false
	a.tr.reset(resetAfterWrite(&cut, func(req *http.Request) bool { return req.Method == http.MethodPut }))
	a.sync()
	if !cut {
		t.Fatal("fault never injected")
	}
	e.converged(a)
	a.tr.reset(nil)
	if st := a.sync(); st.Uploaded != 0 || a.tr.count() != 1 {
		t.Fatalf("settled contact uploaded again: %+v, %d requests", st, a.tr.count())
	}
}

func testUnauthorized(t *testing.T, e *env) {
	a := e.device()
	importCards(t, a, 2)
	a.tr.reset(func(req *http.Request) (*http.Response, error) {
		return status(req, http.StatusUnauthorized, http.Header{"Www-Authenticate": {`Basic realm="x"`}}), nil
	})
	_, err := a.syncer.Sync(context.Background())
	if !errors.Is(err, engine.ErrCredentialsRejected) {
		t.Fatalf("sync with rejected credentials: %v", err)
	}
	if n := a.tr.count(); n != 1 {
		t.Fatalf("%d requests after a 401, want 1 (no retry with the same credentials)", n)
	}
	if s := a.status(); s.State != engine.StateCredentialsRejected || !strings.Contains(s.LastError, "credentials rejected") {
		t.Fatalf("status: %+v", s)
	}
	a.tr.reset(nil)
	if _, err := a.syncer.Sync(context.Background()); !errors.Is(err, engine.ErrCredentialsRejected) || a.tr.count() != 0 {
		t.Fatalf("stopped remote: %v after %d requests, want ErrCredentialsRejected and none", err, a.tr.count())
	}
	if err := engine.ResetCredentials(context.Background(), a.store, remoteName); err != nil {
		t.Fatal(err)
	}
	a.sync()
	e.converged(a)
}

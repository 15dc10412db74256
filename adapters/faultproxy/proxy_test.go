package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/faultproxy"
)

// target is a real CardDAV server a test puts the proxy in front of.
type target struct {
	name, url, ab string
	opts          []carddav.Option
}

func embedded(t *testing.T) target {
	s := carddavtest.Start(t, "embedded")
	return target{name: s.Name, url: s.URL, ab: s.AddressBookURL, opts: s.Options()}
}

func radicale(t *testing.T) target {
	s := carddavtest.Start(t, "radicale")
	return target{name: s.Name, url: s.URL, ab: s.AddressBookURL, opts: s.Options()}
}

// rig is a proxy started in front of a target, a client through it and a client straight to the server.
type rig struct {
	t      *testing.T
	proxy  *faultproxy.Proxy
	via    *carddav.Client
	direct *carddav.Client
	ab     string // the address book's path
}

func newRig(t *testing.T, tg target, doer carddav.HTTPDoer, opts ...faultproxy.Option) *rig {
	t.Helper()
	p, err := faultproxy.New(tg.url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := faultproxy.Start(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	copts := tg.opts
	if doer != nil {
		copts = append(slices.Clone(copts), carddav.WithHTTPClient(doer))
	}
	via, err := carddav.New(srv.URL+"/", copts...)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := carddav.New(tg.url, tg.opts...)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(tg.ab)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, proxy: p, via: via, direct: direct, ab: u.Path}
}

var uidSeq atomic.Int64

// card returns a new contact's UID, href and vCard.
func (r *rig) card() (uid, href string, body []byte) {
	uid = fmt.Sprintf("fp-%d-%d", time.Now().UnixNano(), uidSeq.Add(1))
	body = []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Fault " + uid + "\r\nEND:VCARD\r\n")
	return uid, carddav.HrefForUID(r.ab, uid), body
}

// stored puts a new contact straight on the server and returns its href, body and ETag.
func (r *rig) stored(ctx context.Context) (href string, body []byte, etag carddav.ETag) {
	r.t.Helper()
	_, href, body = r.card()
	etag, err := r.direct.Put(ctx, href, body, carddav.CreateOnly())
	if err != nil {
		r.t.Fatal(err)
	}
	return href, body, etag
}

// onServer reports whether the server holds href, and its body.
func (r *rig) onServer(ctx context.Context, href string) ([]byte, bool) {
	r.t.Helper()
	obj, err := r.direct.Get(ctx, href)
	if errors.Is(err, carddav.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return obj.Data, true
}

func (r *rig) wantCount(k faultproxy.Kind, n int64) {
	r.t.Helper()
	if got := r.proxy.Counts().Faults[k]; got != n {
		r.t.Errorf("proxy counted %d %s faults, want %d (all counts: %v)", got, k, n, r.proxy.Counts())
	}
}

// TestFaultKinds injects each kind of fault at rate 1 and checks what the real client sees, against the
// embedded server and Radicale.
func TestFaultKinds(t *testing.T) {
	for _, start := range []func(*testing.T) target{embedded, radicale} {
		tg := start(t)
		t.Run(tg.name, func(t *testing.T) {
			for _, tc := range faultCases {
				t.Run(string(tc.kind)+"/"+tc.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					tc.run(ctx, t, tg)
				})
			}
		})
	}
}

var faultCases = []struct {
	kind faultproxy.Kind
	name string
	run  func(context.Context, *testing.T, target)
}{
	{faultproxy.Precondition, "create: 412, and the race is real half of the time", testPreconditionCreate},
	{faultproxy.Precondition, "update and delete: 412 or 404, the server keeps a consistent contact", testPreconditionUpdate},
	{faultproxy.Unavailable, "500, 502, 503 with Retry-After, never forwarded", testUnavailable},
	{faultproxy.RateLimited, "429 with Retry-After", testRateLimited},
	{faultproxy.ResetBefore, "reset, nothing reached the server", testResetBefore},
	{faultproxy.ResetAfter, "reset after the server stored the write", testResetAfter},
	{faultproxy.Timeout, "the client's timeout fires", testTimeoutClient},
	{faultproxy.Timeout, "504 after the hold", testTimeoutHold},
	{faultproxy.Truncated, "body cut short", testTruncated},
	{faultproxy.Garbled, "listing no longer parses", testGarbled},
	{faultproxy.Slow, "answer arrives whole, in pieces", testSlow},
	{faultproxy.Precondition, "unconditional writes and reads pass untouched", testNotApplicable},
}

func testPreconditionCreate(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Precondition), faultproxy.WithSeed(7))
	const n = 12
	raced := 0
	for range n {
		_, href, body := r.card()
		_, err := r.via.Put(ctx, href, body, carddav.CreateOnly())
		if !errors.Is(err, carddav.ErrPreconditionFailed) {
			t.Fatalf("put through the proxy: %v, want a 412", err)
		}
		if got, ok := r.onServer(ctx, href); ok {
			if !bytes.Equal(got, body) {
				t.Fatalf("the racing write stored %q, want the request's own body %q", got, body)
			}
			raced++
		}
	}
	if raced == 0 || raced == n {
		t.Errorf("%d of %d 412s came from a real race; want both kinds (the server's 412 and the proxy's)", raced, n)
	}
	r.wantCount(faultproxy.Precondition, n)
}

func testPreconditionUpdate(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Precondition), faultproxy.WithSeed(8))
	for i := range 6 {
		href, body, etag := r.stored(ctx)
		newBody := bytes.Replace(body, []byte("FN:"), []byte("FN:Changed "), 1)
		_, err := r.via.Put(ctx, href, newBody, carddav.IfMatch(etag))
		if !errors.Is(err, carddav.ErrPreconditionFailed) {
			t.Fatalf("update %d through the proxy: %v, want a 412", i, err)
		}
		if got, _ := r.onServer(ctx, href); !bytes.Equal(got, body) && !bytes.Equal(got, newBody) {
			t.Fatalf("server holds %q, neither the old nor the new version", got)
		}
		err = r.via.Delete(ctx, href, etag)
		if !errors.Is(err, carddav.ErrPreconditionFailed) && !errors.Is(err, carddav.ErrNotFound) {
			t.Fatalf("delete %d through the proxy: %v, want a 412 or 404", i, err)
		}
	}
	r.wantCount(faultproxy.Precondition, 12)
}

func testUnavailable(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Unavailable), faultproxy.WithRetryAfter(3))
	seen := map[int]bool{}
	for range 20 {
		_, href, body := r.card()
		_, err := r.via.Put(ctx, href, body, carddav.CreateOnly())
		var he *carddav.HTTPError
		if !errors.As(err, &he) || !carddav.Retryable(err) || he.RetryAfter != 3*time.Second {
			t.Fatalf("put: %v (%#v), want a retryable 5xx with Retry-After 3s", err, he)
		}
		seen[he.Status] = true
		if _, ok := r.onServer(ctx, href); ok {
			t.Fatalf("%s reached the server through a %d", href, he.Status)
		}
	}
	for _, status := range []int{500, 502, 503} {
		if !seen[status] {
			t.Errorf("no %d in 20 faults (saw %v)", status, seen)
		}
	}
	r.wantCount(faultproxy.Unavailable, 20)
}

func testRateLimited(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.RateLimited))
	_, err := r.via.SyncCollection(ctx, r.ab, "", 0)
	var he *carddav.HTTPError
	if !errors.Is(err, carddav.ErrRateLimited) || !errors.As(err, &he) || he.RetryAfter != time.Second || !carddav.Retryable(err) {
		t.Fatalf("sync-collection: %v, want a retryable 429 with Retry-After 1s", err)
	}
	r.wantCount(faultproxy.RateLimited, 1)
}

func testResetBefore(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.ResetBefore))
	_, href, body := r.card()
	_, err := r.via.Put(ctx, href, body, carddav.CreateOnly())
	var he *carddav.HTTPError
	if err == nil || errors.As(err, &he) || !carddav.Retryable(err) {
		t.Fatalf("put: %v, want a retryable network error", err)
	}
	if _, ok := r.onServer(ctx, href); ok {
		t.Fatal("the write reached the server although the connection was reset before forwarding")
	}
	r.wantCount(faultproxy.ResetBefore, 1)
}

func testResetAfter(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.ResetAfter))
	_, href, body := r.card()
	_, err := r.via.Put(ctx, href, body, carddav.CreateOnly())
	var he *carddav.HTTPError
	if err == nil || errors.As(err, &he) || !carddav.Retryable(err) {
		t.Fatalf("put: %v, want a retryable network error", err)
	}
	if got, ok := r.onServer(ctx, href); !ok || !bytes.Equal(got, body) {
		t.Fatalf("server holds %q (present %v), want the write applied", got, ok)
	}
	// Reads are never reset after the fact: the kind is about writes the server applied.
	if _, err := r.via.Get(ctx, href); err != nil {
		t.Fatalf("get: %v", err)
	}
	if err := r.proxy.SetRate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.via.Put(ctx, href, body, carddav.CreateOnly()); !errors.Is(err, carddav.ErrPreconditionFailed) {
		t.Fatalf("the retried create: %v, want 412 (it is already there)", err)
	}
	r.wantCount(faultproxy.ResetAfter, 1)
}

func testTimeoutClient(ctx context.Context, t *testing.T, tg target) {
	doer := &http.Client{Timeout: 200 * time.Millisecond, CheckRedirect: noRedirect}
	r := newRig(t, tg, doer, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Timeout), faultproxy.WithHold(time.Minute))
	_, href, body := r.card()
	_, err := r.via.Put(ctx, href, body, carddav.CreateOnly())
	if !carddav.Retryable(err) || !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		t.Fatalf("put: %v, want the client's timeout", err)
	}
	if _, ok := r.onServer(ctx, href); ok {
		t.Fatal("a held request reached the server")
	}
	r.wantCount(faultproxy.Timeout, 1)
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func testTimeoutHold(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Timeout), faultproxy.WithHold(50*time.Millisecond))
	_, err := r.via.Get(ctx, r.ab+"missing.vcf")
	var he *carddav.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusGatewayTimeout || !carddav.Retryable(err) {
		t.Fatalf("get: %v, want a retryable 504", err)
	}
	r.wantCount(faultproxy.Timeout, 1)
}

func testTruncated(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Truncated), faultproxy.WithSeed(3))
	href, _, _ := r.stored(ctx)
	for i := range 5 {
		_, err := r.via.Get(ctx, href)
		if !errors.Is(err, io.ErrUnexpectedEOF) || !carddav.Retryable(err) {
			t.Fatalf("get %d: %v, want a retryable unexpected EOF", i, err)
		}
	}
	if _, err := r.via.SyncCollection(ctx, r.ab, "", 0); err == nil || !carddav.Retryable(err) {
		t.Fatalf("sync-collection: %v, want a retryable error", err)
	}
	r.wantCount(faultproxy.Truncated, 6)
}

func testGarbled(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Garbled), faultproxy.WithSeed(4))
	href, body, _ := r.stored(ctx)
	for i := range 5 {
		if _, err := r.via.SyncCollection(ctx, r.ab, "", 0); !errors.Is(err, carddav.ErrMalformedResponse) {
			t.Fatalf("sync-collection %d: %v, want a malformed response", i, err)
		}
	}
	// A vCard body is never garbled: the client could not tell it from a card the server holds.
	obj, err := r.via.Get(ctx, href)
	if err != nil || !bytes.Equal(obj.Data, body) {
		t.Fatalf("get: %v, %q; want the card untouched", err, obj)
	}
	r.wantCount(faultproxy.Garbled, 5)
}

func testSlow(ctx context.Context, t *testing.T, tg target) {
	var waits atomic.Int64
	after := func(d time.Duration) <-chan time.Time {
		waits.Add(1)
		return time.After(d)
	}
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Slow),
		faultproxy.WithSlow(80*time.Millisecond), faultproxy.WithAfter(after))
	href, body, _ := r.stored(ctx)
	obj, err := r.via.Get(ctx, href)
	if err != nil || !bytes.Equal(obj.Data, body) {
		t.Fatalf("get: %v; want the whole card", err)
	}
	if waits.Load() < 2 {
		t.Errorf("the answer came in %d pieces, want several", waits.Load())
	}
	r.wantCount(faultproxy.Slow, 1)
}

func testNotApplicable(ctx context.Context, t *testing.T, tg target) {
	r := newRig(t, tg, nil, faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Precondition))
	_, href, body := r.card()
	if _, err := r.via.Put(ctx, href, body, carddav.Condition{}); err != nil {
		t.Fatalf("unconditional put: %v", err)
	}
	if _, err := r.via.SyncCollection(ctx, r.ab, "", 0); err != nil {
		t.Fatalf("sync-collection: %v", err)
	}
	r.wantCount(faultproxy.Precondition, 0)
	if c := r.proxy.Counts(); c.Requests < 2 {
		t.Errorf("proxy counted %d requests, want at least 2", c.Requests)
	}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

package fxa_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/fxa"
	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

func wantFetches(t *testing.T, f *fixture, n int64) {
	t.Helper()
	if got := f.fetches.Load(); got != n {
		t.Fatalf("%d key set fetches, want %d", got, n)
	}
}

func TestKeyRotationRefetchesOnce(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	old := f.mint(t, devidp.Token{})
	mustAccept(t, v, old)
	mustAccept(t, v, f.mint(t, devidp.Token{Alg: fxa.ES256}))
	wantFetches(t, f, 1)

	f.clock.Advance(fxa.RefetchInterval) // the interval counts from the first fetch too
	kid, err := f.Rotate(fxa.RS256)
	if err != nil {
		t.Fatal(err)
	}
	rotated := f.mint(t, devidp.Token{})
	if got := f.KID(fxa.RS256); got != kid {
		t.Fatalf("signing kid %q, want the new %q", got, kid)
	}
	mustAccept(t, v, rotated) // an unknown kid: one refetch, at once
	wantFetches(t, f, 2)
	mustAccept(t, v, rotated)
	mustAccept(t, v, old) // the old key is still published
	wantFetches(t, f, 2)
}

func TestUnknownKIDBurstFetchesOncePerMinute(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	mustAccept(t, v, f.mint(t, devidp.Token{}))
	wantFetches(t, f, 1)

	// Right after a fetch an unknown kid cannot trigger another: the interval counts from the last fetch.
	mustRefuse(t, v, f.mint(t, devidp.Token{Header: map[string]any{"kid": "made-up-0"}}), fxa.CodeUnknownKID)
	wantFetches(t, f, 1)

	f.clock.Advance(fxa.RefetchInterval)
	var wg sync.WaitGroup
	for i := range 50 {
		tok := f.mint(t, devidp.Token{Header: map[string]any{"kid": fmt.Sprintf("made-up-%d", i+1)}})
		wg.Go(func() { mustRefuse(t, v, tok, fxa.CodeUnknownKID) })
	}
	wg.Wait()
	wantFetches(t, f, 2)

	f.clock.Advance(fxa.RefetchInterval - time.Second)
	mustRefuse(t, v, f.mint(t, devidp.Token{Tamper: devidp.UnknownKID}), fxa.CodeUnknownKID)
	wantFetches(t, f, 2)
	f.clock.Advance(time.Second)
	mustRefuse(t, v, f.mint(t, devidp.Token{Tamper: devidp.UnknownKID}), fxa.CodeUnknownKID)
	wantFetches(t, f, 3)

	// A rotation within the minute after that is seen only once the minute is over.
	if _, err := f.Rotate(fxa.ES256); err != nil {
		t.Fatal(err)
	}
	rotated := f.mint(t, devidp.Token{Alg: fxa.ES256})
	mustRefuse(t, v, rotated, fxa.CodeUnknownKID)
	f.clock.Advance(fxa.RefetchInterval)
	mustAccept(t, v, rotated)
	wantFetches(t, f, 4)
}

func TestKeySetDownKeepsTheCachedSet(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	mustAccept(t, v, f.mint(t, devidp.Token{}))

	f.down.Store(true)
	if _, err := f.Rotate(fxa.RS256); err != nil {
		t.Fatal(err)
	}
	rotated := f.mint(t, devidp.Token{})
	f.clock.Advance(fxa.RefetchInterval)
	mustRefuse(t, v, rotated, fxa.CodeUnknownKID) // the refetch failed
	wantFetches(t, f, 2)
	mustAccept(t, v, f.mint(t, devidp.Token{Alg: fxa.ES256})) // the cached set still answers
	wantFetches(t, f, 2)

	// Past the set's cache lifetime (the provider says max-age=300), a known kid still verifies while the
	// issuer is down, and the stale set is retried at most once a minute.
	f.clock.Advance(10 * time.Minute)
	mustAccept(t, v, f.mint(t, devidp.Token{Alg: fxa.ES256}))
	wantFetches(t, f, 3)
	mustAccept(t, v, f.mint(t, devidp.Token{Alg: fxa.ES256}))
	wantFetches(t, f, 3)

	f.down.Store(false)
	f.clock.Advance(fxa.RefetchInterval)
	mustAccept(t, v, rotated)
	wantFetches(t, f, 4)
}

func TestNoKeySetIsUnavailable(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	f.down.Store(true)
	tok := f.mint(t, devidp.Token{})
	_, err := v.Verify(context.Background(), tok)
	mustRefuse(t, v, tok, fxa.CodeJWKSUnavailable)
	var e *fxa.Error
	if !errors.As(err, &e) || !e.Temporary() || e.Err == nil {
		t.Fatalf("err %v: want a temporary *Error with the fetch's cause", err)
	}
	// Without any set, retries come every few seconds rather than every minute; still not on every token.
	wantFetches(t, f, 1)
	f.clock.Advance(5 * time.Second)
	mustRefuse(t, v, tok, fxa.CodeJWKSUnavailable)
	wantFetches(t, f, 2)
	if err := v.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh succeeded with the key set down")
	}
	wantFetches(t, f, 3)

	f.down.Store(false)
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, f, 4)
	mustAccept(t, v, tok)
	wantFetches(t, f, 4)
}

func TestStaleKeySetIsRefreshedAndRetiredKeysDrop(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	old := f.mint(t, devidp.Token{})
	oldKID := kidOf(t, old)
	mustAccept(t, v, old)
	if _, err := f.Rotate(fxa.RS256); err != nil {
		t.Fatal(err)
	}
	if err := f.Retire(oldKID); err != nil {
		t.Fatal(err)
	}
	// The provider's set says max-age=300: within it the cached set answers, retired key included.
	f.clock.Advance(299 * time.Second)
	mustAccept(t, v, old)
	wantFetches(t, f, 1)
	f.clock.Advance(2 * time.Second)
	mustRefuse(t, v, old, fxa.CodeUnknownKID)
	wantFetches(t, f, 2)
	mustAccept(t, v, f.mint(t, devidp.Token{}))
	wantFetches(t, f, 2)
}

// gatedKeySet serves f's key set only once release is closed, and counts the requests; entered receives one
// value per request that arrived.
func gatedKeySet(t *testing.T, f *fixture) (url string, entered <-chan struct{}, release chan struct{}, count *atomic.Int64) {
	in := make(chan struct{}, 100)
	release = make(chan struct{})
	count = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		in <- struct{}{}
		<-release
		set, _ := f.KeySet()
		_, _ = w.Write(set)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, in, release, count
}

// Tokens arriving while a fetch runs wait for it rather than starting their own.
func TestConcurrentTokensShareOneFetch(t *testing.T) {
	f := newFixture(t)
	url, entered, release, count := gatedKeySet(t, f)
	v, err := fxa.NewVerifier(f.Issuer(), url, fxa.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	tok := f.mint(t, devidp.Token{})
	var wg sync.WaitGroup
	wg.Go(func() { mustAccept(t, v, tok) })
	<-entered // the first fetch is running: every token from now on finds it
	for range 20 {
		wg.Go(func() { mustAccept(t, v, tok) })
	}
	// A token whose context ends while it waits is refused as temporarily unverifiable, and the fetch goes on.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Verify(ctx, tok)
	if fxa.CodeOf(err) != fxa.CodeJWKSUnavailable || !errors.Is(err, context.Canceled) {
		t.Errorf("verify with a cancelled context while waiting: %v", err)
	}
	close(release)
	wg.Wait()
	if n := count.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

func TestFileKeySet(t *testing.T) {
	f := newFixture(t)
	set, err := f.KeySet()
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/jwks.json"
	if err := devidp.WritePrivateFile(path, set); err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{path, "file://" + path} {
		v, err := fxa.NewVerifier(f.Issuer(), loc, fxa.WithClock(f.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		mustAccept(t, v, f.mint(t, devidp.Token{}))
		mustAccept(t, v, f.mint(t, devidp.Token{Alg: fxa.ES256}))
	}
	v, err := fxa.NewVerifier(f.Issuer(), path+".missing", fxa.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, v, f.mint(t, devidp.Token{}), fxa.CodeJWKSUnavailable)
}

func TestRedirectToPlainHTTPIsRefused(t *testing.T) {
	f := newFixture(t)
	redirect := httptest.NewServer(http.RedirectHandler("http://idp.example.invalid/v1/jwks", http.StatusFound))
	t.Cleanup(redirect.Close)
	v, err := fxa.NewVerifier(f.Issuer(), redirect.URL, fxa.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), f.mint(t, devidp.Token{}))
	if fxa.CodeOf(err) != fxa.CodeJWKSUnavailable || !errors.Is(err, fxa.ErrInsecureJWKS) {
		t.Fatalf("err %v: want jwks_unavailable caused by ErrInsecureJWKS", err)
	}
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

package fxa_test

import (
	"context"
	"errors"
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

const testUID = "0123456789abcdef0123456789abcdef"

// clock is a settable time for the verifier and the provider alike.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a development provider served by httptest, with a count of its key set fetches and a switch
// that makes the key set endpoint fail.
type fixture struct {
	*devidp.Provider
	clock   *clock
	fetches atomic.Int64
	down    atomic.Bool
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: newClock()}
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == devidp.JWKSPath {
			f.fetches.Add(1)
			if f.down.Load() {
				http.Error(w, "down for the test", http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	p, err := devidp.NewProvider("http://"+srv.Listener.Addr().String(), devidp.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.Provider, h = p, p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return f
}

// verifier verifies the fixture's tokens on its clock, with its client id as the audience.
func (f *fixture) verifier(t testing.TB, opts ...fxa.Option) *fxa.Verifier {
	t.Helper()
	base := []fxa.Option{fxa.WithClock(f.clock.Now), fxa.WithAudience(devidp.DefaultClientID)}
	v, err := fxa.NewVerifier(f.Issuer(), f.JWKSURL(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *fixture) mint(t testing.TB, tok devidp.Token) string {
	t.Helper()
	if tok.UID == "" {
		tok.UID = testUID
	}
	s, err := f.Mint(tok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var sentinels = map[fxa.Code]error{
	fxa.CodeMalformed:       fxa.ErrMalformed,
	fxa.CodeBadType:         fxa.ErrBadType,
	fxa.CodeBadAlg:          fxa.ErrBadAlg,
	fxa.CodeUnknownKID:      fxa.ErrUnknownKID,
	fxa.CodeJWKSUnavailable: fxa.ErrJWKSUnavailable,
	fxa.CodeBadSignature:    fxa.ErrBadSignature,
	fxa.CodeBadIssuer:       fxa.ErrBadIssuer,
	fxa.CodeBadAudience:     fxa.ErrBadAudience,
	fxa.CodeExpired:         fxa.ErrExpired,
	fxa.CodeNotYetValid:     fxa.ErrNotYetValid,
	fxa.CodeIssuedInFuture:  fxa.ErrIssuedInFuture,
	fxa.CodeBadSubject:      fxa.ErrBadSubject,
	fxa.CodeMissingScope:    fxa.ErrMissingScope,
	fxa.CodeBadClaim:        fxa.ErrBadClaim,
}

// mustRefuse verifies token and fails unless it is refused with code, through an *Error whose message holds
// no part of the token that could be replayed.
func mustRefuse(t testing.TB, v *fxa.Verifier, token string, code fxa.Code) {
	t.Helper()
	c, err := v.Verify(context.Background(), token)
	if err == nil {
		t.Fatalf("accepted, claims %+v; want %s", c, code)
	}
	if got := fxa.CodeOf(err); got != code {
		t.Fatalf("code %q (%v), want %q", got, err, code)
	}
	if !errors.Is(err, sentinels[code]) {
		t.Fatalf("errors.Is(%v, sentinel of %s) is false", err, code)
	}
	if c.UID != "" || !c.Expiry.IsZero() {
		t.Fatalf("claims %+v returned with an error", c)
	}
	msg := err.Error()
	if token != "" && strings.Contains(msg, token) {
		t.Fatalf("error message holds the token: %s", msg)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 16 && strings.Contains(msg, part) {
			t.Fatalf("error message holds a part of the token: %s", msg)
		}
	}
}

func mustAccept(t testing.TB, v *fxa.Verifier, token string) fxa.Claims {
	t.Helper()
	c, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

package faultproxy_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/faultproxy"
)

// outcomes sends n requests one after another through a new proxy and returns each one's status (0 for a
// success or a network error).
func outcomes(t *testing.T, tg target, seed uint64, n int) []int {
	r := newRig(t, tg, nil, faultproxy.WithSeed(seed), faultproxy.WithRate(0.3),
		faultproxy.WithKinds(faultproxy.Unavailable, faultproxy.RateLimited, faultproxy.Timeout), faultproxy.WithHold(time.Millisecond))
	ctx := context.Background()
	out := make([]int, n)
	for i := range out {
		_, err := r.via.SyncCollection(ctx, r.ab, "", 0)
		var he *carddav.HTTPError
		if errors.As(err, &he) {
			out[i] = he.Status
		} else if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

func TestSeedReproducesFaults(t *testing.T) {
	tg := embedded(t)
	a, b := outcomes(t, tg, 42, 80), outcomes(t, tg, 42, 80)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	faults := 0
	for _, s := range a {
		if s != 0 {
			faults++
		}
	}
	// 80 draws at 0.3: 24 expected; the bounds only catch a rate that is ignored or inverted.
	if faults < 8 || faults > 45 {
		t.Errorf("%d faults in 80 requests at rate 0.3", faults)
	}
	if c := outcomes(t, tg, 43, 80); slices.Equal(a, c) {
		t.Errorf("seeds 42 and 43 gave the same 80 outcomes: %v", a)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target string
		opt    faultproxy.Option
	}{
		{"rate above 1", "http://127.0.0.1:1", faultproxy.WithRate(1.5)},
		{"negative rate", "http://127.0.0.1:1", faultproxy.WithRate(-0.1)},
		{"unknown kind", "http://127.0.0.1:1", faultproxy.WithKinds("teapot")},
		{"hostile kind in a proxy", "http://127.0.0.1:1", faultproxy.WithKinds(faultproxy.XMLBomb)},
		{"no kinds", "http://127.0.0.1:1", faultproxy.WithKinds()},
		{"zero hold", "http://127.0.0.1:1", faultproxy.WithHold(0)},
		{"relative target", "/carddav", nil},
		{"ftp target", "ftp://127.0.0.1/", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []faultproxy.Option
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			if _, err := faultproxy.New(tc.target, opts...); !errors.Is(err, faultproxy.ErrInvalid) {
				t.Fatalf("New: %v, want ErrInvalid", err)
			}
		})
	}
	p, err := faultproxy.New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetRate(2); !errors.Is(err, faultproxy.ErrInvalid) {
		t.Fatalf("SetRate(2): %v, want ErrInvalid", err)
	}
}

// TestCloseReleasesHeldRequests checks that Close ends a request the proxy is holding instead of waiting out
// the hold.
func TestCloseReleasesHeldRequests(t *testing.T) {
	p, err := faultproxy.New("http://127.0.0.1:1", faultproxy.WithRate(1), faultproxy.WithKinds(faultproxy.Timeout), faultproxy.WithHold(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := faultproxy.Start(p)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/x")
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for p.Counts().Faults[faultproxy.Timeout] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the proxy")
		}
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the held request")
	}
	if err := <-errc; err == nil {
		t.Error("the held request got an answer; want its connection closed")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

package carddavtest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// Silent listens on a free loopback port and takes connections without ever answering, as a wedged server or a
// dead link does; with reading false it does not even read what arrives (a server that stopped reading the
// request body). It returns the host:port; t's end closes everything.
func Silent(t testing.TB, reading bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if reading {
				wg.Go(func() { _, _ = io.Copy(io.Discard, c) })
			}
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// Front stands on a loopback port in front of a real server and forwards to it, until Hang makes it take each
// request and never answer (until the client gives up).
type Front struct {
	// URL is the front's root.
	URL     string
	hang    atomic.Bool
	release chan struct{}
}

// NewFront starts a Front forwarding to target; t's end stops it and releases any request it holds.
func NewFront(t testing.TB, target string) *Front {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f := &Front{release: make(chan struct{})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.hang.Load() {
			// Reading the whole request lets the server notice when the client hangs up.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-f.release:
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	f.URL = hs.URL
	t.Cleanup(func() {
		close(f.release)
		hs.Close()
	})
	return f
}

// Hang makes the front stop answering (true) or forward again (false).
func (f *Front) Hang(on bool) { f.hang.Store(on) }

package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// Server serves a handler (a Proxy, a Hostile) on a free loopback port until Close.
type Server struct {
	// URL is the server's root, "http://127.0.0.1:PORT".
	URL string

	srv  *http.Server
	done chan error

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
}

// Start serves h on 127.0.0.1 at a free port.
func Start(h http.Handler) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	s := &Server{URL: "http://" + l.Addr().String(), done: make(chan error, 1)}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.enter() {
			http.Error(w, "faultproxy: closing", http.StatusServiceUnavailable)
			return
		}
		defer s.inflight.Done()
		h.ServeHTTP(w, r)
	})}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

// Close stops listening, closes every connection (a held request ends there) and waits for the handlers
// still running. It is safe to call twice.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Close()
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	s.inflight.Wait()
	if err != nil {
		return fmt.Errorf("faultproxy: close: %w", err)
	}
	return nil
}

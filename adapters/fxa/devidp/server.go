package devidp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/internal/loopback"
)

// DefaultAddr listens on a free port of 127.0.0.1.
const DefaultAddr = "127.0.0.1:0"

// Server is a Provider served over HTTP on loopback, its issuer being its URL.
type Server struct {
	*Provider
	// URL is the base URL, http://127.0.0.1:port without a trailing slash: the issuer.
	URL string

	srv  *http.Server
	done chan error
}

// ErrNotLoopback refuses to listen anywhere but on this machine.
var ErrNotLoopback = errors.New("devidp: listens on loopback only (127.0.0.1, ::1 or localhost)")

// Start listens on addr (DefaultAddr when empty), which must be a loopback address, and serves a new
// Provider until Close.
func Start(addr string, opts ...Option) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("devidp: address %q: %w", addr, err)
	}
	if !loopback.Host(host) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}
	if !loopback.Addr(l.Addr().String()) { // "localhost" resolved elsewhere
		l.Close()
		return nil, fmt.Errorf("%w: %q resolved to %s", ErrNotLoopback, addr, l.Addr())
	}
	url := "http://" + l.Addr().String()
	p, err := NewProvider(url, opts...)
	if err != nil {
		l.Close()
		return nil, err
	}
	s := &Server{
		Provider: p,
		URL:      url,
		srv:      &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second},
		done:     make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// Close stops serving and waits for the server's goroutine.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("devidp: close: %w", err)
	}
	return nil
}

// MintAt asks the provider at baseURL (its issuer URL) to mint a token, over its admin endpoint.
func MintAt(ctx context.Context, client *http.Client, baseURL string, req MintRequest) (MintResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return MintResponse{}, fmt.Errorf("devidp: mint: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(baseURL, "/")+MintPath, bytes.NewReader(body))
	if err != nil {
		return MintResponse{}, fmt.Errorf("devidp: mint: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(hreq)
	if err != nil {
		return MintResponse{}, fmt.Errorf("devidp: mint: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return MintResponse{}, fmt.Errorf("devidp: mint: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return MintResponse{}, fmt.Errorf("devidp: mint: %w", errorFrom(resp.Status, data))
	}
	var out MintResponse
	if err := json.Unmarshal(data, &out); err != nil || out.AccessToken == "" {
		return MintResponse{}, errors.New("devidp: mint: the answer holds no token")
	}
	return out, nil
}

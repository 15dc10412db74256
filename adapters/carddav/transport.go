package carddav

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Timeouts bound each phase of a request, so that a server that accepts the connection and never answers (or
// stops halfway) cannot wedge a sync. There is no bound on a whole request: a body that still flows may take
// as long as it needs, which a large photo on a slow phone link does.
type Timeouts struct {
	// Connect bounds the TCP connection.
	Connect time.Duration
	// TLSHandshake bounds the TLS handshake.
	TLSHandshake time.Duration
	// ResponseHeader bounds the wait for the response's headers once the request is sent: the server's think
	// time (a large REPORT on a slow server takes seconds).
	ResponseHeader time.Duration
	// Stall bounds the time without a single byte moving while the request body is sent or the response body
	// read.
	Stall time.Duration
}

// DefaultTimeouts suit a slow phone link and a busy server: generous enough never to cut a healthy request,
// short enough that a dead server is reported within minutes rather than never.
var DefaultTimeouts = Timeouts{
	Connect:        30 * time.Second,
	TLSHandshake:   30 * time.Second,
	ResponseHeader: 2 * time.Minute,
	Stall:          time.Minute,
}

func (t Timeouts) validate() error {
	if t.Connect <= 0 || t.TLSHandshake <= 0 || t.ResponseHeader <= 0 || t.Stall <= 0 {
		return errors.New("carddav: every timeout must be positive")
	}
	return nil
}

// TimeoutError says which phase of a request to which server ran out of time. Its Timeout method reports true,
// so Retryable accepts it: the same request may well succeed once the server answers again.
type TimeoutError struct {
	// Host is the server's host (and port).
	Host string
	// Phase is what timed out, worded to precede the host: "connecting to", "in the TLS handshake with", "waiting for
	// an answer from", "sending the request to" or "reading the answer from".
	Phase string
	// After is the bound that was reached.
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out %s %s (nothing for %s)", e.Phase, e.Host, e.After)
}

// Timeout reports true (net.Error).
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true (net.Error).
func (e *TimeoutError) Temporary() bool { return true }

var _ net.Error = (*TimeoutError)(nil)

// NewHTTPClient returns the HTTP client a Client uses unless WithHTTPClient says otherwise: every phase of a
// request bounded by t, redirects reported rather than followed (discovery follows them by hand), and TLS
// verified against roots (nil for the system's certificate pool; see LoadCAFile).
func NewHTTPClient(t Timeouts, roots *x509.CertPool) (*http.Client, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
					return nil, &TimeoutError{Host: addr, Phase: "connecting to", After: t.Connect}
				}
				return nil, err
			}
			return &stallConn{Conn: c, host: addr, stall: t.Stall}, nil
		},
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   t.TLSHandshake,
		ResponseHeaderTimeout: t.ResponseHeader,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   DefaultConcurrency * 2,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     &timeoutTransport{next: tr, t: t},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// LoadCAFile reads the PEM certificates of a self-hosted server's own certificate authority, to trust in
// addition to the system's.
func LoadCAFile(path string, read func(string) ([]byte, error)) (*x509.CertPool, error) {
	pem, err := read(path)
	if err != nil {
		return nil, fmt.Errorf("carddav: CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("carddav: CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// timeoutTransport names the phase and the server in the transport's own timeouts, and watches the response
// body for stalls.
type timeoutTransport struct {
	next http.RoundTripper
	t    Timeouts
}

func (tt *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tt.next.RoundTrip(req)
	if err != nil {
		var te *TimeoutError
		if errors.As(err, &te) {
			return nil, te
		}
		// net/http's own timeouts are unexported types; their messages are stable and say which one fired.
		switch msg := err.Error(); {
		case strings.Contains(msg, "TLS handshake timeout"):
			return nil, &TimeoutError{Host: req.URL.Host, Phase: "in the TLS handshake with", After: tt.t.TLSHandshake}
		case strings.Contains(msg, "timeout awaiting response headers"):
			return nil, &TimeoutError{Host: req.URL.Host, Phase: "waiting for an answer from", After: tt.t.ResponseHeader}
		}
		return nil, err
	}
	resp.Body = newStallBody(resp.Body, req.URL.Host, tt.t.Stall)
	return resp, nil
}

// stallConn bounds each write: a server that stops reading the request body makes the write fail after stall
// instead of blocking for good. Reads are bounded by the transport (headers) and stallBody (bodies), because a
// connection idle in the pool must not time out.
type stallConn struct {
	net.Conn
	host  string
	stall time.Duration
}

func (c *stallConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.stall)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		return n, &TimeoutError{Host: c.host, Phase: "sending the request to", After: c.stall}
	}
	return n, err
}

// stallBody fails a Read that gets no byte within stall, closing the body so the connection is not reused.
type stallBody struct {
	body  io.ReadCloser
	host  string
	stall time.Duration

	mu      sync.Mutex
	stalled bool
	timer   *time.Timer
}

func newStallBody(body io.ReadCloser, host string, stall time.Duration) *stallBody {
	b := &stallBody{body: body, host: host, stall: stall}
	b.timer = time.AfterFunc(stall, b.fire)
	b.timer.Stop()
	return b
}

func (b *stallBody) fire() {
	b.mu.Lock()
	b.stalled = true
	b.mu.Unlock()
	_ = b.body.Close() // unblocks the Read in progress
}

func (b *stallBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.stall)
	n, err := b.body.Read(p)
	b.timer.Stop()
	b.mu.Lock()
	stalled := b.stalled
	b.mu.Unlock()
	if stalled && n == 0 {
		return 0, &TimeoutError{Host: b.host, Phase: "reading the answer from", After: b.stall}
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.timer.Stop()
	return b.body.Close()
}

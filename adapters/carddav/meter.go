package carddav

import (
	"io"
	"net/http"
	"sync/atomic"
)

// Meter counts the requests an HTTP client sends and the bytes it moves (request bodies plus response bodies
// read). Put it between a Client and its transport with WithHTTPClient; it satisfies engine.Meter.
type Meter struct {
	next     HTTPDoer
	requests atomic.Int64
	bytes    atomic.Int64
}

var _ HTTPDoer = (*Meter)(nil)

// NewMeter counts what goes through next.
func NewMeter(next HTTPDoer) *Meter { return &Meter{next: next} }

// Do sends the request through the wrapped doer and counts it.
func (m *Meter) Do(req *http.Request) (*http.Response, error) {
	m.requests.Add(1)
	if req.ContentLength > 0 {
		m.bytes.Add(req.ContentLength)
	}
	resp, err := m.next.Do(req)
	if resp != nil && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &m.bytes}
	}
	return resp, err
}

// Requests returns the number of requests sent so far.
func (m *Meter) Requests() int64 { return m.requests.Load() }

// Bytes returns the number of body bytes sent and received so far.
func (m *Meter) Bytes() int64 { return m.bytes.Load() }

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

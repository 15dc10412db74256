package faultproxy

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// Proxy is a reverse proxy in front of one real server that injects faults into a share of the requests it
// relays. It is an http.Handler; Start serves it on a loopback port. It is safe for concurrent use.
//
// Which request meets which fault is drawn from a random source seeded by WithSeed: the same seed and the same
// sequence of requests give the same faults. Concurrent clients interleave their requests differently from one
// run to the next, so with several of them the draws are the same but may fall on other requests.
type Proxy struct {
	*tally
	up  *upstream
	cfg config
}

// New returns a Proxy that relays requests to the server at target (its scheme and host; request paths are
// kept as they are). Its SetRate, Rate and Counts methods change the fault rate and report what it did.
func New(target string, opts ...Option) (*Proxy, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	up, err := newUpstream(target, cfg.transport, cfg.maxBody)
	if err != nil {
		return nil, err
	}
	return &Proxy{tally: newTally(cfg.seed, cfg.rate), up: up, cfg: cfg}, nil
}

// decision is the fault drawn for one request.
type decision struct {
	kind Kind // "" for none
	// aux is one more random word, for the details of the fault (which 5xx, which race, where to cut).
	aux uint64
}

// decide draws the fault for a request: none with probability 1 - rate, else one of the enabled kinds that
// applies to it.
func (p *Proxy) decide(method string, h http.Header) decision {
	var eligible []Kind
	for _, k := range p.cfg.kinds {
		if k.Applies(method, h) {
			eligible = append(eligible, k)
		}
	}
	k, aux := p.roll(eligible)
	return decision{kind: k, aux: aux}
}

// ServeHTTP relays the request to the server, or fails it as drawn.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	body, err := p.up.readBody(r)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "faultproxy: "+err.Error(), status)
		return
	}
	d := p.decide(r.Method, r.Header)
	switch d.kind {
	case Unavailable:
		p.count(d.kind)
		p.refuse(w, []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[d.aux%3])
		return
	case RateLimited:
		p.count(d.kind)
		p.refuse(w, http.StatusTooManyRequests)
		return
	case ResetBefore:
		p.count(d.kind)
		reset(w)
		return
	case Timeout:
		p.count(d.kind)
		select {
		case <-r.Context().Done():
		case <-p.cfg.after(p.cfg.hold):
			http.Error(w, "faultproxy: upstream timed out", http.StatusGatewayTimeout)
		}
		return
	case Precondition:
		p.count(d.kind)
		if d.aux%2 == 0 {
			http.Error(w, "faultproxy: another client wrote first", http.StatusPreconditionFailed)
			return
		}
		// The real race: the same write lands first, as from another client, so the server itself refuses
		// the request's condition.
		// Its answer does not matter: the request forwarded below meets its effect either way.
		_, _ = p.up.forward(r, body)
	}
	a, err := p.up.forward(r, body)
	if err != nil {
		if r.Context().Err() == nil {
			http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		}
		return
	}
	switch {
	case d.kind == ResetAfter:
		p.count(d.kind)
		reset(w)
	case d.kind == Truncated && len(a.body) > 0:
		p.count(d.kind)
		truncate(w, a, int(d.aux%uint64(len(a.body))))
	case d.kind == Garbled && len(a.body) > 0:
		p.count(d.kind)
		garble(a, d.aux)
		a.write(w)
	case d.kind == Slow:
		p.count(d.kind)
		p.trickle(w, r, a)
	default:
		a.write(w)
	}
}

// refuse answers status with Retry-After and no forwarding.
func (p *Proxy) refuse(w http.ResponseWriter, status int) {
	w.Header().Set("Retry-After", strconv.Itoa(p.cfg.retryAfter))
	http.Error(w, "faultproxy: injected "+http.StatusText(status), status)
}

// reset closes the client's connection without an answer, with a TCP reset where the connection allows it.
func reset(w http.ResponseWriter) {
	conn, _, err := hijack(w)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	return hj.Hijack()
}

// truncate sends the answer's status and headers announcing the whole body, then the first n bytes of it,
// and closes the connection.
func truncate(w http.ResponseWriter, a *answer, n int) {
	conn, buf, err := hijack(w)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", a.status, http.StatusText(a.status))
	a.header.Set("Content-Length", strconv.Itoa(len(a.body)))
	a.header.Set("Connection", "close")
	a.header.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(a.body[:n])
	buf.Flush()
}

// garble overwrites a stretch of the body with NUL bytes, which XML forbids anywhere (XML 1.0 section 2.2), so
// no parser can take the result for a valid document whatever stretch is hit.
func garble(a *answer, aux uint64) {
	n := len(a.body)
	at := int(aux % uint64(n))
	for i := at; i < n && i < at+16; i++ {
		a.body[i] = 0
	}
}

// trickle sends the answer in pieces spread over the slow time.
func (p *Proxy) trickle(w http.ResponseWriter, r *http.Request, a *answer) {
	const pieces = 8
	copyHeader(w.Header(), a.header)
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	rc := http.NewResponseController(w)
	step := p.cfg.slow / pieces
	size := (len(a.body) + pieces - 1) / pieces
	for i := 0; i < pieces; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-p.cfg.after(step):
		}
		lo, hi := min(i*size, len(a.body)), min((i+1)*size, len(a.body))
		if _, err := w.Write(a.body[lo:hi]); err != nil {
			return
		}
		rc.Flush()
	}
}

var _ http.Handler = (*Proxy)(nil)

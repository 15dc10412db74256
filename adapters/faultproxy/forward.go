package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// upstream forwards requests to the real server and relays its answers, with the server's own origin
// rewritten to the proxy's wherever it shows (redirect targets, absolute hrefs), so a client never leaves
// the proxy.
type upstream struct {
	target  *url.URL
	client  *http.Client
	maxBody int64
}

func newUpstream(target string, rt http.RoundTripper, maxBody int64) (*upstream, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: target %q is not an absolute http(s) URL", ErrInvalid, target)
	}
	return &upstream{
		target: &url.URL{Scheme: u.Scheme, Host: u.Host},
		client: &http.Client{
			Transport:     rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxBody: maxBody,
	}, nil
}

// answer is a server's response, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// readBody reads a request body within the limit.
func (u *upstream) readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, u.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(body)) > u.maxBody {
		return nil, errTooLarge
	}
	return body, nil
}

// forward sends the request, with body, to the server and reads the answer.
func (u *upstream) forward(r *http.Request, body []byte) (*answer, error) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.target.String()+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	copyHeader(out.Header, r.Header)
	// Identity bodies only: a compressed one could be neither rewritten nor cut where the fault says.
	out.Header.Del("Accept-Encoding")
	out.ContentLength = int64(len(body))
	resp, err := u.client.Do(out)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, u.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if int64(len(data)) > u.maxBody {
		return nil, errTooLarge
	}
	a := &answer{status: resp.StatusCode, header: make(http.Header), body: data}
	copyHeader(a.header, resp.Header)
	a.header.Del("Content-Length")
	u.rewrite(a, "http://"+r.Host)
	return a, nil
}

// rewrite replaces the server's origin by the proxy's in the Location header and in XML bodies.
func (u *upstream) rewrite(a *answer, proxyOrigin string) {
	origin := u.target.String()
	if loc := a.header.Get("Location"); strings.HasPrefix(loc, origin) {
		a.header.Set("Location", proxyOrigin+strings.TrimPrefix(loc, origin))
	}
	if strings.Contains(a.header.Get("Content-Type"), "xml") {
		a.body = bytes.ReplaceAll(a.body, []byte(origin), []byte(proxyOrigin))
	}
}

// write relays an answer unchanged.
func (a *answer) write(w http.ResponseWriter) {
	copyHeader(w.Header(), a.header)
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// hopHeaders are the headers of one connection (RFC 9110 section 7.6.1), never relayed.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
	for _, k := range hopHeaders {
		dst.Del(k)
	}
}

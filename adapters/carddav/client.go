package carddav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one CardDAV server as one user. It is safe for concurrent use; WithMaxConcurrency bounds
// the requests it has in flight.
type Client struct {
	endpoint *url.URL
	cfg      config
	sem      chan struct{}
	digest   digestAuth
	reports  reportCache // which collections list sync-collection (see SyncCollection)
}

// New returns a Client for endpoint, which is either a bare server URL (discovery starts there) or the URL
// of an address book. Credentials belong in WithBasicAuth, not in the URL.
func New(endpoint string, opts ...Option) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		// A *url.Error quotes the whole URL, password included; keep only its reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("carddav: endpoint URL does not parse: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("carddav: endpoint URL must start with http:// or https://")
	}
	if u.Host == "" {
		return nil, errors.New("carddav: endpoint URL has no host")
	}
	if u.User != nil {
		return nil, errors.New("carddav: endpoint URL carries credentials; pass them with WithBasicAuth")
	}
	cfg := config{
		concurrency: DefaultConcurrency,
		batch:       DefaultMultiGetBatch,
		maxObject:   DefaultMaxObjectSize,
		maxXML:      DefaultMaxXMLSize,
		logger:      slog.New(slog.DiscardHandler),
		now:         time.Now,
	}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.basicAuth && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("carddav: %s: %w", u.Host, ErrInsecureAuth)
	}
	if cfg.doer == nil {
		// Discovery follows redirects by hand; anywhere else a redirect is reported, not obeyed.
		if cfg.doer, err = NewHTTPClient(DefaultTimeouts, nil); err != nil {
			return nil, err
		}
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if p, err = canonicalPath(p); err != nil {
		return nil, fmt.Errorf("carddav: endpoint URL: %w", err)
	}
	ep := &url.URL{Scheme: u.Scheme, Host: u.Host}
	setPath(ep, p)
	return &Client{endpoint: ep, cfg: cfg, sem: make(chan struct{}, cfg.concurrency)}, nil
}

// Endpoint returns the URL the Client was made for.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// URL returns the absolute URL of an href (a path on the endpoint's origin).
func (c *Client) URL(href string) string {
	u := *c.endpoint
	setPath(&u, href)
	return u.String()
}

// setPath sets an escaped path on u keeping its escaping (an escaped "/" in a segment stays escaped).
func setPath(u *url.URL, escaped string) {
	u.RawPath = escaped
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path = p
	} else {
		u.Path = escaped
	}
}

// href resolves an href or URL given by the caller to a canonical path on the endpoint's origin.
func (c *Client) href(ref string) (string, error) {
	return resolveRef(c.endpoint, ref)
}

// collection resolves an address-book URL or path to its canonical path (with trailing slash) and its
// absolute URL, against which member hrefs are checked.
func (c *Client) collection(abURL string) (string, *url.URL, error) {
	p, err := c.href(abURL)
	if err == nil {
		p, err = collectionPath(p)
	}
	if err != nil {
		return "", nil, err
	}
	u := *c.endpoint
	setPath(&u, p)
	return p, &u, nil
}

// request is one HTTP exchange. A 2xx reply is first vetted by check, when set; its body is then handed to
// stream when set, otherwise read into reply.body; either way no more than limit bytes are read. A zero
// limit discards the body of a 2xx reply.
type request struct {
	method string
	path   string // canonical escaped path on the endpoint's origin
	header http.Header
	body   []byte
	limit  int64
	check  func(status int, h http.Header) error
	stream func(io.Reader) error
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// maxErrorBody is how much of a non-2xx body is read (to find a DAV:error condition); the rest is drained
// up to maxDrain so the connection can be reused, and dropped beyond that.
const (
	maxErrorBody = 64 << 10
	maxDrain     = 256 << 10
)

// send performs one request and reads its body within bounds. It returns an error only when no complete
// reply was read; any status is a reply.
func (c *Client) send(ctx context.Context, r request) (*reply, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("carddav: %s %s: %w", r.method, r.path, ctx.Err())
	}
	defer func() { <-c.sem }()

	start := time.Now()
	resp, err := c.roundTrip(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized && c.cfg.basicAuth && c.digest.learn(resp.Header) {
		// The server wants Digest (or a fresh nonce): answer its challenge once.
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
		resp.Body.Close()
		if resp, err = c.roundTrip(ctx, r); err != nil {
			return nil, err
		}
	}
	defer resp.Body.Close()
	rp := &reply{status: resp.StatusCode, header: resp.Header}
	ok := resp.StatusCode/100 == 2
	if ok && r.check != nil {
		if err := r.check(resp.StatusCode, resp.Header); err != nil {
			return nil, fmt.Errorf("carddav: %s %s: %w", r.method, r.path, err)
		}
	}
	switch {
	case ok && r.stream != nil:
		lr := &limitReader{r: resp.Body, left: r.limit}
		err = r.stream(lr)
		if err == nil {
			_, err = io.Copy(io.Discard, lr)
		}
	case ok && r.limit == 0:
		// The caller wants only the status and headers (PUT, DELETE, MKCOL): a body is drained, never an
		// error, since the write it reports has happened.
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	case ok:
		rp.body, err = io.ReadAll(&limitReader{r: resp.Body, left: r.limit})
	default:
		// The status is the answer; a body cut short only loses detail.
		rp.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	}
	c.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "carddav request",
		slog.String("method", r.method), slog.String("path", r.path),
		slog.Int("status", resp.StatusCode), slog.Duration("duration", time.Since(start)))
	if err != nil {
		if errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrMalformedResponse) {
			return nil, fmt.Errorf("carddav: %s %s: %w", r.method, r.path, err)
		}
		return nil, fmt.Errorf("carddav: %s %s: reading response: %w", r.method, r.path, err)
	}
	return rp, nil
}

// roundTrip sends one request of r with the client's headers and credentials.
func (c *Client) roundTrip(ctx context.Context, r request) (*http.Response, error) {
	u := *c.endpoint
	setPath(&u, r.path)
	var body io.Reader = http.NoBody
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("carddav: %s %s: %w", r.method, r.path, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	switch {
	case c.cfg.basicAuth && c.digest.active():
		a, err := c.digest.authorization(r.method, req.URL.RequestURI(), c.cfg.user, c.cfg.password, r.body)
		if err != nil {
			return nil, fmt.Errorf("carddav: %s %s: digest: %w", r.method, r.path, err)
		}
		req.Header.Set("Authorization", a)
	case c.cfg.basicAuth:
		req.SetBasicAuth(c.cfg.user, c.cfg.password)
	}
	if c.cfg.userAgent != "" {
		req.Header.Set("User-Agent", c.cfg.userAgent)
	}
	resp, err := c.cfg.doer.Do(req)
	if err != nil {
		// The method and path are said once; the *url.Error's copy of the URL would only repeat them.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("carddav: %s %s: %w", r.method, r.path, err)
	}
	return resp, nil
}

// do is send that turns a non-2xx status into an *HTTPError.
func (c *Client) do(ctx context.Context, r request) (*reply, error) {
	rp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if rp.status/100 != 2 {
		return nil, c.httpError(r.method, r.path, rp)
	}
	return rp, nil
}

func (c *Client) httpError(method, path string, rp *reply) *HTTPError {
	e := &HTTPError{
		Method:     method,
		Href:       path,
		Status:     rp.status,
		RetryAfter: parseRetryAfter(rp.header.Get("Retry-After"), c.cfg.now()),
	}
	ct := mediaType(rp.header)
	switch {
	case isXMLType(ct):
		de := parseDAVError(rp.body)
		e.Condition, e.Detail = de.condition, de.message
	case ct == "text/plain":
		e.Detail = clip(strings.Join(strings.Fields(string(rp.body)), " "))
	}
	e.cause = conditionCause(method, e)
	if rp.status/100 == 3 {
		if loc, err := url.Parse(rp.header.Get("Location")); err == nil {
			e.Location = clip(loc.Redacted())
		}
	}
	return e
}

func mediaType(h http.Header) string {
	t, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return t
}

func isXMLType(t string) bool {
	return t == "application/xml" || t == "text/xml" || strings.HasSuffix(t, "+xml")
}

// limitReader reads at most left bytes and fails with ErrResponseTooLarge if the body has more.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, ErrResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// multistatus sends r, which must answer 207 with an XML body, and streams the body's responses to each.
func (c *Client) multistatus(ctx context.Context, r request, each func(*msResponse) error) (syncToken string, err error) {
	r.limit = c.cfg.maxXML
	// Checked before the body is read: a 200 text/html login page from a captive portal must not be parsed
	// as an empty listing.
	r.check = func(status int, h http.Header) error {
		if ct := mediaType(h); status != http.StatusMultiStatus || (ct != "" && !isXMLType(ct)) {
			return fmt.Errorf("%w: want 207 with XML, got %d %q", ErrMalformedResponse, status, clip(ct))
		}
		return nil
	}
	r.stream = func(body io.Reader) error {
		syncToken, err = parseMultistatus(body, each)
		return err
	}
	if _, err := c.do(ctx, r); err != nil {
		return "", err
	}
	return syncToken, nil
}

package fxa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/internal/loopback"
)

// HTTPClient sends the requests that fetch a key set; *http.Client implements it.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// ErrInsecureJWKS refuses a key set fetched over plain http from a host that is not this machine: anyone on
// the path could substitute their own keys and sign any token.
var ErrInsecureJWKS = errors.New("key set URL must be https, or http to a loopback host")

// source loads an issuer's JWK Set document.
type source interface {
	// load returns the document and how long it may be cached; a negative age means the source gave no
	// indication.
	load(ctx context.Context) (doc []byte, maxAge time.Duration, err error)
	String() string
}

// newSource reads a JWKS location: an https URL, an http URL of a loopback host, a file: URL or a path.
func newSource(loc string, client HTTPClient) (source, error) {
	if loc == "" {
		return nil, errors.New("no key set location")
	}
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 { // a Windows drive letter is not a scheme
		return fileSource(loc), nil
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("file URL %q names a host", loc)
		}
		return fileSource(u.Path), nil
	case "http", "https":
		if err := checkKeySetURL(u); err != nil {
			return nil, err
		}
		if client == nil {
			client = defaultHTTPClient()
		}
		return &urlSource{url: u.String(), client: client}, nil
	default:
		return nil, fmt.Errorf("key set location %q: scheme %q is neither http(s) nor file", loc, u.Scheme)
	}
}

func checkKeySetURL(u *url.URL) error {
	if u.User != nil {
		return fmt.Errorf("key set URL %s carries credentials", u.Redacted())
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if loopback.Host(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrInsecureJWKS, u.Redacted())
}

// defaultHTTPClient bounds a fetch in time and follows redirects only to locations the same rule allows, so a
// redirect cannot downgrade the fetch to plain http.
func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: fetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return checkKeySetURL(req.URL)
		},
	}
}

type urlSource struct {
	url    string
	client HTTPClient
}

func (s *urlSource) String() string { return s.url }

func (s *urlSource) load(ctx context.Context) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // let the connection be reused
		return nil, 0, fmt.Errorf("GET %s: %s", s.url, resp.Status)
	}
	doc, err := readBounded(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", s.url, err)
	}
	return doc, maxAge(resp.Header), nil
}

type fileSource string

func (s fileSource) String() string { return string(s) }

func (s fileSource) load(context.Context) ([]byte, time.Duration, error) {
	f, err := os.Open(string(s))
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	doc, err := readBounded(f)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", s, err)
	}
	return doc, -1, nil
}

func readBounded(r io.Reader) ([]byte, error) {
	doc, err := io.ReadAll(io.LimitReader(r, maxKeySetSize+1))
	if err != nil {
		return nil, err
	}
	if len(doc) > maxKeySetSize {
		return nil, fmt.Errorf("key set larger than %d bytes", maxKeySetSize)
	}
	return doc, nil
}

// maxAge reads the freshness lifetime of a response from Cache-Control (RFC 9111 section 5.2.2): max-age,
// or 0 for no-store and no-cache (the caller then refetches as soon as it may). Without a directive it is
// -1: the caller uses its default.
func maxAge(h http.Header) time.Duration {
	age := time.Duration(-1)
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && n >= 0 {
					age = time.Duration(min(n, int64(maxCacheAge/time.Second))) * time.Second
				}
			}
		}
	}
	return age
}

package bench

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// rawBook is the reference client: the same PUTs and REPORTs the engine sends, written directly on net/http,
// one request at a time over one keep-alive connection (as the engine sends them), with no store, no parsing
// of vCards and no bookkeeping beyond the sync token and ETags a next request needs. What it takes is the
// server's own cost plus the loopback round trip: the limit a client can reach.
type rawBook struct {
	http           *http.Client
	user, password string
	origin, abURL  string
	token          string
	// etags holds each member's ETag by href (a path), from PUT answers and listings.
	etags map[string]string
	// members lists the hrefs of the last listing, in the server's order.
	members  []string
	requests int64
}

func newRawBook(abURL, user, password string) (*rawBook, error) {
	u, err := url.Parse(abURL)
	if err != nil {
		return nil, err
	}
	return &rawBook{http: &http.Client{}, user: user, password: password, origin: u.Scheme + "://" + u.Host,
		abURL: abURL, etags: make(map[string]string)}, nil
}

// do sends one request, reads the whole answer and fails unless its status is one of ok.
func (r *rawBook) do(ctx context.Context, method, target string, body []byte, header map[string]string, ok ...int) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.password)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	r.requests++
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("raw %s %s: %w", method, target, err)
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return resp, data, nil
		}
	}
	return nil, nil, fmt.Errorf("raw %s %s: status %d: %.200s", method, target, resp.StatusCode, data)
}

// put writes body at href: create-only when etag is "", else If-Match etag.
func (r *rawBook) put(ctx context.Context, href string, body []byte, etag string) error {
	h := map[string]string{"Content-Type": "text/vcard; charset=utf-8", "If-None-Match": "*"}
	if etag != "" {
		delete(h, "If-None-Match")
		h["If-Match"] = etag
	}
	resp, _, err := r.do(ctx, http.MethodPut, r.origin+href, body, h, http.StatusCreated, http.StatusNoContent, http.StatusOK)
	if err != nil {
		return err
	}
	if e := resp.Header.Get("ETag"); e != "" {
		r.etags[href] = e
	}
	return nil
}

// rawMultistatus is what the reference reads of a sync-collection answer: hrefs, ETags, statuses and the token.
type rawMultistatus struct {
	Responses []struct {
		Href     string `xml:"DAV: href"`
		Status   string `xml:"DAV: status"`
		Propstat []struct {
			Status string `xml:"DAV: status"`
			Prop   struct {
				ETag string `xml:"DAV: getetag"`
			} `xml:"DAV: prop"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
	SyncToken string `xml:"DAV: sync-token"`
}

// sync sends one sync-collection REPORT from the saved token, then saves the new token and the listed ETags.
// It returns how many members the answer listed as changed.
func (r *rawBook) sync(ctx context.Context) (int, error) {
	var body bytes.Buffer
	body.WriteString(xml.Header + `<d:sync-collection xmlns:d="DAV:"><d:sync-token>`)
	if err := xml.EscapeText(&body, []byte(r.token)); err != nil {
		return 0, err
	}
	body.WriteString(`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`)
	_, data, err := r.do(ctx, "REPORT", r.abURL, body.Bytes(),
		map[string]string{"Content-Type": "application/xml; charset=utf-8", "Depth": "0"}, http.StatusMultiStatus)
	if err != nil {
		return 0, err
	}
	var ms rawMultistatus
	if err := xml.Unmarshal(data, &ms); err != nil {
		return 0, fmt.Errorf("raw sync-collection: %w", err)
	}
	r.token, r.members = ms.SyncToken, r.members[:0]
	for _, resp := range ms.Responses {
		if strings.HasSuffix(resp.Href, "/") || strings.Contains(resp.Status, " 404 ") {
			continue
		}
		href := resp.Href
		if u, err := url.Parse(href); err == nil && u.Path != "" {
			href = u.Path
		}
		for _, ps := range resp.Propstat {
			if ps.Prop.ETag != "" {
				r.etags[href] = ps.Prop.ETag
			}
		}
		r.members = append(r.members, href)
	}
	return len(r.members), nil
}

// multiget fetches hrefs with one addressbook-multiget REPORT and returns how many vCards came back.
func (r *rawBook) multiget(ctx context.Context, hrefs []string) (int, error) {
	var body bytes.Buffer
	body.WriteString(xml.Header + `<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">` +
		`<d:prop><d:getetag/><c:address-data/></d:prop>`)
	for _, h := range hrefs {
		body.WriteString("<d:href>")
		if err := xml.EscapeText(&body, []byte(h)); err != nil {
			return 0, err
		}
		body.WriteString("</d:href>")
	}
	body.WriteString(`</c:addressbook-multiget>`)
	_, data, err := r.do(ctx, "REPORT", r.abURL, body.Bytes(),
		map[string]string{"Content-Type": "application/xml; charset=utf-8", "Depth": "1"}, http.StatusMultiStatus)
	if err != nil {
		return 0, err
	}
	return bytes.Count(data, []byte("BEGIN:VCARD")), nil
}

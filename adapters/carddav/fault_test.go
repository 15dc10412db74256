package carddav_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
)

// These tests inject faults no real server produces on demand. The httptest servers here stand in for a
// broken or hostile server, never for a working one.

// fake is an httptest server answering with handle and noting each request.
type fake struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string
	auth []string
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body string)) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Method+" "+r.URL.EscapedPath())
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		handle(w, r, string(body))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

func (f *fake) client(t *testing.T, opts ...carddav.Option) *carddav.Client {
	t.Helper()
	c, err := carddav.New(f.URL+"/", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func write207(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusMultiStatus)
	io.WriteString(w, body)
}

func multistatus(token string, responses ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">`)
	for _, r := range responses {
		b.WriteString(r)
	}
	if token != "" {
		b.WriteString("<d:sync-token>" + token + "</d:sync-token>")
	}
	b.WriteString("</d:multistatus>")
	return b.String()
}

func propResp(href string, props string) string {
	return "<d:response><d:href>" + href + "</d:href><d:propstat><d:prop>" + props +
		"</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
}

func etagResp(href, etag string) string {
	return propResp(href, "<d:getetag>"+etag+"</d:getetag>")
}

func statusResp(href string, status int) string {
	return fmt.Sprintf("<d:response><d:href>%s</d:href><d:status>HTTP/1.1 %d %s</d:status></d:response>", href, status, http.StatusText(status))
}

func cardResp(href, etag, data string) string {
	return propResp(href, "<d:getetag>"+etag+"</d:getetag><card:address-data>"+data+"</card:address-data>")
}

const bookProps = `<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype><d:displayname>Book</d:displayname>`

func TestDiscoveryRedirectKeepsPROPFIND(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				if r.Method != "PROPFIND" {
					w.WriteHeader(http.StatusMethodNotAllowed)
					return
				}
				switch r.URL.Path {
				case "/.well-known/carddav":
					http.Redirect(w, r, "/dav/", status)
				case "/dav/":
					write207(w, multistatus("", propResp("/dav/", "<d:current-user-principal><d:href>/dav/p/</d:href></d:current-user-principal>")))
				case "/dav/p/":
					write207(w, multistatus("", propResp("/dav/p/", "<card:addressbook-home-set><d:href>/dav/home/</d:href></card:addressbook-home-set>")))
				case "/dav/home/":
					write207(w, multistatus("", propResp("/dav/home/", "<d:resourcetype><d:collection/></d:resourcetype>"), propResp("/dav/home/book/", bookProps)))
				default:
					w.WriteHeader(http.StatusNotFound)
				}
			})
			d, err := f.client(t).Discover(context.Background())
			if err != nil {
				t.Fatalf("Discover: %v (requests %q)", err, f.requests())
			}
			ab, err := d.Choose("Book")
			if err != nil || ab.Href != "/dav/home/book/" || d.Principal != "/dav/p/" {
				t.Errorf("Discover = %+v, choose: %+v %v", d, ab, err)
			}
			want := []string{"PROPFIND /.well-known/carddav", "PROPFIND /dav/", "PROPFIND /dav/p/", "PROPFIND /dav/home/"}
			if got := f.requests(); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("requests = %q; want %q", got, want)
			}
		})
	}
}

func TestDiscoveryRedirectToAnotherOriginNotFollowed(t *testing.T) {
	other := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		w.WriteHeader(http.StatusNotFound)
	})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if r.URL.Path == "/.well-known/carddav" {
			http.Redirect(w, r, other.URL+"/dav/", http.StatusMovedPermanently)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	})
	_, err := f.client(t, carddav.WithBasicAuth("u", "pw")).Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("Discover: %v; want an error naming the redirect to another origin", err)
	}
	if got := other.requests(); len(got) != 0 {
		t.Errorf("the other origin received %q; want nothing (credentials stay with the endpoint)", got)
	}
}

func TestHTTPErrorMapping(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name       string
		status     int
		retryAfter string
		want       error
		retryable  bool
		wantAfter  time.Duration
	}{
		{"401", 401, "", carddav.ErrUnauthorized, false, 0},
		{"403", 403, "", carddav.ErrForbidden, false, 0},
		{"404", 404, "", carddav.ErrNotFound, false, 0},
		{"410 is not found too", 410, "", carddav.ErrNotFound, false, 0},
		{"409", 409, "", carddav.ErrConflict, false, 0},
		{"412", 412, "", carddav.ErrPreconditionFailed, false, 0},
		{"413", 413, "", carddav.ErrTooLarge, false, 0},
		{"429 with seconds", 429, "7", carddav.ErrRateLimited, true, 7 * time.Second},
		{"503 with seconds", 503, "120", carddav.ErrServer, true, 2 * time.Minute},
		{"503 with an HTTP date", 503, now.Add(90 * time.Second).Format(http.TimeFormat), carddav.ErrServer, true, 90 * time.Second},
		{"503 with a date in the past", 503, now.Add(-time.Hour).Format(http.TimeFormat), carddav.ErrServer, true, 0},
		{"503 with garbage", 503, "soon", carddav.ErrServer, true, 0},
		{"503 asking for a year", 503, "31536000", carddav.ErrServer, true, 24 * time.Hour},
		{"500", 500, "", carddav.ErrServer, true, 0},
		{"502", 502, "", carddav.ErrServer, true, 0},
		{"501 does not heal", 501, "", carddav.ErrServer, false, 0},
		{"507", 507, "", carddav.ErrInsufficientStorage, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
			})
			c := f.client(t, carddav.WithClock(func() time.Time { return now }))
			_, err := c.Put(context.Background(), "/ab/x.vcf", card("x", "x"), carddav.CreateOnly())
			var he *carddav.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("Put: %v; want *HTTPError", err)
			}
			if !errors.Is(err, tc.want) || he.Status != tc.status || he.Method != "PUT" || he.Href != "/ab/x.vcf" {
				t.Errorf("error %v (%+v); want %v", err, he, tc.want)
			}
			if he.Retryable() != tc.retryable || carddav.Retryable(err) != tc.retryable {
				t.Errorf("Retryable = %v; want %v", he.Retryable(), tc.retryable)
			}
			if he.RetryAfter != tc.wantAfter {
				t.Errorf("RetryAfter = %v; want %v", he.RetryAfter, tc.wantAfter)
			}
		})
	}
}

// syncServer answers sync-collection reports from a script keyed by the token asked for.
func syncServer(t *testing.T, pages map[string]string) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if answerReportSet(w, r, "d:sync-collection") {
			return
		}
		for token, page := range pages {
			if strings.Contains(body, "<d:sync-token>"+token+"</d:sync-token>") {
				write207(w, page)
				return
			}
		}
		t.Errorf("unexpected request body %s", body)
		w.WriteHeader(http.StatusBadRequest)
	})
}

func TestSyncCollectionTruncatedPages(t *testing.T) {
	f := syncServer(t, map[string]string{
		"":   multistatus("t1", etagResp("/ab/a.vcf", `"1"`), etagResp("/ab/b.vcf", `"2"`), statusResp("/ab/", 507)),
		"t1": multistatus("t2", etagResp("/ab/c.vcf", `"3"`), statusResp("/ab/gone.vcf", 404)),
	})
	c := f.client(t)
	p1, err := c.SyncCollection(context.Background(), "/ab/", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !p1.More || p1.Token != "t1" || len(p1.Changed) != 2 {
		t.Fatalf("first page = %+v; want 2 members, More, token t1", p1)
	}
	if reqs := f.requests(); len(reqs) != 2 || reqs[0] != "PROPFIND /ab/" || reqs[1] != "REPORT /ab/" {
		t.Errorf("requests = %q; want the supported-report-set PROPFIND, then the REPORT", reqs)
	}
	p2, err := c.SyncCollection(context.Background(), "/ab/", p1.Token, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p2.More || p2.Token != "t2" || len(p2.Changed) != 1 || p2.Changed[0].Href != "/ab/c.vcf" || len(p2.Deleted) != 1 || p2.Deleted[0] != "/ab/gone.vcf" {
		t.Errorf("second page = %+v; want c changed, gone deleted, no more", p2)
	}
}

func TestSyncCollectionLimitRefused(t *testing.T) {
	var bodies []string
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if answerReportSet(w, r, "d:sync-collection") {
			return
		}
		bodies = append(bodies, body)
		if strings.Contains(body, "<d:limit>") {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusInsufficientStorage)
			io.WriteString(w, `<d:error xmlns:d="DAV:"><d:number-of-matches-within-limits/></d:error>`)
			return
		}
		write207(w, multistatus("t1", etagResp("/ab/a.vcf", `"1"`)))
	})
	p, err := f.client(t).SyncCollection(context.Background(), "/ab/", "", 10)
	if err != nil || len(p.Changed) != 1 || p.Token != "t1" {
		t.Fatalf("SyncCollection = %+v, %v; want the full answer asked again without a limit", p, err)
	}
	if len(bodies) != 2 || strings.Contains(bodies[1], "<d:limit>") {
		t.Errorf("requests = %q; want a second one without a limit", bodies)
	}
}

func TestSyncCollectionInvalidTokenCondition(t *testing.T) {
	for _, status := range []int{403, 409} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(status)
				io.WriteString(w, `<?xml version="1.0"?><error xmlns="DAV:"><valid-sync-token/></error>`)
			})
			_, err := f.client(t).SyncCollection(context.Background(), "/ab/", "old", 0)
			var he *carddav.HTTPError
			if !errors.Is(err, carddav.ErrInvalidSyncToken) || !errors.As(err, &he) || he.Condition != "DAV: valid-sync-token" || he.Retryable() {
				t.Errorf("SyncCollection: %v; want ErrInvalidSyncToken, not retryable", err)
			}
		})
	}
}

func TestSyncCollectionNotSupported(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		w.WriteHeader(http.StatusNotImplemented)
	})
	_, err := f.client(t).SyncCollection(context.Background(), "/ab/", "", 0)
	if !errors.Is(err, carddav.ErrNotSupported) || carddav.Retryable(err) {
		t.Errorf("SyncCollection on a server without the report: %v; want ErrNotSupported, not retryable", err)
	}
}

func TestHostileHrefsRejectedPerItem(t *testing.T) {
	hostile := []string{
		"/ab/../other/x.vcf",
		"http://evil.example/ab/x.vcf",
		"//evil.example/ab/y.vcf",
		"/other/x.vcf",
		"/ab/sub/x.vcf",
		"/ab/%zz.vcf",
		"/ab/%2e%2e/x.vcf",
		"https://user:pw@127.0.0.1/ab/z.vcf",
	}
	var responses []string
	responses = append(responses, etagResp("/ab/ok.vcf", `"ok"`))
	for _, h := range hostile {
		responses = append(responses, etagResp(strings.ReplaceAll(h, "&", "&amp;"), `"x"`))
	}
	body := multistatus("t1", responses...)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ string) { write207(w, body) })
	c := f.client(t)

	p, err := c.SyncCollection(context.Background(), "/ab/", "", 0)
	if err != nil {
		t.Fatalf("SyncCollection: %v", err)
	}
	if len(p.Changed) != 1 || p.Changed[0].Href != "/ab/ok.vcf" || len(p.Rejected) != len(hostile) {
		t.Fatalf("page = %+v; want ok.vcf and %d rejected", p, len(hostile))
	}
	for _, r := range p.Rejected {
		if !errors.Is(r.Err, carddav.ErrBadHref) {
			t.Errorf("rejected %q: %v; want ErrBadHref", r.Href, r.Err)
		}
	}

	l, err := c.ListETags(context.Background(), "/ab/")
	if err != nil || len(l.Members) != 1 || len(l.Rejected) != len(hostile) {
		t.Errorf("ListETags = %+v, %v; want 1 member and %d rejected", l, err, len(hostile))
	}

	// Hostile hrefs from the caller never reach the server.
	before := len(f.requests())
	objs, err := c.MultiGet(context.Background(), "/ab/", []string{"/ab/../secret.vcf", "http://evil.example/ab/a.vcf"})
	if err != nil || len(objs) != 2 || !errors.Is(objs[0].Err, carddav.ErrBadHref) || !errors.Is(objs[1].Err, carddav.ErrBadHref) {
		t.Errorf("MultiGet of hostile hrefs = %+v, %v; want two ErrBadHref", objs, err)
	}
	if len(f.requests()) != before {
		t.Errorf("MultiGet of hostile hrefs sent requests")
	}
	if _, err := c.Put(context.Background(), "http://evil.example/ab/x.vcf", card("x", "x"), carddav.CreateOnly()); !errors.Is(err, carddav.ErrBadHref) {
		t.Errorf("Put to another host: %v; want ErrBadHref", err)
	}
}

func TestOversizeBodies(t *testing.T) {
	big := "BEGIN:VCARD\r\nNOTE:" + strings.Repeat("x", 5000) + "\r\nEND:VCARD\r\n"
	small := "BEGIN:VCARD\r\nFN:s\r\nEND:VCARD\r\n"
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method == "GET" && r.URL.Path == "/ab/big.vcf":
			io.WriteString(w, big)
		case r.Method == "GET":
			w.Header().Set("ETag", `"s"`)
			io.WriteString(w, small)
		case r.Method == "REPORT" && strings.Contains(body, "addressbook-multiget"):
			// A multiget answer over the XML limit: the client must fall back to GETs.
			write207(w, multistatus("", cardResp("/ab/a.vcf", `"s"`, big), cardResp("/ab/b.vcf", `"s"`, small)))
		default:
			write207(w, multistatus("t", etagResp("/ab/"+strings.Repeat("a", 5000)+".vcf", `"1"`)))
		}
	})
	c := f.client(t, carddav.WithMaxObjectSize(1000), carddav.WithMaxXMLSize(2000))
	ctx := context.Background()
	if _, err := c.Get(ctx, "/ab/big.vcf"); !errors.Is(err, carddav.ErrResponseTooLarge) {
		t.Errorf("Get of an oversize vCard: %v; want ErrResponseTooLarge", err)
	}
	if _, err := c.SyncCollection(ctx, "/ab/", "", 0); !errors.Is(err, carddav.ErrResponseTooLarge) {
		t.Errorf("SyncCollection with an oversize answer: %v; want ErrResponseTooLarge", err)
	}
	objs, err := c.MultiGet(ctx, "/ab/", []string{"/ab/a.vcf", "/ab/b.vcf"})
	if err != nil || len(objs) != 2 || string(objs[0].Data) != small || string(objs[1].Data) != small {
		t.Fatalf("MultiGet with an oversize batch = %+v, %v; want both fetched by GET", objs, err)
	}
	if got := f.requests(); got[len(got)-2] != "GET /ab/a.vcf" || got[len(got)-1] != "GET /ab/b.vcf" {
		t.Errorf("requests = %q; want GETs after the oversize multiget", got)
	}
}

func TestMultiGetOversizeMember(t *testing.T) {
	big := "BEGIN:VCARD\r\nNOTE:" + strings.Repeat("x", 5000) + "\r\nEND:VCARD\r\n"
	small := "BEGIN:VCARD\r\nFN:s\r\nEND:VCARD\r\n"
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		write207(w, multistatus("", cardResp("/ab/a.vcf", `"1"`, big), cardResp("/ab/b.vcf", `"2"`, small), cardResp("/ab/c.vcf", `"3"`, "<html>oops</html>")))
	})
	c := f.client(t, carddav.WithMaxObjectSize(1000))
	objs, err := c.MultiGet(context.Background(), "/ab/", []string{"/ab/a.vcf", "/ab/b.vcf", "/ab/c.vcf", "/ab/d.vcf"})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(objs[0].Err, carddav.ErrResponseTooLarge) || objs[1].Err != nil || string(objs[1].Data) != small ||
		!errors.Is(objs[2].Err, carddav.ErrMalformedResponse) || !errors.Is(objs[3].Err, carddav.ErrIncompleteResponse) {
		t.Errorf("MultiGet = %+v; want too large, ok, not a vCard, missing", objs)
	}
}

func TestMalformedResponses(t *testing.T) {
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
	}{
		{"truncated xml", 207, "application/xml", `<d:multistatus xmlns:d="DAV:"><d:response><d:href>/ab/a.vcf`},
		{"wrong root", 207, "application/xml", `<d:error xmlns:d="DAV:"/>`},
		{"html login page", 207, "text/html", `<html><body>Please log in</body></html>`},
		{"200 instead of 207", 200, "application/xml", multistatus("t", etagResp("/ab/a.vcf", `"1"`))},
		{"entity declaration", 207, "application/xml", `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d:multistatus xmlns:d="DAV:"><d:sync-token>&x;</d:sync-token></d:multistatus>`},
		{"entity bomb", 207, "application/xml", `<!DOCTYPE b [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><d:multistatus xmlns:d="DAV:"><d:sync-token>&b;</d:sync-token></d:multistatus>`},
		{"deep nesting", 207, "application/xml", `<d:multistatus xmlns:d="DAV:">` + strings.Repeat("<d:x>", 100) + strings.Repeat("</d:x>", 100) + `<d:sync-token>t</d:sync-token></d:multistatus>`},
		{"bad status line", 207, "application/xml", multistatus("t", `<d:response><d:href>/ab/a.vcf</d:href><d:status>teapot</d:status></d:response>`)},
		{"no sync token", 207, "application/xml", multistatus("", etagResp("/ab/a.vcf", `"1"`))},
		{"latin-1 declared", 207, "application/xml", `<?xml version="1.0" encoding="ISO-8859-1"?><d:multistatus xmlns:d="DAV:"><d:sync-token>t</d:sync-token></d:multistatus>`},
		{"empty body", 207, "application/xml", ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := f.client(t).SyncCollection(context.Background(), "/ab/", "", 0)
			if !errors.Is(err, carddav.ErrMalformedResponse) {
				t.Errorf("SyncCollection: %v; want ErrMalformedResponse", err)
			}
		})
	}
}

func TestGetRefusesWhatIsNotAVCard(t *testing.T) {
	cases := []struct{ name, ctype, body string }{
		{"html page", "text/html", "<html>login</html>"},
		{"text that is not a vCard", "text/vcard", "Service temporarily unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				w.Header().Set("Content-Type", tc.ctype)
				io.WriteString(w, tc.body)
			})
			if _, err := f.client(t).Get(context.Background(), "/ab/a.vcf"); !errors.Is(err, carddav.ErrMalformedResponse) {
				t.Errorf("Get: %v; want ErrMalformedResponse", err)
			}
		})
	}
}

func TestPutWithoutETagAsksForIt(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch r.Method {
		case "PUT":
			if r.Header.Get("If-None-Match") != "*" || r.Header.Get("Content-Type") != "text/vcard; charset=utf-8" {
				t.Errorf("PUT headers = %v", r.Header)
			}
			w.WriteHeader(http.StatusCreated)
		case "PROPFIND":
			write207(w, multistatus("", etagResp("/ab/a.vcf", `"after"`)))
		}
	})
	etag, err := f.client(t).Put(context.Background(), "/ab/a.vcf", card("a", "a"), carddav.CreateOnly())
	if err != nil || etag != `"after"` {
		t.Errorf("Put = %q, %v; want the ETag from the follow-up PROPFIND", etag, err)
	}
	if got := f.requests(); len(got) != 2 || got[1] != "PROPFIND /ab/a.vcf" {
		t.Errorf("requests = %q", got)
	}
}

func TestPutIgnoresLargeSuccessBody(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		w.Header().Set("ETag", `"new"`)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, strings.Repeat("created ", 200_000))
	})
	etag, err := f.client(t, carddav.WithMaxXMLSize(100), carddav.WithMaxObjectSize(100)).Put(context.Background(), "/ab/a.vcf", card("a", "a"), carddav.CreateOnly())
	if err != nil || etag != `"new"` {
		t.Errorf("Put = %q, %v; the write happened, so want its ETag and no error", etag, err)
	}
}

func TestBasicAuthRefusedOverPlainHTTP(t *testing.T) {
	var sent atomic.Int32
	doer := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("no request may be sent")
	})}
	cases := []struct {
		endpoint string
		refused  bool
	}{
		{"http://example.com/", true},
		{"http://10.0.0.1:8080/dav/", true},
		{"http://[2001:db8::1]/", true},
		{"http://localhost.example.com/", true},
		{"https://example.com/", false},
		{"http://127.0.0.1:5232/", false},
		{"http://127.9.8.7/", false},
		{"http://[::1]:8080/", false},
		{"http://localhost/", false},
		{"http://LOCALHOST:1234/", false},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint, func(t *testing.T) {
			c, err := carddav.New(tc.endpoint, carddav.WithBasicAuth("u", "pw"), carddav.WithHTTPClient(doer))
			if tc.refused != errors.Is(err, carddav.ErrInsecureAuth) {
				t.Fatalf("New(%s): %v; refused want %v", tc.endpoint, err, tc.refused)
			}
			if tc.refused && c != nil {
				t.Errorf("New returned a client along with the refusal")
			}
			if !tc.refused && err != nil {
				t.Errorf("New(%s): %v", tc.endpoint, err)
			}
		})
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	// Without credentials plain http to any host is fine.
	if _, err := carddav.New("http://example.com/"); err != nil {
		t.Errorf("New without auth: %v", err)
	}
}

func TestCredentialsNeverShown(t *testing.T) {
	const password = "s3cret-Pa55"
	for _, endpoint := range []string{
		"http://user:" + password + "@127.0.0.1/",
		"http://user:" + password + "@127.0.0.1:notaport/",
		"ftp://user:" + password + "@127.0.0.1/",
	} {
		_, err := carddav.New(endpoint)
		if err == nil || strings.Contains(err.Error(), password) {
			t.Errorf("New(endpoint with password): %v; want an error without the password", err)
		}
	}

	// A server that is down, a server that refuses, and the debug log of both.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String() + "/"
	dead.Close()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) { w.WriteHeader(http.StatusUnauthorized) })
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	encoded := base64.StdEncoding.EncodeToString([]byte("user:" + password))
	for _, endpoint := range []string{deadURL, f.URL + "/"} {
		c, err := carddav.New(endpoint, carddav.WithBasicAuth("user", password), carddav.WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Discover(context.Background())
		if err == nil || strings.Contains(err.Error(), password) || strings.Contains(err.Error(), encoded) {
			t.Errorf("Discover against %s: %v; want an error without credentials", endpoint, err)
		}
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), password) || strings.Contains(logs.String(), encoded) {
		t.Errorf("debug log is empty or shows credentials:\n%s", logs.String())
	}
	// The credentials did reach the server that asked for them, as basic auth.
	if f.auth[0] != "Basic "+encoded {
		t.Errorf("Authorization sent = %q", f.auth[0])
	}
}

func TestConcurrencyBound(t *testing.T) {
	var inflight, peak atomic.Int32
	reached := make(chan struct{})
	var once sync.Once
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n >= 2 {
			once.Do(func() { close(reached) })
		}
		// Hold the first request until a second one is in flight, so a working bound is seen at its limit.
		select {
		case <-reached:
		case <-time.After(5 * time.Second):
		}
		var resps []string
		for _, h := range strings.Split(body, "<d:href>")[1:] {
			h = h[:strings.Index(h, "</d:href>")]
			resps = append(resps, cardResp(h, `"1"`, "BEGIN:VCARD\r\nEND:VCARD\r\n"))
		}
		write207(w, multistatus("", resps...))
	})
	c := f.client(t, carddav.WithMaxConcurrency(2), carddav.WithMultiGetBatch(2))
	var hrefs []string
	for i := range 20 {
		hrefs = append(hrefs, fmt.Sprintf("/ab/%d.vcf", i))
	}
	objs, err := c.MultiGet(context.Background(), "/ab/", hrefs)
	if err != nil || len(objs) != 20 {
		t.Fatalf("MultiGet = %d objects, %v", len(objs), err)
	}
	for _, o := range objs {
		if o.Err != nil || o.ETag != `"1"` {
			t.Errorf("object %+v", o)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak requests in flight = %d; want 2 (the bound)", p)
	}
	if n := len(f.requests()); n != 10 {
		t.Errorf("%d requests; want 10 batches of 2", n)
	}
}

func TestKeepAliveAcrossErrors(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method == "PUT" {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusPreconditionFailed)
			io.WriteString(w, strings.Repeat("precondition failed ", 1000))
			return
		}
		w.Header().Set("ETag", `"1"`)
		io.WriteString(w, "BEGIN:VCARD\r\nEND:VCARD\r\n")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := carddav.New(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 10 {
		if _, err := c.Put(ctx, "/ab/a.vcf", card("a", "a"), carddav.CreateOnly()); !errors.Is(err, carddav.ErrPreconditionFailed) {
			t.Fatalf("put %d: %v", i, err)
		}
		if _, err := c.Get(ctx, "/ab/a.vcf"); err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 20 sequential requests; want 1 (bodies drained, connection reused)", n)
	}
}

// TestInjectedFaultsBeforeRealServer puts a fault-injecting transport in front of real Radicale: the
// client reports each fault as the right kind of error, and the next request goes through.
func TestInjectedFaultsBeforeRealServer(t *testing.T) {
	srv := carddavtest.Start(t, "radicale")
	var mode atomic.Value
	mode.Store("")
	inject := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		switch mode.Load() {
		case "503":
			return &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"3"}}, Body: http.NoBody, Request: req}, nil
		case "reset":
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
		case "cut":
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				return nil, err
			}
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(io.LimitReader(resp.Body, 10), errReader{io.ErrUnexpectedEOF}), resp.Body}
			return resp, nil
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	c := srv.Client(t, carddav.WithHTTPClient(&http.Client{Transport: inject, CheckRedirect: noRedirect}))
	ctx := context.Background()
	href := carddav.HrefForUID(srv.AddressBookURL, "faulty")
	for _, m := range []string{"503", "reset", "cut"} {
		mode.Store(m)
		_, err := c.SyncCollection(ctx, srv.AddressBookURL, "", 0)
		if !carddav.Retryable(err) {
			t.Errorf("fault %s: %v; want a retryable error", m, err)
		}
		var he *carddav.HTTPError
		if m == "503" && (!errors.As(err, &he) || he.RetryAfter != 3*time.Second) {
			t.Errorf("fault 503: %v; want Retry-After 3s", err)
		}
	}
	mode.Store("")
	if _, err := c.Put(ctx, href, card("faulty", "f"), carddav.CreateOnly()); err != nil {
		t.Fatalf("put after the faults: %v", err)
	}
	p, err := c.SyncCollection(ctx, srv.AddressBookURL, "", 0)
	if err != nil || len(p.Changed) != 1 {
		t.Errorf("sync after the faults = %+v, %v", p, err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// A query answer is taken per member: what is readable is handed on, what is not comes with its error, and an
// answer the server cut short says so after handing on what it held.
func TestQueryAllHostileAnswers(t *testing.T) {
	const good = "BEGIN:VCARD\nVERSION:3.0\nUID:a\nEND:VCARD\n"
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		wantErr   error
		wantHrefs map[string]error // href -> the error its object carries (nil: read)
	}{
		{"mixed members", 207, multistatus("",
			cardResp("/ab/a.vcf", `"1"`, good),
			cardResp("/ab/html.vcf", `"2"`, "&lt;html&gt;oops&lt;/html&gt;"),
			etagResp("/ab/noData.vcf", `"3"`),
			statusResp("/ab/gone.vcf", 404),
			cardResp("/other/x.vcf", `"4"`, good),
			etagResp("/ab/", `"c"`)), nil,
			map[string]error{"/ab/a.vcf": nil, "/ab/html.vcf": carddav.ErrMalformedResponse,
				"/ab/noData.vcf": carddav.ErrNotFound, "/ab/gone.vcf": carddav.ErrNotFound, "/other/x.vcf": carddav.ErrBadHref}},
		{"cut short", 207, multistatus("", cardResp("/ab/a.vcf", `"1"`, good), statusResp("/ab/", 507)),
			carddav.ErrResponseTooLarge, map[string]error{"/ab/a.vcf": nil}},
		{"no such report", 501, "", carddav.ErrNotSupported, nil},
		{"broken xml after a member", 207, strings.TrimSuffix(multistatus("", cardResp("/ab/a.vcf", `"1"`, good)), "</d:multistatus>") + "<d:response>",
			carddav.ErrMalformedResponse, map[string]error{"/ab/a.vcf": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				if r.Method != "REPORT" || !strings.Contains(body, "addressbook-query") || !strings.Contains(body, "address-data") {
					t.Errorf("request %s %q; want an addressbook-query REPORT asking for address-data", r.Method, body)
				}
				if tc.status != 207 {
					w.WriteHeader(tc.status)
					return
				}
				write207(w, tc.body)
			})
			got := map[string]error{}
			err := f.client(t).QueryAll(context.Background(), "/ab/", func(o carddav.Object) error {
				if o.Err == nil && (o.Data == nil || o.ETag == "") {
					t.Errorf("%s: no error, but data %q and ETag %q", o.Href, o.Data, o.ETag)
				}
				got[o.Href] = o.Err
				return nil
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("QueryAll: %v; want %v", err, tc.wantErr)
			}
			if len(got) != len(tc.wantHrefs) {
				t.Errorf("QueryAll handed on %v; want %v", got, tc.wantHrefs)
			}
			for href, want := range tc.wantHrefs {
				if e, ok := got[href]; !ok || !errors.Is(e, want) || (want == nil) != (e == nil) {
					t.Errorf("%s: %v (handed on: %v); want %v", href, e, ok, want)
				}
			}
		})
	}
}

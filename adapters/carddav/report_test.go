package carddav_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
)

// answerReportSet answers the PROPFIND of DAV:supported-report-set that a client sends before its first
// sync-collection, listing reports (elements written with the d: or card: prefix); it reports whether r was
// that PROPFIND.
func answerReportSet(w http.ResponseWriter, r *http.Request, reports ...string) bool {
	if r.Method != "PROPFIND" {
		return false
	}
	var set strings.Builder
	for _, rep := range reports {
		set.WriteString("<d:supported-report><d:report><" + rep + "/></d:report></d:supported-report>")
	}
	write207(w, multistatus("", propResp(r.URL.Path, "<d:supported-report-set>"+set.String()+"</d:supported-report-set>")))
	return true
}

// sabreReportNotSupported is SabreDAV 1.8's answer to a REPORT it does not implement, as recorded: its own
// account of the exception first, the DAV condition last.
const sabreReportNotSupported = `<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
  <s:exception>Sabre\DAV\Exception\ReportNotSupported</s:exception>
  <s:message/>
  <s:sabredav-version>1.8.12</s:sabredav-version>
  <d:supported-report/>
</d:error>
`

// sabreError is a DAV:error in SabreDAV's shape with a message and no condition.
func sabreError(exception, message string) string {
	return `<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">` + "\n" +
		`  <s:exception>Sabre\DAV\Exception\` + exception + "</s:exception>\n  <s:message>" + message + "</s:message>\n" +
		"  <s:sabredav-version>1.8.12</s:sabredav-version>\n</d:error>\n"
}

// TestReportNotSupportedForms: every way a server says it lacks a report makes SyncCollection and QueryAll
// fail with ErrNotSupported (not retryable), keeping the vendor's message in the error text; a refusal that
// is about something else stays what it is.
func TestReportNotSupportedForms(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		unsupported bool
		wantText    string // in the error's text
	}{
		{"SabreDAV's 403 with the condition after its account", 403, "application/xml; charset=utf-8", sabreReportNotSupported, true, "ReportNotSupported"},
		{"403 with DAV:supported-report alone", 403, "text/xml", `<error xmlns="DAV:"><supported-report/></error>`, true, "supported-report"},
		{"501", 501, "", "", true, "501"},
		{"405", 405, "", "", true, "405"},
		{"400 with SabreDAV's message", 400, "application/xml; charset=utf-8",
			sabreError("BadRequest", "The {DAV:}sync-collection REPORT is not supported on this url."), true, "not supported on this url"},
		{"403 whose message says so", 403, "application/xml; charset=utf-8",
			sabreError("ReportNotSupported", "Unsupported report: addressbook-query"), true, "Unsupported report"},
		{"403 in plain text", 403, "text/plain", "This REPORT is not implemented here.", true, "not implemented"},
		{"403 for another reason", 403, "application/xml; charset=utf-8", sabreError("Forbidden", "Permission denied to read this address book"), false, "Permission denied"},
		{"400 for another reason", 400, "application/xml; charset=utf-8", sabreError("BadRequest", "This report is only defined when Depth: 0"), false, "Depth: 0"},
		{"403 with a CardDAV condition and a matching message", 403, "application/xml",
			`<d:error xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><c:supported-filter/><message xmlns="urn:x">report not supported with this filter</message></d:error>`, false, "supported-filter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				if r.Method == "PROPFIND" {
					// No supported-report-set: the client must try the report.
					write207(w, multistatus("", propResp(r.URL.Path, "<d:displayname>Book</d:displayname>")))
					return
				}
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			c := f.client(t)
			_, syncErr := c.SyncCollection(context.Background(), "/ab/", "", 0)
			queryErr := c.QueryAll(context.Background(), "/ab/", func(carddav.Object) error { return nil })
			for what, err := range map[string]error{"SyncCollection": syncErr, "QueryAll": queryErr} {
				var he *carddav.HTTPError
				if !errors.As(err, &he) || he.Status != tc.status {
					t.Errorf("%s: %v; want an *HTTPError with status %d", what, err, tc.status)
					continue
				}
				if errors.Is(err, carddav.ErrNotSupported) != tc.unsupported {
					t.Errorf("%s: %v; ErrNotSupported %v, want %v", what, err, !tc.unsupported, tc.unsupported)
				}
				if tc.unsupported && carddav.Retryable(err) {
					t.Errorf("%s: %v is retryable; a missing report does not heal", what, err)
				}
				if !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("%s: error text %q; want it to contain %q", what, err, tc.wantText)
				}
			}
		})
	}
}

// TestSyncCollectionAsksSupportedReportSet: before its first sync-collection of a collection the client asks
// the collection's supported-report-set, once, and never sends the report where it is not listed.
func TestSyncCollectionAsksSupportedReportSet(t *testing.T) {
	page := multistatus("t1", etagResp("/ab/a.vcf", `"1"`))
	cases := []struct {
		name     string
		propfind func(w http.ResponseWriter, r *http.Request)
		wantErr  error
		want     []string // requests of two syncs from an empty token and one from the token
	}{
		{"listed", func(w http.ResponseWriter, r *http.Request) {
			answerReportSet(w, r, "card:addressbook-multiget", "d:sync-collection")
		}, nil, []string{"PROPFIND /ab/", "REPORT /ab/", "REPORT /ab/", "REPORT /ab/"}},
		{"not listed (SabreDAV 1.8)", func(w http.ResponseWriter, r *http.Request) {
			answerReportSet(w, r, "card:addressbook-multiget", "card:addressbook-query", "d:expand-property")
		}, carddav.ErrNotSupported, []string{"PROPFIND /ab/", "REPORT /ab/"}},
		{"no supported-report-set", func(w http.ResponseWriter, r *http.Request) {
			write207(w, multistatus("", propResp(r.URL.Path, "")+
				`<d:response><d:href>/ab/</d:href><d:propstat><d:prop><d:supported-report-set/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>`))
		}, nil, []string{"PROPFIND /ab/", "REPORT /ab/", "REPORT /ab/", "REPORT /ab/"}},
		{"PROPFIND refused", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		}, nil, []string{"PROPFIND /ab/", "REPORT /ab/", "PROPFIND /ab/", "REPORT /ab/", "REPORT /ab/"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				if r.Method == "PROPFIND" {
					tc.propfind(w, r)
					return
				}
				write207(w, page)
			})
			c := f.client(t)
			ctx := context.Background()
			for range 2 {
				p, err := c.SyncCollection(ctx, "/ab/", "", 0)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Fatalf("SyncCollection: %v; want %v", err, tc.wantErr)
				}
				if err == nil && (p.Token != "t1" || len(p.Changed) != 1) {
					t.Fatalf("SyncCollection = %+v; want the page", p)
				}
			}
			// A sync from a token never asks: the server answered a sync-collection to issue it. The request
			// it sends here is answered with the page whatever the server said before.
			if _, err := c.SyncCollection(ctx, "/ab/", "t1", 0); err != nil {
				t.Fatalf("SyncCollection from a token: %v", err)
			}
			if got := f.requests(); !slices.Equal(got, tc.want) {
				t.Errorf("requests = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestSyncCollectionSupportCheckFailures: a PROPFIND that fails the way the report would (credentials, an
// outage, an answer that does not parse) fails the sync without sending the report.
func TestSyncCollectionSupportCheckFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		want   error
	}{{"refused credentials", 401, carddav.ErrUnauthorized}, {"outage", 503, carddav.ErrServer}, {"garbled answer", 207, carddav.ErrMalformedResponse}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				if tc.status == 207 {
					write207(w, "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/ab/</d")
					return
				}
				w.WriteHeader(tc.status)
			})
			_, err := f.client(t).SyncCollection(context.Background(), "/ab/", "", 0)
			if !errors.Is(err, tc.want) {
				t.Errorf("SyncCollection: %v; want %v", err, tc.want)
			}
			if got := f.requests(); !slices.Equal(got, []string{"PROPFIND /ab/"}) {
				t.Errorf("requests = %q; want only the PROPFIND", got)
			}
		})
	}
}

// TestMultiGetWholeReport404: a server that answers the whole multiget 404 when one href is missing
// (SabreDAV 1.8) still gives every member that exists, and ErrNotFound for the missing one alone.
func TestMultiGetWholeReport404(t *testing.T) {
	const good = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nEND:VCARD\r\n"
	reports := 0
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		reports++
		if strings.Contains(body, "/ab/missing.vcf") {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, sabreError("NotFound", "Card not found"))
			return
		}
		var rs []string
		for _, h := range []string{"a", "b", "c", "d", "e"} {
			if strings.Contains(body, "/ab/"+h+".vcf<") {
				rs = append(rs, cardResp("/ab/"+h+".vcf", `"`+h+`"`, strings.ReplaceAll(good, "%s", h)))
			}
		}
		write207(w, multistatus("", rs...))
	})
	hrefs := []string{"/ab/a.vcf", "/ab/b.vcf", "/ab/missing.vcf", "/ab/c.vcf", "/ab/d.vcf", "/ab/e.vcf"}
	objs, err := f.client(t, carddav.WithMultiGetBatch(6)).MultiGet(context.Background(), "/ab/", hrefs)
	if err != nil {
		t.Fatalf("MultiGet: %v", err)
	}
	for i, o := range objs {
		missing := o.Href == "/ab/missing.vcf"
		if o.Href != hrefs[i] || missing != errors.Is(o.Err, carddav.ErrNotFound) || !missing && (o.Err != nil || o.ETag == "") {
			t.Errorf("object %d = %s %s %v; want %s, ErrNotFound only for the missing one", i, o.Href, o.ETag, o.Err, hrefs[i])
		}
	}
	// Halving isolates the missing href: [a b m c d e] 404, [a b m] 404, [a], [b m] 404, [b], [m] 404, [c d e].
	if reports != 7 {
		t.Errorf("%d REPORTs to isolate one missing href of 6; want 7", reports)
	}
}

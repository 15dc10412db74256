package carddavserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/carddavserver"
	"github.com/contactsync/contactsync/changelog"
)

const bookPath = "/addressbooks/test/contacts/"

// TestProtocol checks the server's answers at the HTTP level, where the client hides details: headers,
// status codes, DAV:error bodies and properties.
func TestProtocol(t *testing.T) {
	srv, ctx, c, ab := startWithBook(t)
	href, etag := put(ctx, t, c, ab, "proto-1", "Protocol Person")
	put(ctx, t, c, ab, "proto-2", "Second Person")
	vcf := map[string]string{"Content-Type": "text/vcard"}

	for _, tc := range []struct {
		name   string
		user   string // "" is the test user; "-" sends no credentials
		method string
		path   string
		header map[string]string
		body   string
		status int
		// cond is the DAV:error condition expected in the body; match, a regexp the body must match.
		cond, match string
		// headers that must be present with these values
		want map[string]string
	}{
		{name: "options without login", user: "-", method: "OPTIONS", path: bookPath, status: 200,
			want: map[string]string{"DAV": "1, 3, addressbook, extended-mkcol", "Allow": "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL"}},
		{name: "no credentials", user: "-", method: "PROPFIND", path: bookPath, header: xmlHeaders("0"), status: 401,
			want: map[string]string{"WWW-Authenticate": `Basic realm="contactsync", charset="UTF-8"`}},
		{name: "well-known without login", user: "-", method: "PROPFIND", path: "/.well-known/carddav", status: 301,
			want: map[string]string{"Location": "/"}},
		{name: "well-known logged in", method: "PROPFIND", path: "/.well-known/carddav", status: 301,
			want: map[string]string{"Location": "/principals/test/"}},
		{name: "root names the principal", method: "PROPFIND", path: "/", header: xmlHeaders("0"), status: 207,
			body:  `<propfind xmlns="DAV:"><prop><current-user-principal/><principal-collection-set/></prop></propfind>`,
			match: `<d:current-user-principal><d:href>/principals/test/</d:href></d:current-user-principal><d:principal-collection-set><d:href>/principals/</d:href>`},
		{name: "principal names the home", method: "PROPFIND", path: "/principals/test/", header: xmlHeaders("0"), status: 207,
			body:  `<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><C:addressbook-home-set/><principal-URL/><resourcetype/></prop></propfind>`,
			match: `<card:addressbook-home-set><d:href>/addressbooks/test/</d:href></card:addressbook-home-set><d:principal-URL><d:href>/principals/test/</d:href></d:principal-URL><d:resourcetype><d:collection/><d:principal/></d:resourcetype>`},
		{name: "depth infinity refused", method: "PROPFIND", path: bookPath, header: xmlHeaders("infinity"), status: 403, cond: "propfind-finite-depth"},
		{name: "missing depth is infinity", method: "PROPFIND", path: bookPath, header: xmlHeaders(""), status: 403, cond: "propfind-finite-depth"},
		{name: "book properties", method: "PROPFIND", path: bookPath, header: xmlHeaders("0"), status: 207,
			body: `<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/">
				<prop><resourcetype/><C:supported-address-data/><C:max-resource-size/><supported-report-set/><CS:getctag/><sync-token/></prop></propfind>`,
			match: `(?s)<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>` +
				`<card:supported-address-data><card:address-data-type content-type="text/vcard" version="3.0"/><card:address-data-type content-type="text/vcard" version="4.0"/></card:supported-address-data>` +
				`<card:max-resource-size>16777216</card:max-resource-size>.*<d:sync-collection/>.*<cs:getctag>http://contactsync.invalid/sync/[0-9a-f]{32}/\d+</cs:getctag>`},
		{name: "unknown property is 404 in its own namespace", method: "PROPFIND", path: bookPath, header: xmlHeaders("0"), status: 207,
			body:  `<propfind xmlns="DAV:"><prop><displayname/><x:color xmlns:x="urn:example:x&amp;y"/></prop></propfind>`,
			match: `<d:displayname>Contacts</d:displayname></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><color xmlns="urn:example:x&amp;y"/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status>`},
		{name: "propname", method: "PROPFIND", path: href, header: xmlHeaders("0"), status: 207,
			body:  `<propfind xmlns="DAV:"><propname/></propfind>`,
			match: `<d:prop><d:resourcetype/><d:getetag/><d:getcontenttype/><d:getcontentlength/><d:getlastmodified/></d:prop>`},
		{name: "allprop of a vCard", method: "PROPFIND", path: href, header: xmlHeaders("0"), status: 207,
			match: `<d:getetag>` + regexp.QuoteMeta(string(etag)) + `</d:getetag><d:getcontenttype>text/vcard; charset=utf-8</d:getcontenttype>`},
		{name: "depth 1 lists members", method: "PROPFIND", path: bookPath, header: xmlHeaders("1"), status: 207,
			body:  `<propfind xmlns="DAV:"><prop><getetag/><getcontenttype/><resourcetype/></prop></propfind>`,
			match: `(?s)<d:href>/addressbooks/test/contacts/proto-1.vcf</d:href>.*<d:href>/addressbooks/test/contacts/proto-2.vcf</d:href>`},
		{name: "another user's home", method: "PROPFIND", path: "/addressbooks/someone/", header: xmlHeaders("0"), status: 403},
		{name: "no such book", method: "PROPFIND", path: "/addressbooks/test/nothing/", header: xmlHeaders("0"), status: 404},
		{name: "no such path", method: "PROPFIND", path: "/elsewhere/", header: xmlHeaders("0"), status: 404},
		{name: "weak If-Match never matches", method: "PUT", path: href, header: map[string]string{"Content-Type": "text/vcard", "If-Match": "W/" + string(etag)},
			body: string(card("proto-1", "Weak")), status: 412},
		{name: "If-Match star on a missing member", method: "PUT", path: bookPath + "missing.vcf", header: map[string]string{"Content-Type": "text/vcard", "If-Match": "*"},
			body: string(card("missing", "M")), status: 412},
		{name: "malformed If-Match", method: "PUT", path: href, header: map[string]string{"Content-Type": "text/vcard", "If-Match": "no-quotes"},
			body: string(card("proto-1", "Bad")), status: 400},
		{name: "If-Match in a list", method: "DELETE", path: bookPath + "missing.vcf", header: map[string]string{"If-Match": `"x", "y"`}, status: 404},
		{name: "conditional GET", method: "GET", path: href, header: map[string]string{"If-None-Match": `"other", ` + string(etag)}, status: 304,
			want: map[string]string{"ETag": string(etag)}},
		{name: "GET a vCard", method: "GET", path: href, status: 200, match: `^BEGIN:VCARD\r\nVERSION:3.0\r\nUID:proto-1\r\n`,
			want: map[string]string{"ETag": string(etag), "Content-Type": "text/vcard; charset=utf-8"}},
		{name: "GET exports the book", method: "GET", path: bookPath, status: 200, match: `(?s)^BEGIN:VCARD.*UID:proto-1.*END:VCARD\r\nBEGIN:VCARD.*UID:proto-2`},
		{name: "wrong media type", method: "PUT", path: bookPath + "x.vcf", header: map[string]string{"Content-Type": "application/json"},
			body: string(card("x", "X")), status: 415, cond: "supported-address-data"},
		{name: "PUT into a missing book", method: "PUT", path: "/addressbooks/test/nothing/x.vcf", header: vcf, body: string(card("x", "X")), status: 409},
		{name: "PUT on a collection", method: "PUT", path: bookPath, header: vcf, body: string(card("x", "X")), status: 405},
		{name: "invalid vCard names the precondition", method: "PUT", path: bookPath + "x.vcf", header: vcf, body: "BEGIN:VCARD\r\nEND:VCARD\r\n",
			status: 400, cond: "valid-address-data"},
		{name: "sync-collection takes depth 0", method: "REPORT", path: bookPath, header: xmlHeaders("1"), status: 400,
			body: `<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`},
		{name: "invalid sync token", method: "REPORT", path: bookPath, header: xmlHeaders("0"), status: 403, cond: "valid-sync-token",
			body: `<sync-collection xmlns="DAV:"><sync-token>http://contactsync.invalid/sync/00/1</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`},
		{name: "truncated sync page", method: "REPORT", path: bookPath, header: xmlHeaders("0"), status: 207,
			body: `<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><limit><nresults>1</nresults></limit><prop><getetag/></prop></sync-collection>`,
			match: `(?s)^<\?xml.*<d:response><d:href>/addressbooks/test/contacts/proto-1.vcf</d:href>.*` +
				`<d:response><d:href>/addressbooks/test/contacts/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status><d:error><d:number-of-matches-within-limits/></d:error></d:response>` +
				`<d:sync-token>http://contactsync.invalid/sync/[0-9a-f]+/1</d:sync-token></d:multistatus>$`},
		{name: "sync-collection with address data", method: "REPORT", path: bookPath, header: xmlHeaders("0"), status: 207,
			body:  `<sync-collection xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><sync-token/><sync-level>1</sync-level><prop><getetag/><C:address-data/></prop></sync-collection>`,
			match: `<card:address-data>BEGIN:VCARD&#xD;\nVERSION:3.0&#xD;\nUID:proto-1&#xD;\n`},
		{name: "nresults zero", method: "REPORT", path: bookPath, header: xmlHeaders("0"), status: 400,
			body: `<sync-collection xmlns="DAV:"><sync-token/><limit><nresults>0</nresults></limit><prop><getetag/></prop></sync-collection>`},
		{name: "unknown report", method: "REPORT", path: bookPath, header: xmlHeaders("0"), status: 403, cond: "supported-report",
			body: `<expand-property xmlns="DAV:"/>`},
		{name: "report on a vCard", method: "REPORT", path: href, header: xmlHeaders("0"), status: 403, cond: "supported-report",
			body: `<sync-collection xmlns="DAV:"><sync-token/><prop><getetag/></prop></sync-collection>`},
		{name: "multiget with a foreign href", method: "REPORT", path: bookPath, header: xmlHeaders("1"), status: 207,
			body: `<C:addressbook-multiget xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><getetag/></prop>
				<href>/addressbooks/other/contacts/a.vcf</href><href>http://example.org/addressbooks/test/contacts/proto-2.vcf</href></C:addressbook-multiget>`,
			match: `<d:response><d:href>/addressbooks/other/contacts/a.vcf</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>` +
				`<d:response><d:href>/addressbooks/test/contacts/proto-2.vcf</d:href><d:propstat><d:prop><d:getetag>`},
		{name: "DTD refused", method: "PROPFIND", path: bookPath, header: xmlHeaders("0"), status: 400,
			body: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><propfind xmlns="DAV:"><allprop/></propfind>`},
		{name: "not XML", method: "PROPFIND", path: bookPath, header: xmlHeaders("0"), status: 400, body: `<propfind xmlns="DAV:"><prop>`},
		{name: "deep nesting", method: "PROPFIND", path: bookPath, header: xmlHeaders("0"), status: 400,
			body: `<propfind xmlns="DAV:">` + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + `</propfind>`},
		{name: "MKCOL on the home", method: "MKCOL", path: "/addressbooks/test/", status: 405},
		{name: "MKCOL with a property it cannot set", method: "MKCOL", path: "/addressbooks/test/colourful/", header: xmlHeaders(""), status: 403,
			body: `<mkcol xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection/><C:addressbook/></resourcetype><x:color xmlns:x="urn:x">red</x:color></prop></set></mkcol>`,
			match: `<d:mkcol-response[^>]*><d:propstat><d:prop><color xmlns="urn:x"/></d:prop><d:status>HTTP/1.1 403 Forbidden</d:status></d:propstat>` +
				`<d:propstat><d:prop><d:resourcetype/></d:prop><d:status>HTTP/1.1 424 Failed Dependency</d:status></d:propstat></d:mkcol-response>`},
		{name: "MKCOL of a calendar", method: "MKCOL", path: "/addressbooks/test/cal/", header: xmlHeaders(""), status: 403,
			body: `<mkcol xmlns="DAV:"><set><prop><resourcetype><collection/><C:calendar xmlns:C="urn:ietf:params:xml:ns:caldav"/></resourcetype></prop></set></mkcol>`},
		{name: "PROPPATCH of a protected property", method: "PROPPATCH", path: bookPath, header: xmlHeaders(""), status: 207,
			body:  `<propertyupdate xmlns="DAV:"><set><prop><displayname>Renamed</displayname><getetag>x</getetag></prop></set></propertyupdate>`,
			match: `<d:propstat><d:prop><d:getetag/></d:prop><d:status>HTTP/1.1 403 Forbidden</d:status></d:propstat><d:propstat><d:prop><d:displayname/></d:prop><d:status>HTTP/1.1 424 Failed Dependency</d:status>`},
		{name: "DELETE a principal", method: "DELETE", path: "/principals/test/", status: 405},
		{name: "POST", method: "POST", path: bookPath, status: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, pw := srv.Username, srv.Password
			if tc.user == "-" {
				user, pw = "", ""
			}
			r := rawAs(t, srv, user, pw, tc.method, tc.path, tc.header, tc.body)
			if r.status != tc.status {
				t.Fatalf("%s %s: status %d, want %d\n%s", tc.method, tc.path, r.status, tc.status, r.body)
			}
			if tc.cond != "" {
				if got := davError(t, r); got != tc.cond {
					t.Errorf("condition %q, want %q\n%s", got, tc.cond, r.body)
				}
			}
			if tc.match != "" && !regexp.MustCompile(tc.match).MatchString(r.body) {
				t.Errorf("body does not match %s:\n%s", tc.match, r.body)
			}
			for k, v := range tc.want {
				if got := r.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
	// The failed MKCOL and PROPPATCH above changed nothing.
	d, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.AddressBooks) != 1 || d.AddressBooks[0].DisplayName != "Contacts" {
		t.Errorf("after refused MKCOL and PROPPATCH the books are %+v; want only Contacts, unchanged", d.AddressBooks)
	}
}

func TestProppatch(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	ctx := testCtx(t)
	r := raw(t, srv, "PROPPATCH", bookPath, xmlHeaders(""), `<propertyupdate xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
		<set><prop><displayname>Family</displayname><C:addressbook-description>the relatives</C:addressbook-description></prop></set></propertyupdate>`)
	ms := parseMultistatus(t, r)
	if got := ms.propstat(bookPath, 200); got != "<d:displayname/><card:addressbook-description/>" {
		t.Errorf("PROPPATCH 200 propstat = %q", got)
	}
	ab, err := srv.Client(t).AddressBook(ctx, srv.AddressBookURL)
	if err != nil || ab.DisplayName != "Family" || ab.Description != "the relatives" {
		t.Errorf("after PROPPATCH the book is %+v, %v", ab, err)
	}
	raw(t, srv, "PROPPATCH", bookPath, xmlHeaders(""), `<propertyupdate xmlns="DAV:"><remove><prop><displayname/></prop></remove></propertyupdate>`)
	if ab, err := srv.Client(t).AddressBook(ctx, srv.AddressBookURL); err != nil || ab.DisplayName != "contacts" {
		t.Errorf("after removing the display name the book is %+v, %v; want its name as display name", ab, err)
	}
}

func TestCTagAndIdempotentPut(t *testing.T) {
	_, ctx, c, ab := startWithBook(t)
	href, e1 := put(ctx, t, c, ab, "ctag", "CTag")
	after, _ := c.AddressBook(ctx, ab.URL)
	if after.CTag == ab.CTag || after.SyncToken == ab.SyncToken {
		t.Fatalf("ctag %q and token %q did not change after a PUT", after.CTag, after.SyncToken)
	}
	// The same bytes again: same ETag, no new revision, so devices have nothing to fetch.
	e2, err := c.Put(ctx, href, card("ctag", "CTag"), carddav.IfMatch(e1))
	if err != nil || e2 != e1 {
		t.Fatalf("identical PUT = %q, %v; want %q", e2, err, e1)
	}
	if again, _ := c.AddressBook(ctx, ab.URL); again.CTag != after.CTag {
		t.Errorf("identical PUT moved the ctag from %q to %q", after.CTag, again.CTag)
	}
}

func TestQuery(t *testing.T) {
	srv, ctx, c, ab := startWithBook(t)
	put(ctx, t, c, ab, "q-ada", "Ada Lovelace")
	put(ctx, t, c, ab, "q-grace", "Grace Hopper")
	body := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:q-linus\r\nFN:Linus\r\nEMAIL;TYPE=WORK:linus@example.org\r\nEND:VCARD\r\n")
	if _, err := c.Put(ctx, carddav.HrefForUID(ab.URL, "q-linus"), body, carddav.CreateOnly()); err != nil {
		t.Fatal(err)
	}
	query := func(filter, limit string) string {
		return `<C:addressbook-query xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><getetag/></prop>` +
			filter + limit + `</C:addressbook-query>`
	}
	for _, tc := range []struct {
		name, filter, limit string
		want                []string
		truncated           bool
	}{
		{name: "no filter", filter: `<C:filter/>`, want: []string{"q-ada", "q-grace", "q-linus"}},
		{name: "UID equals, octet", filter: `<C:filter><C:prop-filter name="UID"><C:text-match collation="i;octet" match-type="equals">q-grace</C:text-match></C:prop-filter></C:filter>`,
			want: []string{"q-grace"}},
		{name: "UID equals, wrong case, octet", filter: `<C:filter><C:prop-filter name="UID"><C:text-match collation="i;octet" match-type="equals">Q-GRACE</C:text-match></C:prop-filter></C:filter>`},
		{name: "UID contains, case-insensitive", filter: `<C:filter><C:prop-filter name="uid"><C:text-match>A</C:text-match></C:prop-filter></C:filter>`,
			want: []string{"q-ada", "q-grace"}},
		{name: "FN starts-with", filter: `<C:filter><C:prop-filter name="FN"><C:text-match match-type="starts-with">grace</C:text-match></C:prop-filter></C:filter>`,
			want: []string{"q-grace"}},
		{name: "negated", filter: `<C:filter><C:prop-filter name="FN"><C:text-match negate-condition="yes">a</C:text-match></C:prop-filter></C:filter>`,
			want: []string{"q-linus"}},
		{name: "EMAIL not defined", filter: `<C:filter><C:prop-filter name="EMAIL"><C:is-not-defined/></C:prop-filter></C:filter>`,
			want: []string{"q-ada", "q-grace"}},
		{name: "param filter", filter: `<C:filter><C:prop-filter name="EMAIL"><C:param-filter name="TYPE"><C:text-match match-type="equals">work</C:text-match></C:param-filter></C:prop-filter></C:filter>`,
			want: []string{"q-linus"}},
		{name: "allof", filter: `<C:filter test="allof"><C:prop-filter name="FN"><C:text-match>l</C:text-match></C:prop-filter><C:prop-filter name="UID"><C:text-match>ada</C:text-match></C:prop-filter></C:filter>`,
			want: []string{"q-ada"}},
		{name: "anyof", filter: `<C:filter><C:prop-filter name="FN"><C:text-match>hopper</C:text-match></C:prop-filter><C:prop-filter name="UID"><C:text-match>ada</C:text-match></C:prop-filter></C:filter>`,
			want: []string{"q-ada", "q-grace"}},
		{name: "limit", filter: `<C:filter/>`, limit: `<C:limit><C:nresults>2</C:nresults></C:limit>`, want: []string{"q-ada", "q-grace"}, truncated: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := parseMultistatus(t, raw(t, srv, "REPORT", bookPath, xmlHeaders("1"), query(tc.filter, tc.limit)))
			var got []string
			truncated := false
			for _, r := range ms.Responses {
				if r.Href == bookPath {
					truncated = strings.Contains(r.Status, "507")
					continue
				}
				got = append(got, strings.TrimSuffix(strings.TrimPrefix(r.Href, bookPath), ".vcf"))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || truncated != tc.truncated {
				t.Errorf("matched %v (truncated %v); want %v (%v)", got, truncated, tc.want, tc.truncated)
			}
		})
	}
	r := raw(t, srv, "REPORT", bookPath, xmlHeaders("1"), query(`<C:filter><C:prop-filter name="FN"><C:text-match collation="x-unknown">a</C:text-match></C:prop-filter></C:filter>`, ""))
	if r.status != 403 || davError(t, r) != "supported-collation" {
		t.Errorf("unknown collation: %d %s; want 403 supported-collation", r.status, r.body)
	}
}

func TestMaxResourceSize(t *testing.T) {
	srv := carddavtest.Start(t, "embedded", carddavserver.WithMaxResourceSize(1024))
	big := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big\r\nFN:Big\r\nNOTE:" + strings.Repeat("x", 1100) + "\r\nEND:VCARD\r\n"
	r := raw(t, srv, "PUT", bookPath+"big.vcf", map[string]string{"Content-Type": "text/vcard"}, big)
	if r.status != http.StatusRequestEntityTooLarge || davError(t, r) != "max-resource-size" {
		t.Errorf("oversized PUT: %d %s; want 413 max-resource-size", r.status, r.body)
	}
	ms := parseMultistatus(t, raw(t, srv, "PROPFIND", bookPath, xmlHeaders("0"),
		`<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><C:max-resource-size/></prop></propfind>`))
	if got := ms.propstat(bookPath, 200); got != "<card:max-resource-size>1024</card:max-resource-size>" {
		t.Errorf("max-resource-size property = %q", got)
	}
}

func TestMaxXMLSize(t *testing.T) {
	srv := carddavtest.Start(t, "embedded", carddavserver.WithMaxXMLSize(4096))
	body := `<propfind xmlns="DAV:"><prop>` + strings.Repeat("<getetag/>", 500) + `</prop></propfind>`
	if r := raw(t, srv, "PROPFIND", bookPath, xmlHeaders("0"), body); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized XML body: %d; want 413", r.status)
	}
}

// TestTrimInvalidatesOldTokens: history beyond the retention is dropped, and a token that needs it gets 403
// valid-sync-token, so the client lists everything again instead of missing a deletion.
func TestTrimInvalidatesOldTokens(t *testing.T) {
	srv, ctx, c, ab := startWithBook(t, carddavserver.WithRetention(changelog.Retention{MinRevisions: 2}), carddavserver.WithTrimInterval(0))
	h1, e1 := put(ctx, t, c, ab, "trim-1", "One")
	old, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	put(ctx, t, c, ab, "trim-2", "Two")
	if err := c.Delete(ctx, h1, e1); err != nil {
		t.Fatal(err)
	}
	put(ctx, t, c, ab, "trim-3", "Three")
	recent, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	put(ctx, t, c, ab, "trim-4", "Four")
	if err := srv.Embedded(t).Trim(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncCollection(ctx, ab.URL, old.Token, 0); !errors.Is(err, carddav.ErrInvalidSyncToken) {
		t.Errorf("token older than the kept history: %v; want ErrInvalidSyncToken", err)
	}
	page, err := c.SyncCollection(ctx, ab.URL, recent.Token, 0)
	if err != nil || len(page.Changed) != 1 {
		t.Errorf("recent token after trim = %+v, %v; want the one change since", page, err)
	}
	full, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil || len(full.Changed) != 3 {
		t.Errorf("full listing after trim = %+v, %v; want 3 members", full, err)
	}
}

// TestRestartKeepsDataAndTokens: a restarted server has the same contacts and honours the tokens it gave.
func TestRestartKeepsDataAndTokens(t *testing.T) {
	srv, ctx, c, ab := startWithBook(t)
	href, etag := put(ctx, t, c, ab, "restart-1", "Before")
	page, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	put(ctx, t, c, ab, "restart-2", "After")
	next, err := c.SyncCollection(ctx, ab.URL, page.Token, 0)
	if err != nil || len(next.Changed) != 1 || next.Changed[0].Href != carddav.HrefForUID(ab.URL, "restart-2") {
		t.Fatalf("sync with a token from before the restart = %+v, %v", next, err)
	}
	got, err := c.Get(ctx, href)
	if err != nil || got.ETag != etag {
		t.Errorf("contact after restart = %+v, %v; want ETag %s", got, err, etag)
	}
}

// TestNoSecretsInLog runs logins, right and wrong, with debug logging and checks no password is written.
func TestNoSecretsInLog(t *testing.T) {
	var logs bytes.Buffer
	srv := carddavtest.Start(t, "embedded", carddavserver.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	raw(t, srv, "PROPFIND", bookPath, xmlHeaders("0"), "")
	rawAs(t, srv, srv.Username, "wrong-secret-3141", "PROPFIND", bookPath, xmlHeaders("0"), "")
	rawAs(t, srv, "nobody", "another-secret-2718", "PROPFIND", bookPath, xmlHeaders("0"), "")
	out := logs.String()
	if !strings.Contains(out, "carddavserver request") {
		t.Fatalf("nothing logged at debug level:\n%s", out)
	}
	for _, secret := range []string{srv.Password, "wrong-secret-3141", "another-secret-2718"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a password:\n%s", out)
		}
	}
}

func TestUserManagement(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	ctx := context.Background()
	for _, tc := range []struct {
		name, user, password string
		want                 error
	}{
		{"taken", "test", "x", carddavserver.ErrUserExists},
		{"empty name", "", "x", carddavserver.ErrInvalidName},
		{"colon", "a:b", "x", carddavserver.ErrInvalidName},
		{"slash", "a/b", "x", carddavserver.ErrInvalidName},
		{"empty password", "alice", "", carddavserver.ErrEmptyPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := srv.Embedded(t).AddUser(ctx, tc.user, tc.password); !errors.Is(err, tc.want) {
				t.Errorf("AddUser(%q): %v; want %v", tc.user, err, tc.want)
			}
		})
	}
	if err := srv.Embedded(t).RemoveUser(ctx, "nobody"); !errors.Is(err, carddavserver.ErrNoUser) {
		t.Errorf("RemoveUser(nobody): %v; want ErrNoUser", err)
	}
	users, err := srv.Embedded(t).Users(ctx)
	if err != nil || fmt.Sprint(users) != "[test]" {
		t.Errorf("Users = %v, %v", users, err)
	}
}

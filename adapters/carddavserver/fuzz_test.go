package carddavserver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// requestSeeds are bodies real clients send: the project's client, vdirsyncer, DAVx5-style queries, and
// some broken ones.
var requestSeeds = []string{
	`<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:current-user-principal/><card:addressbook-home-set/><d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><d:supported-report-set/></d:prop></d:propfind>`,
	`<propfind xmlns="DAV:"><prop><resourcetype/><getcontenttype/><getetag/></prop></propfind>`,
	`<propfind xmlns="DAV:"><allprop/></propfind>`,
	`<propfind xmlns="DAV:"><propname/></propfind>`,
	`<d:sync-collection xmlns:d="DAV:"><d:sync-token>http://contactsync.invalid/sync/ab/3</d:sync-token><d:sync-level>1</d:sync-level><d:limit><d:nresults>100</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>`,
	`<C:addressbook-multiget xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><getetag/><C:address-data/></prop><href>/addressbooks/u/b/1.vcf</href><href>/addressbooks/u/b/2.vcf</href></C:addressbook-multiget>`,
	`<C:addressbook-query xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><getetag/></prop><C:filter test="allof"><C:prop-filter name="EMAIL" test="anyof"><C:text-match collation="i;unicode-casemap" match-type="contains" negate-condition="no">a</C:text-match><C:param-filter name="TYPE"><C:is-not-defined/></C:param-filter></C:prop-filter></C:filter><C:limit><C:nresults>5</C:nresults></C:limit></C:addressbook-query>`,
	`<mkcol xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection/><C:addressbook/></resourcetype><displayname>x</displayname></prop></set></mkcol>`,
	`<propertyupdate xmlns="DAV:"><set><prop><displayname>a</displayname></prop></set><remove><prop><displayname/></prop></remove></propertyupdate>`,
	`<!DOCTYPE x [<!ENTITY a "b">]><propfind xmlns="DAV:"/>`,
	`<propfind xmlns="DAV:"><prop>`,
	``,
	`<a/><b/>`,
	`<set><prop/></set>`,
	`<mkcol xmlns="DAV:"><set/></mkcol>`,
	`<propertyupdate xmlns="DAV:"><set/></propertyupdate>`,
}

// FuzzRequestXML feeds arbitrary bytes to every parser of request bodies: none may panic, and whatever they
// accept stays within the element and depth limits that bound their memory.
func FuzzRequestXML(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if root, err := parseXML(bytes.NewReader(body)); err == nil && root != nil {
			if n, d := size(root, 1); n > maxXMLElements || d > maxXMLDepth {
				t.Fatalf("accepted %d elements %d deep; limits are %d and %d", n, d, maxXMLElements, maxXMLDepth)
			}
		} else if err != nil {
			if se, ok := err.(*statusError); !ok || (se.status != http.StatusBadRequest && se.status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("parse error %v is not a 400 or 413", err)
			}
		}
		lim := defaultConfig().limits
		if pr, err := parsePropfind(bytes.NewReader(body), lim); err == nil && len(pr.props) > lim.properties {
			t.Fatalf("accepted %d properties; the limit is %d", len(pr.props), lim.properties)
		}
		if rep, err := parseReport(bytes.NewReader(body), lim); err == nil {
			switch r := rep.(type) {
			case *syncRequest:
				if r.limit < 0 {
					t.Fatalf("negative limit %d", r.limit)
				}
			case *multigetRequest:
				if len(r.hrefs) > lim.hrefs {
					t.Fatalf("accepted %d hrefs; the limit is %d", len(r.hrefs), lim.hrefs)
				}
			case *queryRequest:
				r.filter.matchUID("x")
				r.filter.uidOnly()
				r.filter.uidLookup()
			}
		}
		_, _ = parseMkcol(bytes.NewReader(body))
		_, _ = parseProppatch(bytes.NewReader(body))
	})
}

// size counts the elements of a tree and its depth.
func size(n *node, depth int) (count, maxDepth int) {
	count, maxDepth = 1, depth
	for _, c := range n.children {
		cc, cd := size(c, depth+1)
		count += cc
		maxDepth = max(maxDepth, cd)
	}
	return count, maxDepth
}

// FuzzRequestHeaders feeds arbitrary text to the parsers of request lines and headers: paths, condition
// headers and sync tokens.
func FuzzRequestHeaders(f *testing.F) {
	f.Add("/addressbooks/u/b/x.vcf", `"abc", W/"def"`, "http://contactsync.invalid/sync/ab/7")
	f.Add("/%zz/", "*", "")
	f.Add("/.well-known/carddav", `W/"`, "http://contactsync.invalid/sync/ab/-1")
	f.Fuzz(func(t *testing.T, path, tags, token string) {
		if tg, err := parseTarget(path); err == nil {
			if back, err := parseTarget(tg.href()); err != nil || back != tg {
				t.Fatalf("target %+v from %q: href %q parses as %+v, %v", tg, path, tg.href(), back, err)
			}
		}
		h := http.Header{"If-Match": {tags}, "If-None-Match": {tags}}
		if c, err := parseConditions(h); err == nil {
			for _, tag := range c.ifMatch {
				if !strings.HasSuffix(tag, `"`) {
					t.Fatalf("entity tag %q without its closing quote", tag)
				}
			}
			_ = c.check(http.MethodPut, true, `"x"`)
		}
		if rev, err := parseSyncToken("ab", token); err == nil && strings.TrimSpace(token) != "" && syncToken("ab", rev) != strings.TrimSpace(token) {
			t.Fatalf("token %q accepted as revision %d", token, rev)
		}
	})
}

// requestSeedHeads are request lines and headers real clients send, each to be followed by a body seed.
var requestSeedHeads = []string{
	"PROPFIND /addressbooks/test/contacts/ HTTP/1.1\r\nHost: x\r\nDepth: 1\r\nContent-Type: application/xml\r\n",
	"REPORT /addressbooks/test/contacts/ HTTP/1.1\r\nHost: x\r\nDepth: 0\r\n",
	"PUT /addressbooks/test/contacts/a.vcf HTTP/1.1\r\nHost: x\r\nContent-Type: text/vcard\r\nIf-None-Match: *\r\n",
	"PUT /addressbooks/test/contacts/a.vcf HTTP/1.1\r\nHost: x\r\nIf-Match: \"abc\"\r\nExpect: 100-continue\r\n",
	"MKCOL /addressbooks/test/new/ HTTP/1.1\r\nHost: x\r\n",
	"PROPPATCH /addressbooks/test/contacts/ HTTP/1.1\r\nHost: x\r\n",
	"DELETE /addressbooks/test/contacts/a.vcf HTTP/1.1\r\nHost: x\r\nIf-Match: W/\"x\"\r\n",
	"GET /.well-known/carddav HTTP/1.1\r\nHost: x\r\n",
	"OPTIONS / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n",
}

// FuzzServeHTTP sends whole requests, parsed by net/http as the server reads them, through the handler: their
// paths, headers and bodies, with or without a valid login. None may panic or fail with a 500 (nothing a
// client sends is the server's own error), a refused login never reads the body, and a response to a request
// whose body was left unread closes the connection.
func FuzzServeHTTP(f *testing.F) {
	vcf := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:A\r\nEND:VCARD\r\n"
	for _, head := range requestSeedHeads {
		for _, body := range append([]string{vcf}, requestSeeds[:6]...) {
			raw := head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
			f.Add([]byte(raw), true)
			f.Add([]byte(raw), false)
		}
	}
	srv, err := Open(f.TempDir(), WithPasswordIterations(MinPasswordIterations), WithTrimInterval(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	if err := srv.AddUser(context.Background(), "test", "pw"); err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, raw []byte, login bool) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil || r.ProtoMajor != 1 {
			return // net/http's server answers these itself
		}
		if login {
			r.SetBasicAuth("test", "pw")
		}
		body := &countingReader{r: r.Body}
		r.Body = body
		w := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != nil && p != http.ErrAbortHandler {
					t.Fatalf("panic: %v", p)
				}
			}()
			h.ServeHTTP(w, r)
		}()
		switch {
		case w.Code < 100 || w.Code > 599:
			t.Fatalf("status %d", w.Code)
		case w.Code == http.StatusInternalServerError:
			t.Fatalf("500 for a client's request: %s", w.Body)
		case w.Code == http.StatusUnauthorized && body.n > 0:
			t.Fatalf("a refused login read %d bytes of the body", body.n)
		case r.ContentLength != 0 && !body.eof && w.Header().Get("Connection") != "close":
			t.Fatalf("%d after leaving the body unread, without closing the connection", w.Code)
		}
	})
}

// countingReader counts what is read of a request body and notes its end.
type countingReader struct {
	r   io.ReadCloser
	n   int
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	c.eof = c.eof || err == io.EOF
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

func TestXMLLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
	}{
		{"too many elements", "<a>" + strings.Repeat("<b/>", maxXMLElements) + "</a>"},
		{"too deep", strings.Repeat("<a>", maxXMLDepth+1) + strings.Repeat("</a>", maxXMLDepth+1)},
		{"two roots", "<a/><b/>"},
		{"text outside", "text<a/>"},
		{"unclosed", "<a><b></b>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseXML(strings.NewReader(tc.body))
			if se, ok := err.(*statusError); !ok || se.status != http.StatusBadRequest {
				t.Errorf("parseXML: %v; want a 400", err)
			}
		})
	}
}

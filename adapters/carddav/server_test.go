package carddav_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
)

// TestRealServers runs the client against the outside servers of the matrix (Radicale, Xandikos, SabreDAV).
// Each subtest works in an address book of its own, so they do not see each other's contacts.
func TestRealServers(t *testing.T) {
	for _, name := range carddavtest.Names {
		if name == "embedded" {
			continue // adapters/carddavserver's client_test.go runs this client against it, knowing its tokens and paths
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := carddavtest.Start(t, name)
			for _, tc := range realServerCases {
				t.Run(tc.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					tc.run(ctx, t, srv)
				})
			}
		})
	}
}

var realServerCases = []struct {
	name string
	run  func(context.Context, *testing.T, *carddavtest.Server)
}{
	{"discovery from the bare root", testDiscoverBareRoot},
	{"discovery from an address book URL", testDiscoverDirect},
	{"create address book", testCreateAddressBook},
	{"conditional put and delete", testConditionalWrites},
	{"supported-report-set asked before the first sync", testSupportedReportSet},
	{"sync-collection initial, incremental, after delete", testSyncCollection},
	{"sync-collection with a limit", testSyncLimit},
	{"invalid sync token", testInvalidSyncToken},
	{"multiget in batches", testMultiGet},
	{"query everything", testQueryAll},
	{"ListETags agrees with sync-collection", testListETags},
	{"weak ETags from an intermediary", testWeakETags},
	{"hrefs from awkward UIDs", testHrefForUID},
	{"wrong password", testWrongPassword},
}

func testDiscoverBareRoot(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	rec := &recorder{}
	c := srv.Client(t, carddav.WithHTTPClient(rec.client()))
	d, err := c.Discover(ctx)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if d.Principal == "" || len(d.HomeSets) == 0 {
		t.Errorf("Discover found principal %q, home sets %q; want both", d.Principal, d.HomeSets)
	}
	ab, err := d.Choose(srv.AddressBookURL)
	if err != nil {
		t.Fatalf("Choose(%s): %v", srv.AddressBookURL, err)
	}
	if ab.URL != srv.AddressBookURL || ab.SupportsSync != srv.SyncCollection || (ab.SyncToken == "") == srv.SyncCollection {
		t.Errorf("address book = %+v; want URL %s, sync support and a token %v", ab, srv.AddressBookURL, srv.SyncCollection)
	}
	byName, err := d.Choose(ab.DisplayName)
	if err != nil || byName.Href != ab.Href {
		t.Errorf("Choose(%q) = %+v, %v; want %s", ab.DisplayName, byName, err, ab.Href)
	}
	if _, err := d.Choose("no such book"); !errors.Is(err, carddav.ErrNoAddressBook) {
		t.Errorf("Choose(no such book) error = %v; want ErrNoAddressBook", err)
	}
	// Both servers redirect /.well-known/carddav; the request after the redirect must still be a PROPFIND.
	reqs := rec.requests()
	if len(reqs) < 2 || reqs[0] != "PROPFIND /.well-known/carddav" || !strings.HasPrefix(reqs[1], "PROPFIND ") {
		t.Errorf("requests = %q; want PROPFIND /.well-known/carddav then PROPFIND at the redirect target", reqs)
	}
	// Well-known, its redirect target, the principal, the home set.
	if len(reqs) != 4 {
		t.Errorf("discovery sent %d requests %q; want 4", len(reqs), reqs)
	}
	for _, r := range reqs {
		if !strings.HasPrefix(r, "PROPFIND ") {
			t.Errorf("discovery sent %q; want only PROPFINDs", r)
		}
	}
}

func testDiscoverDirect(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c, err := carddav.New(srv.AddressBookURL, srv.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Discover(ctx)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	ab, err := d.Choose("")
	if err != nil || ab.URL != srv.AddressBookURL || len(d.AddressBooks) != 1 {
		t.Errorf("Discover from %s = %+v (choose: %v); want exactly that book", srv.AddressBookURL, d, err)
	}
}

func testCreateAddressBook(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "created")
	if ab.DisplayName != "created" || ab.SupportsSync != srv.SyncCollection {
		t.Errorf("created book = %+v; want display name %q and sync support %v", ab, "created", srv.SyncCollection)
	}
	d, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Choose(ab.URL); err != nil || got.Href != ab.Href {
		t.Errorf("new book not discovered: %v (books: %+v)", err, d.AddressBooks)
	}
	_, err = c.CreateAddressBook(ctx, ab.URL, "again", "")
	if !errors.Is(err, carddav.ErrMethodNotAllowed) {
		t.Errorf("creating an existing book: %v; want ErrMethodNotAllowed", err)
	}
	if _, err := c.AddressBook(ctx, d.HomeSets[0]); !errors.Is(err, carddav.ErrNoAddressBook) {
		t.Errorf("AddressBook(home set): %v; want ErrNoAddressBook", err)
	}
	if err := c.DeleteAddressBook(ctx, ab.URL); err != nil {
		t.Fatalf("DeleteAddressBook: %v", err)
	}
	if _, err := c.AddressBook(ctx, ab.URL); !errors.Is(err, carddav.ErrNotFound) {
		t.Errorf("AddressBook after delete: %v; want ErrNotFound", err)
	}
}

func testConditionalWrites(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "writes")
	href := carddav.HrefForUID(ab.URL, "writes-1")
	v1, v2, v3 := card("writes-1", "One"), card("writes-1", "Two"), card("writes-1", "Three")

	e1, err := c.Put(ctx, href, v1, carddav.CreateOnly())
	if err != nil || e1 == "" {
		t.Fatalf("put new: %q, %v", e1, err)
	}
	_, err = c.Put(ctx, href, v2, carddav.CreateOnly())
	wantPrecondition(t, "second put-new of the same href", err)

	e2, err := c.Put(ctx, href, v2, carddav.IfMatch(e1))
	if err != nil || e2 == "" || e2.Equal(e1) {
		t.Fatalf("update with the current ETag: %q, %v; want a new ETag", e2, err)
	}
	_, err = c.Put(ctx, href, v3, carddav.IfMatch(e1))
	wantPrecondition(t, "update with a stale ETag", err)

	got, err := c.Get(ctx, href)
	if err != nil || !bytes.Equal(got.Data, v2) || got.ETag != e2 {
		t.Fatalf("get after stale update = %+v, %v; want v2 with %s", got, err, e2)
	}

	err = c.Delete(ctx, href, e1)
	wantPrecondition(t, "delete with a stale ETag", err)
	if err := c.Delete(ctx, href, e2); err != nil {
		t.Fatalf("delete with the current ETag: %v", err)
	}
	if _, err := c.Get(ctx, href); !errors.Is(err, carddav.ErrNotFound) {
		t.Errorf("get after delete: %v; want ErrNotFound", err)
	}
	if err := c.Delete(ctx, href, e2); !errors.Is(err, carddav.ErrNotFound) && !errors.Is(err, carddav.ErrPreconditionFailed) {
		t.Errorf("second delete: %v; want ErrNotFound or ErrPreconditionFailed", err)
	}
	_, err = c.Put(ctx, href, v3, carddav.IfMatch(e2))
	wantPrecondition(t, "update of a deleted contact", err)
}

// testSupportedReportSet: the first sync from an empty token asks the collection's supported-report-set, once
// per client and collection; a server that does not list sync-collection is never sent one.
func testSupportedReportSet(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	rec := &recorder{}
	c := srv.Client(t, carddav.WithHTTPClient(rec.client()))
	ab := newBook(ctx, t, srv, c, "reportset")
	putCards(ctx, t, c, ab, "reportset", 2)
	path := strings.TrimPrefix(ab.URL, strings.TrimSuffix(srv.URL, "/"))
	want := [][]string{{"PROPFIND " + path, "REPORT " + path}, {"REPORT " + path}}
	if !srv.SyncCollection {
		want = [][]string{{"PROPFIND " + path}, nil}
	}
	for i, w := range want {
		rec.reset()
		p, err := c.SyncCollection(ctx, ab.URL, "", 0)
		switch {
		case !srv.SyncCollection && !errors.Is(err, carddav.ErrNotSupported):
			t.Errorf("sync %d: %+v, %v; want ErrNotSupported", i+1, p, err)
		case srv.SyncCollection && (err != nil || len(p.Changed) != 2):
			t.Errorf("sync %d: %+v, %v; want both members", i+1, p, err)
		}
		if got := rec.requests(); !slices.Equal(got, w) {
			t.Errorf("sync %d sent %q; want %q", i+1, got, w)
		}
	}
}

// requireSync skips a sync-collection test on a server without it (SabreDAV 1.8), after checking that the
// client says so without sending the report.
func requireSync(ctx context.Context, t *testing.T, srv *carddavtest.Server, ab carddav.AddressBook) {
	t.Helper()
	if srv.SyncCollection {
		return
	}
	rec := &recorder{}
	_, err := srv.Client(t, carddav.WithHTTPClient(rec.client())).SyncCollection(ctx, ab.URL, "", 0)
	if !errors.Is(err, carddav.ErrNotSupported) || rec.count("REPORT") != 0 {
		t.Fatalf("sync on %s: %v after %q; want ErrNotSupported and no REPORT", srv.Name, err, rec.requests())
	}
	t.Skipf("%s lists no sync-collection: the client reports ErrNotSupported without sending one", srv.Name)
}

// members lists the book with sync-collection, or with ListETags where the server has no sync.
func members(ctx context.Context, t *testing.T, srv *carddavtest.Server, c *carddav.Client, ab carddav.AddressBook) []carddav.Member {
	t.Helper()
	if !srv.SyncCollection {
		l, err := c.ListETags(ctx, ab.URL)
		if err != nil || len(l.Rejected) != 0 {
			t.Fatalf("ListETags: %+v, %v", l, err)
		}
		return l.Members
	}
	p, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil || len(p.Rejected) != 0 {
		t.Fatalf("SyncCollection: %+v, %v", p, err)
	}
	return p.Changed
}

func testSyncCollection(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "sync")
	requireSync(ctx, t, srv, ab)
	etags := map[string]carddav.ETag{}
	for i := range 3 {
		uid := fmt.Sprintf("sync-%d", i)
		href := carddav.HrefForUID(ab.URL, uid)
		e, err := c.Put(ctx, href, card(uid, uid), carddav.CreateOnly())
		if err != nil {
			t.Fatal(err)
		}
		etags[href] = e
	}

	p1, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil {
		t.Fatalf("initial sync: %v", err)
	}
	if got := memberMap(p1.Changed); !equalETags(got, etags) || len(p1.Deleted) != 0 || p1.More || p1.Token == "" {
		t.Fatalf("initial sync = %+v; want exactly %v", p1, etags)
	}

	p2, err := c.SyncCollection(ctx, ab.URL, p1.Token, 0)
	if err != nil {
		t.Fatalf("sync without changes: %v", err)
	}
	if len(p2.Changed)+len(p2.Deleted)+len(p2.Rejected) != 0 {
		t.Errorf("sync without changes = %+v; want nothing", p2)
	}

	upd := carddav.HrefForUID(ab.URL, "sync-1")
	e, err := c.Put(ctx, upd, card("sync-1", "changed"), carddav.IfMatch(etags[upd]))
	if err != nil {
		t.Fatal(err)
	}
	add := carddav.HrefForUID(ab.URL, "sync-new")
	eAdd, err := c.Put(ctx, add, card("sync-new", "new"), carddav.CreateOnly())
	if err != nil {
		t.Fatal(err)
	}
	p3, err := c.SyncCollection(ctx, ab.URL, p2.Token, 0)
	if err != nil {
		t.Fatalf("incremental sync: %v", err)
	}
	if want := map[string]carddav.ETag{upd: e, add: eAdd}; !equalETags(memberMap(p3.Changed), want) || len(p3.Deleted) != 0 {
		t.Errorf("incremental sync = %+v; want changed %v only", p3, want)
	}

	del := carddav.HrefForUID(ab.URL, "sync-0")
	if err := c.Delete(ctx, del, etags[del]); err != nil {
		t.Fatal(err)
	}
	p4, err := c.SyncCollection(ctx, ab.URL, p3.Token, 0)
	if err != nil {
		t.Fatalf("sync after delete: %v", err)
	}
	if len(p4.Changed) != 0 || !slices.Equal(p4.Deleted, []string{del}) {
		t.Errorf("sync after delete = %+v; want deleted [%s] only", p4, del)
	}

	// A fresh listing never reports deletions, even where the server lists old ones (Radicale does).
	p5, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p5.Deleted) != 0 || len(p5.Changed) != 3 {
		t.Errorf("fresh listing after changes = %+v; want 3 members, no deletions", p5)
	}
}

// testSyncLimit records what the servers do with DAV:limit: neither Radicale 3.1.8 nor Xandikos 0.2.8
// truncates, so a limited request still returns every member on one page. Truncated paging is tested
// against an injected 507 in fault_test.go.
func testSyncLimit(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "limit")
	requireSync(ctx, t, srv, ab)
	putCards(ctx, t, c, ab, "limit", 5)
	var all []carddav.Member
	token := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("more than 5 pages for 5 members with limit 2")
		}
		p, err := c.SyncCollection(ctx, ab.URL, token, 2)
		if err != nil {
			t.Fatalf("sync with limit: %v", err)
		}
		all = append(all, p.Changed...)
		token = p.Token
		if !p.More {
			break
		}
	}
	if len(all) != 5 {
		t.Errorf("paged sync returned %d members; want 5", len(all))
	}
}

func testInvalidSyncToken(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "badtoken")
	requireSync(ctx, t, srv, ab)
	putCards(ctx, t, c, ab, "badtoken", 1)
	p, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Tokens of the server's own shape that it never issued, and one of no shape at all.
	forged := regexp.MustCompile(`[0-9a-f]{40,}`).ReplaceAllStringFunc(p.Token, func(s string) string {
		return strings.Repeat("0", len(s))
	})
	for _, token := range []string{forged, "not-a-token"} {
		_, err := c.SyncCollection(ctx, ab.URL, token, 0)
		if !errors.Is(err, carddav.ErrInvalidSyncToken) {
			t.Errorf("sync with token %q: %v; want ErrInvalidSyncToken", token, err)
		}
		var he *carddav.HTTPError
		if !errors.As(err, &he) || he.Retryable() {
			t.Errorf("sync with token %q: %v; want a non-retryable *HTTPError", token, err)
		}
	}
}

func testMultiGet(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	rec := &recorder{}
	c := srv.Client(t, carddav.WithHTTPClient(rec.client()), carddav.WithMultiGetBatch(3))
	ab := newBook(ctx, t, srv, c, "multiget")
	members := putCards(ctx, t, c, ab, "multiget", 10)
	missing := carddav.HrefForUID(ab.URL, "never-written")
	hrefs := append([]string{missing}, slices.Sorted(mapKeys(members))...)
	hrefs = append(hrefs, hrefs[3]) // a duplicate is fetched once

	rec.reset()
	objs, err := c.MultiGet(ctx, ab.URL, hrefs)
	if err != nil {
		t.Fatalf("MultiGet: %v", err)
	}
	wantReports := 4
	if srv.Name == "sabredav" {
		// SabreDAV 1.8 answers a whole batch 404 for its one missing href: the client halves that batch
		// ([missing, a, b] 404, then [missing] 404 and [a, b]).
		wantReports = 6
	}
	if got := rec.count("REPORT"); got != wantReports {
		t.Errorf("MultiGet of 11 distinct hrefs in batches of 3 sent %d REPORTs; want %d", got, wantReports)
	}
	if len(objs) != 11 || objs[0].Href != missing || !errors.Is(objs[0].Err, carddav.ErrNotFound) {
		t.Fatalf("MultiGet = %d objects, first %+v; want 11 with the missing one first as ErrNotFound", len(objs), objs[0])
	}
	for i, o := range objs[1:] {
		if o.Href != hrefs[i+1] || o.Err != nil || !o.ETag.Equal(members[o.Href]) {
			t.Errorf("object %d = %s %s %v; want %s with %s", i+1, o.Href, o.ETag, o.Err, hrefs[i+1], members[o.Href])
			continue
		}
		// The vCard inside XML must come back byte for byte as a plain GET returns it.
		g, err := c.Get(ctx, o.Href)
		if err != nil || !bytes.Equal(g.Data, o.Data) {
			t.Errorf("multiget bytes of %s = %q; GET gives %q (%v)", o.Href, o.Data, g.Data, err)
		}
	}
}

func testQueryAll(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	rec := &recorder{}
	c := srv.Client(t, carddav.WithHTTPClient(rec.client()))
	ab := newBook(ctx, t, srv, c, "queryall")
	members := putCards(ctx, t, c, ab, "queryall", 12)

	rec.reset()
	got := map[string]carddav.Object{}
	err := c.QueryAll(ctx, ab.URL, func(o carddav.Object) error {
		if _, dup := got[o.Href]; dup {
			t.Errorf("QueryAll handed %s twice", o.Href)
		}
		got[o.Href] = o
		return nil
	})
	if err != nil {
		t.Fatalf("QueryAll: %v", err)
	}
	if n := rec.count("REPORT"); n != 1 || len(got) != len(members) {
		t.Fatalf("QueryAll sent %d REPORTs and gave %d objects; want 1 and %d", n, len(got), len(members))
	}
	for href, etag := range members {
		o := got[href]
		if o.Err != nil || !o.ETag.Equal(etag) {
			t.Errorf("QueryAll object %s = %s, %v; want ETag %s", href, o.ETag, o.Err, etag)
			continue
		}
		// Byte for byte what a GET returns, like a multiget.
		g, err := c.Get(ctx, href)
		if err != nil || !bytes.Equal(g.Data, o.Data) {
			t.Errorf("query bytes of %s = %q; GET gives %q (%v)", href, o.Data, g.Data, err)
		}
	}

	stop := errors.New("stop")
	seen := 0
	err = c.QueryAll(ctx, ab.URL, func(carddav.Object) error { seen++; return stop })
	if !errors.Is(err, stop) || seen != 1 {
		t.Errorf("QueryAll with a callback that stops: %v after %d objects; want the callback's error after 1", err, seen)
	}
}

func testListETags(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "listetags")
	members := putCards(ctx, t, c, ab, "listetags", 4)
	l, err := c.ListETags(ctx, ab.URL)
	if err != nil {
		t.Fatalf("ListETags: %v", err)
	}
	if got := memberMap(l.Members); !equalETags(got, members) || len(l.Rejected) != 0 {
		t.Errorf("ListETags = %+v; want %v", l, members)
	}
}

func testWeakETags(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	// Like a compressing proxy in front of the server: every ETag it passes on is weakened.
	weak := &weakener{next: http.DefaultTransport}
	c := srv.Client(t, carddav.WithHTTPClient(&http.Client{Transport: weak, CheckRedirect: noRedirect}))
	ab := newBook(ctx, t, srv, c, "weak")
	href := carddav.HrefForUID(ab.URL, "weak-1")
	e1, err := c.Put(ctx, href, card("weak-1", "one"), carddav.CreateOnly())
	if err != nil || !e1.Weak() {
		t.Fatalf("put through the weakening proxy: %q, %v; want a weak ETag", e1, err)
	}
	ms := members(ctx, t, srv, c, ab)
	if len(ms) != 1 || !ms[0].ETag.Weak() || !ms[0].ETag.Equal(e1) {
		t.Fatalf("listing through the proxy = %+v; want one member with weak ETag equal to %s", ms, e1)
	}
	e2, err := c.Put(ctx, href, card("weak-1", "two"), carddav.IfMatch(ms[0].ETag))
	if err != nil {
		t.Fatalf("update with a weak ETag: %v", err)
	}
	_, err = c.Put(ctx, href, card("weak-1", "three"), carddav.IfMatch(e1))
	wantPrecondition(t, "update with a stale weak ETag", err)
	if err := c.Delete(ctx, href, e2); err != nil {
		t.Errorf("delete with a weak ETag: %v", err)
	}
}

func testHrefForUID(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "uids")
	uids := []string{
		"plain-uid@example.org",
		"urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
		"a/b?c#d",
		"../../escape",
		"ünïcødé ünd spaces",
		strings.Repeat("long", 100),
		"%2F%2e%2e",
	}
	want := map[string]bool{}
	for _, uid := range uids {
		href := carddav.HrefForUID(ab.URL, uid)
		want[href] = true
		if _, err := c.Put(ctx, href, card(uid, "x"), carddav.CreateOnly()); err != nil {
			t.Errorf("put %q at %s: %v", uid, href, err)
			continue
		}
		// A second upload of the same contact meets the first: no duplicate.
		_, err := c.Put(ctx, carddav.HrefForUID(ab.URL, uid), card(uid, "x"), carddav.CreateOnly())
		wantPrecondition(t, "re-upload of "+uid, err)
	}
	got := map[string]bool{}
	for _, m := range members(ctx, t, srv, c, ab) {
		got[m.Href] = true
	}
	if len(got) != len(want) {
		t.Errorf("listed %v; want %v", got, want)
	}
	for h := range want {
		if !got[h] {
			t.Errorf("%s not listed as written", h)
		}
	}
}

func testWrongPassword(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	if srv.Username == "" {
		t.Skipf("%s runs without authentication", srv.Name)
	}
	c, err := carddav.New(srv.URL, carddav.WithBasicAuth(srv.Username, "wrong-"+srv.Password))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Discover(ctx)
	if !errors.Is(err, carddav.ErrUnauthorized) {
		t.Errorf("Discover with a wrong password: %v; want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), srv.Password) {
		t.Errorf("error %q contains the password", err)
	}
}

// newBook creates an address book of its own for one subtest, in the test user's home set.
func newBook(ctx context.Context, t *testing.T, srv *carddavtest.Server, c *carddav.Client, name string) carddav.AddressBook {
	t.Helper()
	d, err := c.Discover(ctx)
	if err != nil || len(d.HomeSets) == 0 {
		t.Fatalf("discover home set: %+v, %v", d, err)
	}
	ab, err := c.CreateAddressBook(ctx, d.HomeSets[0]+name+"/", name, "test book "+name)
	if err != nil {
		t.Fatalf("create address book %s: %v", name, err)
	}
	return ab
}

// putCards creates n contacts and returns their hrefs and ETags.
func putCards(ctx context.Context, t *testing.T, c *carddav.Client, ab carddav.AddressBook, prefix string, n int) map[string]carddav.ETag {
	t.Helper()
	out := map[string]carddav.ETag{}
	for i := range n {
		uid := fmt.Sprintf("%s-%d", prefix, i)
		href := carddav.HrefForUID(ab.URL, uid)
		e, err := c.Put(ctx, href, card(uid, "Contact "+uid), carddav.CreateOnly())
		if err != nil {
			t.Fatalf("put %s: %v", href, err)
		}
		out[href] = e
	}
	return out
}

func card(uid, name string) []byte {
	return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + name + "\r\nN:" + name + ";;;;\r\nEND:VCARD\r\n")
}

func wantPrecondition(t *testing.T, what string, err error) {
	t.Helper()
	var he *carddav.HTTPError
	if !errors.Is(err, carddav.ErrPreconditionFailed) || !errors.As(err, &he) || he.Status != http.StatusPreconditionFailed {
		t.Errorf("%s: %v; want *HTTPError 412 matching ErrPreconditionFailed", what, err)
	}
}

func memberMap(ms []carddav.Member) map[string]carddav.ETag {
	out := map[string]carddav.ETag{}
	for _, m := range ms {
		out[m.Href] = m.ETag
	}
	return out
}

func equalETags(a, b map[string]carddav.ETag) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !v.Equal(b[k]) {
			return false
		}
	}
	return true
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// recorder is an HTTP client that notes each request's method and path before passing it on.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) client() *http.Client {
	return &http.Client{CheckRedirect: noRedirect, Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.EscapedPath())
		r.mu.Unlock()
		return http.DefaultTransport.RoundTrip(req)
	})}
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = nil
}

func (r *recorder) count(method string) int {
	n := 0
	for _, q := range r.requests() {
		if strings.HasPrefix(q, method+" ") {
			n++
		}
	}
	return n
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// weakener turns every strong ETag in response headers and getetag properties into a weak one, as nginx
// does when it compresses a response.
type weakener struct{ next http.RoundTripper }

var getetagRE = regexp.MustCompile(`(<(?:[A-Za-z0-9]+:)?getetag>)"`)

func (w *weakener) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if e := resp.Header.Get("ETag"); strings.HasPrefix(e, `"`) {
		resp.Header.Set("ETag", "W/"+e)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = getetagRE.ReplaceAll(body, []byte(`${1}W/"`))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

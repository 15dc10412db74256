package carddavserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
)

// TestWithProjectClient runs the project's CardDAV client against the server. The cases share one server;
// each works in an address book of its own.
func TestWithProjectClient(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	for _, tc := range []struct {
		name string
		run  func(context.Context, *testing.T, *carddavtest.Server)
	}{
		{"discovery from the bare root", testDiscovery},
		{"conditional put and delete", testConditionalWrites},
		{"sync-collection initial, incremental, deletions", testSyncCollection},
		{"sync-collection pages with a limit", testSyncPaging},
		{"invalid sync tokens", testInvalidTokens},
		{"multiget", testMultiGet},
		{"query everything", testQueryAll},
		{"ListETags", testListETags},
		{"UID conflict", testUIDConflict},
		{"invalid vCards rejected", testInvalidVCards},
		{"create and delete address books", testAddressBooks},
		{"authentication and access", testAuth},
		{"concurrent devices", testConcurrentDevices},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(testCtx(t), t, srv) })
	}
}

func testDiscovery(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	d, err := c.Discover(ctx)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if d.Principal != "/principals/test/" || !slices.Equal(d.HomeSets, []string{"/addressbooks/test/"}) {
		t.Errorf("principal %q, home sets %q; want /principals/test/ and [/addressbooks/test/]", d.Principal, d.HomeSets)
	}
	ab, err := d.Choose(srv.AddressBookURL)
	if err != nil {
		t.Fatalf("Choose(%s): %v (books %+v)", srv.AddressBookURL, err, d.AddressBooks)
	}
	if !ab.SupportsSync || ab.SyncToken == "" || ab.CTag == "" || ab.DisplayName != "Contacts" {
		t.Errorf("default book = %+v; want sync support, a token, a ctag and display name Contacts", ab)
	}
}

func testConditionalWrites(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "writes")
	href := carddav.HrefForUID(ab.URL, "w-1")
	v1, v2, v3 := card("w-1", "One"), card("w-1", "Two"), card("w-1", "Three")

	e1, err := c.Put(ctx, href, v1, carddav.CreateOnly())
	if err != nil || e1 == "" || e1.Weak() {
		t.Fatalf("put new = %q, %v; want a strong ETag", e1, err)
	}
	if _, err := c.Put(ctx, href, v2, carddav.CreateOnly()); !errors.Is(err, carddav.ErrPreconditionFailed) {
		t.Errorf("If-None-Match: * on an existing member: %v; want 412", err)
	}
	e2, err := c.Put(ctx, href, v2, carddav.IfMatch(e1))
	if err != nil || e2 == e1 {
		t.Fatalf("update with the current ETag = %q, %v; want a new ETag", e2, err)
	}
	if _, err := c.Put(ctx, href, v3, carddav.IfMatch(e1)); !errors.Is(err, carddav.ErrPreconditionFailed) {
		t.Errorf("update with a stale ETag: %v; want 412", err)
	}
	got, err := c.Get(ctx, href)
	if err != nil || !bytes.Equal(got.Data, v2) || got.ETag != e2 {
		t.Fatalf("get = %+v, %v; want v2 byte for byte with ETag %s", got, err, e2)
	}
	if err := c.Delete(ctx, href, e1); !errors.Is(err, carddav.ErrPreconditionFailed) {
		t.Errorf("delete with a stale ETag: %v; want 412", err)
	}
	if err := c.Delete(ctx, href, e2); err != nil {
		t.Fatalf("delete with the current ETag: %v", err)
	}
	if _, err := c.Get(ctx, href); !errors.Is(err, carddav.ErrNotFound) {
		t.Errorf("get after delete: %v; want 404", err)
	}
	if err := c.Delete(ctx, href, e2); !errors.Is(err, carddav.ErrNotFound) {
		t.Errorf("second delete: %v; want 404", err)
	}
	if _, err := c.Put(ctx, href, v3, carddav.IfMatch(e2)); !errors.Is(err, carddav.ErrPreconditionFailed) {
		t.Errorf("If-Match on a deleted member: %v; want 412", err)
	}
	// Creating again after a delete is allowed, and the same bytes give the same strong ETag.
	if e, err := c.Put(ctx, href, v1, carddav.CreateOnly()); err != nil || e != e1 {
		t.Errorf("re-create = %q, %v; want %q (ETags are content hashes)", e, err, e1)
	}
}

// syncAll pages through sync-collection from token with the given limit and returns what it saw.
func syncAll(ctx context.Context, t *testing.T, c *carddav.Client, ab carddav.AddressBook, token string, limit int) (changed map[string]carddav.ETag, deleted []string, pages int, last string) {
	t.Helper()
	changed = map[string]carddav.ETag{}
	for {
		page, err := c.SyncCollection(ctx, ab.URL, token, limit)
		if err != nil {
			t.Fatalf("sync-collection from %q: %v", token, err)
		}
		pages++
		if limit > 0 && len(page.Changed)+len(page.Deleted) > limit {
			t.Fatalf("page of %d+%d members over the limit %d", len(page.Changed), len(page.Deleted), limit)
		}
		if len(page.Rejected) > 0 {
			t.Fatalf("rejected entries: %+v", page.Rejected)
		}
		for _, m := range page.Changed {
			changed[m.Href] = m.ETag
		}
		deleted = append(deleted, page.Deleted...)
		token = page.Token
		if !page.More {
			return changed, deleted, pages, token
		}
		if pages > 1000 {
			t.Fatal("sync-collection does not end")
		}
	}
}

func testSyncCollection(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "sync")
	hrefs := map[string]carddav.ETag{}
	for i := range 5 {
		h, e := put(ctx, t, c, ab, fmt.Sprintf("s-%d", i), fmt.Sprintf("Person %d", i))
		hrefs[h] = e
	}
	changed, deleted, _, tok1 := syncAll(ctx, t, c, ab, "", 0)
	if len(deleted) != 0 || len(changed) != 5 {
		t.Fatalf("initial sync: %d changed, %d deleted; want 5 and 0", len(changed), len(deleted))
	}
	for h, e := range hrefs {
		if changed[h] != e {
			t.Errorf("initial sync lists %s with ETag %q; want %q", h, changed[h], e)
		}
	}
	changed, deleted, _, tok2 := syncAll(ctx, t, c, ab, tok1, 0)
	if len(changed)+len(deleted) != 0 || tok2 != tok1 {
		t.Errorf("no-op sync: %v changed, %v deleted, token %q -> %q; want nothing and the same token", changed, deleted, tok1, tok2)
	}
	upd := carddav.HrefForUID(ab.URL, "s-1")
	e, err := c.Put(ctx, upd, card("s-1", "Renamed"), carddav.IfMatch(hrefs[upd]))
	if err != nil {
		t.Fatal(err)
	}
	gone := carddav.HrefForUID(ab.URL, "s-2")
	if err := c.Delete(ctx, gone, hrefs[gone]); err != nil {
		t.Fatal(err)
	}
	_, _ = put(ctx, t, c, ab, "s-new", "Newcomer")
	// A member created and deleted between two syncs may be reported deleted; it must not show as changed.
	tmp, tmpTag := put(ctx, t, c, ab, "s-tmp", "Fleeting")
	if err := c.Delete(ctx, tmp, tmpTag); err != nil {
		t.Fatal(err)
	}
	changed, deleted, _, tok3 := syncAll(ctx, t, c, ab, tok2, 0)
	wantChanged := []string{upd, carddav.HrefForUID(ab.URL, "s-new")}
	gotChanged := keys(changed)
	if !slices.Equal(gotChanged, sorted(wantChanged)) || changed[upd] != e {
		t.Errorf("incremental sync changed %v (ETag of %s %q); want %v with %q", gotChanged, upd, changed[upd], sorted(wantChanged), e)
	}
	if !slices.Contains(deleted, gone) || slices.Contains(deleted, upd) {
		t.Errorf("incremental sync deleted %v; want it to hold %s", deleted, gone)
	}
	if tok3 == tok2 {
		t.Error("token did not move after changes")
	}
	// An initial sync never reports deletions.
	changed, deleted, _, _ = syncAll(ctx, t, c, ab, "", 0)
	if len(deleted) != 0 || len(changed) != 5 {
		t.Errorf("second initial sync: %d changed, %v deleted; want 5 and none", len(changed), deleted)
	}
}

func keys(m map[string]carddav.ETag) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func testSyncPaging(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "paging")
	etags := map[string]carddav.ETag{}
	for i := range 25 {
		h, e := put(ctx, t, c, ab, fmt.Sprintf("p-%02d", i), fmt.Sprintf("Paged %d", i))
		etags[h] = e
	}
	changed, _, pages, tok := syncAll(ctx, t, c, ab, "", 10)
	if pages != 3 || len(changed) != 25 {
		t.Fatalf("paged initial sync: %d pages, %d members; want 3 pages and 25", pages, len(changed))
	}
	// Pages cut by revision: a change made between two pages shows up by the end, with its newest ETag.
	page, err := c.SyncCollection(ctx, ab.URL, tok, 0)
	if err != nil || len(page.Changed) != 0 || page.More {
		t.Fatalf("sync after paging = %+v, %v; want nothing more", page, err)
	}
	first, err := c.SyncCollection(ctx, ab.URL, tok, 4)
	if err != nil || len(first.Changed) != 0 || first.More {
		t.Fatalf("empty page = %+v, %v", first, err)
	}
	var updated []string
	for i := range 12 {
		h := carddav.HrefForUID(ab.URL, fmt.Sprintf("p-%02d", i))
		e, err := c.Put(ctx, h, card(fmt.Sprintf("p-%02d", i), "Again"), carddav.IfMatch(etags[h]))
		if err != nil {
			t.Fatal(err)
		}
		etags[h] = e
		updated = append(updated, h)
	}
	page, err = c.SyncCollection(ctx, ab.URL, tok, 5)
	if err != nil || len(page.Changed) != 5 || !page.More {
		t.Fatalf("first page of 12 changes = %d changed, more %v, %v; want 5 and more", len(page.Changed), page.More, err)
	}
	// Change one already sent on this page again: it must come back on a later page.
	again := page.Changed[0].Href
	e, err := c.Put(ctx, again, card(strings.TrimSuffix(again[strings.LastIndex(again, "/")+1:], ".vcf"), "Third"), carddav.IfMatch(etags[again]))
	if err != nil {
		t.Fatal(err)
	}
	etags[again] = e
	rest, _, _, _ := syncAll(ctx, t, c, ab, page.Token, 5)
	for _, m := range page.Changed {
		if _, ok := rest[m.Href]; !ok {
			rest[m.Href] = m.ETag
		}
	}
	if got := keys(rest); !slices.Equal(got, sorted(updated)) {
		t.Errorf("paged incremental sync saw %v; want %v", got, sorted(updated))
	}
	if rest[again] != e {
		t.Errorf("member changed mid-paging ends with ETag %q; want the newest %q", rest[again], e)
	}
}

func testInvalidTokens(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "tokens")
	other := newBook(ctx, t, srv, c, "tokens-other")
	put(ctx, t, c, ab, "t-1", "Token")
	for _, tc := range []struct{ name, token string }{
		{"garbage", "not-a-token"},
		{"another book's token", other.SyncToken},
		{"a revision from the future", strings.TrimSuffix(ab.SyncToken, "/0") + "/99"},
		{"a negative revision", strings.TrimSuffix(ab.SyncToken, "/0") + "/-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.SyncCollection(ctx, ab.URL, tc.token, 0)
			if !errors.Is(err, carddav.ErrInvalidSyncToken) {
				t.Errorf("sync from %q: %v; want ErrInvalidSyncToken", tc.token, err)
			}
		})
	}
}

func testQueryAll(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "queryall")
	bodies := map[string][]byte{}
	etags := map[string]carddav.ETag{}
	for i := range 5 {
		uid := fmt.Sprintf("q-%d", i)
		body := []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + uid + "\r\nFN:Zoë <&> " + uid + "\r\nEND:VCARD\r\n")
		h := carddav.HrefForUID(ab.URL, uid)
		etag, err := c.Put(ctx, h, body, carddav.CreateOnly())
		if err != nil {
			t.Fatal(err)
		}
		bodies[h], etags[h] = body, etag
	}
	got := map[string]carddav.Object{}
	if err := c.QueryAll(ctx, ab.URL, func(o carddav.Object) error { got[o.Href] = o; return nil }); err != nil {
		t.Fatalf("QueryAll: %v", err)
	}
	if len(got) != len(bodies) {
		t.Fatalf("QueryAll gave %d objects; want %d", len(got), len(bodies))
	}
	for h, body := range bodies {
		if o := got[h]; o.Err != nil || !bytes.Equal(o.Data, body) || o.ETag != etags[h] {
			t.Errorf("%s came back as %q %s %v; want %q %s", h, o.Data, o.ETag, o.Err, body, etags[h])
		}
	}
}

func testMultiGet(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "multiget")
	var hrefs []string
	bodies := map[string][]byte{}
	for i := range 7 {
		uid := fmt.Sprintf("m-%d", i)
		// Escapes, a folded line and non-ASCII text must all come back byte for byte.
		body := []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + uid + "\r\nFN:Zoë <&> \"Ünïcode\" " + uid +
			"\r\nNOTE:line one\\nline two\\, with a comma and a very long text that goes on and on and on an\r\n d on\r\nEND:VCARD\r\n")
		h := carddav.HrefForUID(ab.URL, uid)
		if _, err := c.Put(ctx, h, body, carddav.CreateOnly()); err != nil {
			t.Fatal(err)
		}
		hrefs = append(hrefs, h)
		bodies[h] = body
	}
	missing := carddav.HrefForUID(ab.URL, "nobody")
	objs, err := c.MultiGet(ctx, ab.URL, append(hrefs, missing))
	if err != nil {
		t.Fatalf("MultiGet: %v", err)
	}
	for _, o := range objs {
		switch {
		case o.Href == missing:
			if !errors.Is(o.Err, carddav.ErrNotFound) {
				t.Errorf("missing member: %v; want ErrNotFound", o.Err)
			}
		case o.Err != nil:
			t.Errorf("%s: %v", o.Href, o.Err)
		case !bytes.Equal(o.Data, bodies[o.Href]):
			t.Errorf("%s came back as %q; want %q", o.Href, o.Data, bodies[o.Href])
		default:
			g, err := c.Get(ctx, o.Href)
			if err != nil || g.ETag != o.ETag {
				t.Errorf("%s: multiget ETag %q, GET ETag %q (%v); want equal", o.Href, o.ETag, g.ETag, err)
			}
		}
	}
}

func testListETags(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "listing")
	want := map[string]carddav.ETag{}
	for i := range 3 {
		h, e := put(ctx, t, c, ab, fmt.Sprintf("l-%d", i), "Listed")
		want[h] = e
	}
	l, err := c.ListETags(ctx, ab.URL)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]carddav.ETag{}
	for _, m := range l.Members {
		got[m.Href] = m.ETag
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(l.Rejected) != 0 {
		t.Errorf("ListETags = %v (rejected %v); want %v", got, l.Rejected, want)
	}
}

func testUIDConflict(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "uids")
	first, _ := put(ctx, t, c, ab, "same-uid", "First")
	_, err := c.Put(ctx, ab.URL+"elsewhere.vcf", card("same-uid", "Second"), carddav.CreateOnly())
	var he *carddav.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusConflict || he.Condition != "urn:ietf:params:xml:ns:carddav no-uid-conflict" {
		t.Fatalf("second resource with the same UID: %v; want 409 no-uid-conflict", err)
	}
	r := raw(t, srv, "PUT", strings.TrimPrefix(ab.Href, "")+"elsewhere.vcf", map[string]string{"Content-Type": "text/vcard"}, string(card("same-uid", "Second")))
	if r.status != http.StatusConflict || !strings.Contains(r.body, "<d:href>"+first+"</d:href>") {
		t.Errorf("409 body %q does not name the clashing resource %s", r.body, first)
	}
	// The same UID under the same href is an update, not a conflict; a freed UID can be used again.
	if _, err := c.Put(ctx, first, card("same-uid", "Updated"), carddav.Condition{}); err != nil {
		t.Errorf("update in place: %v", err)
	}
	if err := c.Delete(ctx, first, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, ab.URL+"elsewhere.vcf", card("same-uid", "Second"), carddav.CreateOnly()); err != nil {
		t.Errorf("UID free again after delete: %v", err)
	}
}

func testInvalidVCards(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "invalid")
	for _, tc := range []struct {
		name, body string
	}{
		{"garbage", "this is not a vcard\r\n"},
		{"no END", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\n"},
		{"no UID", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nobody\r\nEND:VCARD\r\n"},
		{"two cards", string(card("a", "A")) + string(card("b", "B"))},
		{"not UTF-8", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:caf\xe9\r\nEND:VCARD\r\n"},
		{"control character", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:bell\x07\r\nEND:VCARD\r\n"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			href := ab.URL + "bad.vcf"
			_, err := c.Put(ctx, href, []byte(tc.body), carddav.CreateOnly())
			var he *carddav.HTTPError
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest || he.Condition != "urn:ietf:params:xml:ns:carddav valid-address-data" {
				t.Errorf("put: %v; want 400 valid-address-data", err)
			}
			if _, err := c.Get(ctx, href); !errors.Is(err, carddav.ErrNotFound) {
				t.Errorf("rejected vCard was stored: %v", err)
			}
		})
	}
}

func testAddressBooks(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	c := srv.Client(t)
	ab := newBook(ctx, t, srv, c, "made")
	if ab.DisplayName != "made" || !ab.SupportsSync {
		t.Errorf("created book = %+v", ab)
	}
	d, err := c.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Choose(ab.URL); err != nil || got.Href != ab.Href {
		t.Errorf("new book not discovered: %v", err)
	}
	if _, err := c.CreateAddressBook(ctx, ab.URL, "again", ""); !errors.Is(err, carddav.ErrMethodNotAllowed) {
		t.Errorf("creating an existing book: %v; want 405", err)
	}
	put(ctx, t, c, ab, "made-1", "Made")
	page, err := c.SyncCollection(ctx, ab.URL, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAddressBook(ctx, ab.URL); err != nil {
		t.Fatalf("delete book: %v", err)
	}
	if _, err := c.AddressBook(ctx, ab.URL); !errors.Is(err, carddav.ErrNotFound) {
		t.Errorf("deleted book still answers: %v", err)
	}
	again := newBook(ctx, t, srv, c, "made")
	if _, err := c.SyncCollection(ctx, again.URL, page.Token, 0); !errors.Is(err, carddav.ErrInvalidSyncToken) {
		t.Errorf("token of the deleted book accepted by its successor: %v", err)
	}
	if got, err := c.SyncCollection(ctx, again.URL, "", 0); err != nil || len(got.Changed) != 0 {
		t.Errorf("recreated book lists %+v, %v; want it empty", got, err)
	}
}

func testAuth(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	wrong, err := carddav.New(srv.URL, carddav.WithBasicAuth(srv.Username, srv.Password+"x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Discover(ctx); !errors.Is(err, carddav.ErrUnauthorized) {
		t.Errorf("wrong password: %v; want 401", err)
	}
	nobody, err := carddav.New(srv.URL, carddav.WithBasicAuth("nobody", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nobody.Discover(ctx); !errors.Is(err, carddav.ErrUnauthorized) {
		t.Errorf("unknown user: %v; want 401", err)
	}
	pw := srv.AddUser(t, "mallory")
	m, err := carddav.New(srv.URL, carddav.WithBasicAuth("mallory", pw))
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Discover(ctx)
	if err != nil || len(d.AddressBooks) != 1 || d.AddressBooks[0].Href != "/addressbooks/mallory/contacts/" {
		t.Fatalf("second user's discovery = %+v, %v; want only their own default book", d, err)
	}
	if _, err := m.SyncCollection(ctx, srv.AddressBookURL, "", 0); !errors.Is(err, carddav.ErrForbidden) {
		t.Errorf("another user's book: %v; want 403", err)
	}
	if _, err := m.Put(ctx, carddav.HrefForUID(srv.AddressBookURL, "intruder"), card("intruder", "X"), carddav.CreateOnly()); !errors.Is(err, carddav.ErrForbidden) {
		t.Errorf("PUT into another user's book: %v; want 403", err)
	}
	// A changed password takes effect at once, even though the old one was cached.
	if err := srv.Embedded(t).SetPassword(ctx, "mallory", "new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Discover(ctx); !errors.Is(err, carddav.ErrUnauthorized) {
		t.Errorf("old password after a change: %v; want 401", err)
	}
	if err := srv.Embedded(t).RemoveUser(ctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	m2, _ := carddav.New(srv.URL, carddav.WithBasicAuth("mallory", "new password"))
	if _, err := m2.Discover(ctx); !errors.Is(err, carddav.ErrUnauthorized) {
		t.Errorf("removed user: %v; want 401", err)
	}
}

// testConcurrentDevices has several clients write and sync one address book at once, each keeping a view
// built from paged incremental syncs. At the end each device catches up from its own token and must land
// exactly on a fresh full listing.
func testConcurrentDevices(ctx context.Context, t *testing.T, srv *carddavtest.Server) {
	setup := srv.Client(t)
	ab := newBook(ctx, t, srv, setup, "devices")
	const devices, perDevice = 4, 15
	type device struct {
		c     *carddav.Client
		view  map[string]carddav.ETag
		token string
	}
	devs := make([]*device, devices)
	for d := range devs {
		devs[d] = &device{c: srv.Client(t), view: map[string]carddav.ETag{}}
	}
	pull := func(dev *device) error {
		for {
			page, err := dev.c.SyncCollection(ctx, ab.URL, dev.token, 7)
			if err != nil {
				return err
			}
			for _, m := range page.Changed {
				dev.view[m.Href] = m.ETag
			}
			for _, h := range page.Deleted {
				delete(dev.view, h)
			}
			dev.token = page.Token
			if !page.More {
				return nil
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, devices)
	for d, dev := range devs {
		wg.Go(func() {
			for i := range perDevice {
				uid := fmt.Sprintf("dev%d-%d", d, i)
				h := carddav.HrefForUID(ab.URL, uid)
				e, err := dev.c.Put(ctx, h, card(uid, "Device"), carddav.CreateOnly())
				if err == nil && i%3 == 0 {
					err = dev.c.Delete(ctx, h, e)
				}
				if err == nil && i%4 == 0 {
					err = pull(dev)
				}
				if err != nil {
					errs <- fmt.Errorf("device %d: %w", d, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	full, _, _, _ := syncAll(ctx, t, setup, ab, "", 0)
	if want := devices * (perDevice - (perDevice+2)/3); len(full) != want {
		t.Errorf("final listing has %d members; want %d", len(full), want)
	}
	for d, dev := range devs {
		if err := pull(dev); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(dev.view) != fmt.Sprint(full) {
			t.Errorf("device %d's incremental view (%d members) differs from the full listing (%d)", d, len(dev.view), len(full))
		}
	}
}

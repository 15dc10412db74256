package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/storage"
)

// TestAgainstServers runs every sync scenario against each real server, each case in a fresh address book.
func TestAgainstServers(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"initial upload", testInitialUpload},
		{"download onto an empty device", testDownload},
		{"download by one query", testDownloadByQuery},
		{"query cut short, the rest by multiget", testQueryCutShort},
		{"resync by query keeps local edits", testResyncByQuery},
		{"three devices converge", testThreeDevices},
		{"no-op sync is one request", testNoOp},
		{"412 race merges and retries", testPreconditionRace},
		{"412 on create merges with the other copy", testCreateRace},
		{"remote deletion vs local edit", testRemoteDeleteVsLocalEdit},
		{"local deletion vs remote edit", testLocalDeleteVsRemoteEdit},
		{"mass deletion guard", testMassDeletionGuard},
		{"first sync merges same UID", testFirstSyncMerge},
		{"non-syncable contacts never uploaded", testNonSyncable},
		{"invalid sync token means full resync", testInvalidToken},
		{"server without sync-collection", testListingFallback},
		{"malformed remote card set aside", testMalformedSetAside},
		{"card without UID gets one", testNoUID},
		{"two remotes", testTwoRemotes},
		{"Retry-After honoured", testRetryAfter},
		{"lost response to a create", testLostResponse},
		{"401 stops the remote", testUnauthorized},
		{"worker pushes on commit and pulls on trigger", testWorker},
		{"kill after a create, then a removal", testCreateInDoubtThenRemove},
		{"kill after a create edited elsewhere, then a removal", testCreateInDoubtEditedElsewhere},
		{"kill after an update, then a delete", testUpdateInDoubtThenDelete},
		{"delete after a rewrite without change", testDeleteAfterRewrite},
		{"412 after a reset after write", testPreconditionAfterReset},
		{"conflict kept when the device edits during a merge", testConflictKeptWhenStale},
		{"conflict kept when killed after uploading a merge", testKillAfterMergeUpload},
		{"server keeps the content of an upload", testServerKeepsContent},
		{"two edits beat a delete and merge", testTwoEditsBeatADelete},
		{"nothing pending after a merged conflict", testNothingPendingAfterConflict},
		{"set-aside items a listing no longer shows are forgotten", testSetAsideForgotten},
		{"the server's rewriting of an upload is adopted", testRewriteAdopted},
		{"tags missing from PUT answers come from one fetch", testTaglessPuts},
		{"uploads are read back until the server is known", testReadBackOnce},
	}
	for _, name := range carddavtest.Names {
		t.Run(name, func(t *testing.T) {
			srv := carddavtest.Start(t, name)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t, srv)) })
			}
		})
	}
}

func importCards(t *testing.T, d *device, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		data := synthetic.Card(7, i)
		d.add(data)
		cards, _ := vcard.Parse(data)
		ids = append(ids, cards[0].UID())
	}
	return ids
}

func testInitialUpload(t *testing.T, e *env) {
	a := e.device()
	importCards(t, a, 25)
	st := a.sync()
	if st.Uploaded != 25 || st.Downloaded != 0 {
		t.Fatalf("first sync: %+v, want 25 uploaded and nothing downloaded", st)
	}
	e.converged(a)
	if st := a.sync(); st.Uploaded != 0 || st.Downloaded != 0 {
		t.Fatalf("second sync moved contacts: %+v", st)
	}
	if s := a.status(); s.Pending != 0 || s.Mirrored != 25 || (s.SyncToken == "") == e.srv.SyncCollection || s.LastError != "" {
		t.Fatalf("status after sync: %+v", s)
	}
}

func testDownload(t *testing.T, e *env) {
	for i := range 30 {
		e.put(fmt.Sprintf("other-%d.vcf", i), synthetic.Card(9, i))
	}
	b := e.device()
	st := b.sync()
	if st.Downloaded != 30 || st.Uploaded != 0 {
		t.Fatalf("download: %+v, want 30 downloaded and nothing uploaded", st)
	}
	e.converged(b)
	// Nothing pulled may be pushed back: the changes came from this remote.
	if s := b.status(); s.Pending != 0 {
		t.Fatalf("%d downloaded contacts pending upload", s.Pending)
	}
}

// A full pull that leaves most of the book to fetch asks for all of it in one query.
func testDownloadByQuery(t *testing.T, e *env) {
	for i := range 30 {
		e.put(fmt.Sprintf("other-%d.vcf", i), synthetic.Card(9, i))
	}
	b := e.device(engine.WithQueryMin(10), engine.WithBatch(7))
	b.tr.reset(nil)
	st := b.sync()
	if st.Downloaded != 30 || st.Uploaded != 0 {
		t.Fatalf("download: %+v, want 30 downloaded and nothing uploaded", st)
	}
	// The collection's supported-report-set (asked before a first sync-collection), the listing, one query
	// where multigets of 7 would have taken 5 requests, and the pull that closes a sync.
	if n := b.tr.count(); n != 4 {
		t.Fatalf("download sent %d requests; want 4 (supported-report-set, listing, query, closing pull)", n)
	}
	e.converged(b)
	if s := b.status(); s.Pending != 0 || (s.SyncToken == "") == e.srv.SyncCollection {
		t.Fatalf("status after the download: %+v", s)
	}
}

// cutShort is a server whose query answer breaks off after `after` members, or gives members without data.
type cutShort struct {
	engine.Remote
	after  int
	noData bool
}

func (c cutShort) FetchAll(ctx context.Context, fn func(storage.Object) error) error {
	n := 0
	err := c.Remote.FetchAll(ctx, func(o storage.Object) error {
		if n == c.after {
			return errStopQuery
		}
		n++
		if c.noData {
			o.Data, o.Err = nil, fmt.Errorf("no address-data: %w", storage.ErrGone)
		}
		return fn(o)
	})
	if errors.Is(err, errStopQuery) {
		return errors.New("REPORT: response body over the size limit")
	}
	return err
}

var errStopQuery = errors.New("stop")

// countQueries counts the queries a device makes.
type countQueries struct {
	engine.Remote
	n *int
}

func (c countQueries) FetchAll(ctx context.Context, fn func(storage.Object) error) error {
	*c.n++
	return c.Remote.FetchAll(ctx, fn)
}

func testQueryCutShort(t *testing.T, e *env) {
	for i := range 30 {
		e.put(fmt.Sprintf("other-%d.vcf", i), synthetic.Card(9, i))
	}
	for _, tc := range []struct {
		name string
		cut  cutShort
	}{
		{"after 12 members", cutShort{after: 12}},
		{"members without data", cutShort{after: 30, noData: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.deviceWith(func(r engine.Remote) engine.Remote { tc.cut.Remote = r; return tc.cut },
				engine.WithQueryMin(10), engine.WithBatch(5))
			st := b.sync()
			// Nothing is taken for deleted: every member comes, by query or by multiget.
			if st.Downloaded != 30 || st.DeletedLocal != 0 || st.SetAside != 0 {
				t.Fatalf("download: %+v, want all 30 downloaded", st)
			}
			e.converged(b)
		})
	}
}

// A full resync by query (the server forgot the token) merges with what the device changed meanwhile.
func testResyncByQuery(t *testing.T, e *env) {
	a := e.device(engine.WithQueryMin(5))
	ids := importCards(t, a, 12)
	a.sync()
	queries := 0
	b := e.deviceWith(func(r engine.Remote) engine.Remote { return countQueries{r, &queries} }, engine.WithQueryMin(5))
	if st := b.sync(); st.Downloaded != 12 || queries != 1 {
		t.Fatalf("first download: %+v with %d queries; want 12 downloaded by 1 query", st, queries)
	}
	// Most of the book changes elsewhere, so the resync fetches it by query.
	for _, id := range append([]string{ids[0]}, ids[2:9]...) {
		a.edit(id, addProp("EMAIL", "from-a@example.com"))
	}
	a.sync()
	b.edit(ids[0], addProp("EMAIL", "from-b@example.com"))
	b.edit(ids[1], addProp("EMAIL", "only-b@example.com"))
	b.setToken(invalidToken(e))
	if st := b.sync(); st.Downloaded != 7 || st.Merged != 1 || st.Uploaded != 2 || queries != 2 {
		t.Fatalf("resync: %+v with %d queries in all; want 7 downloaded, 1 merged, 2 uploaded, by a second query", st, queries)
	}
	a.sync()
	cards := e.converged(a, b)
	for _, want := range []string{"from-a@example.com", "from-b@example.com"} {
		if !strings.Contains(cards[ids[0]], want) {
			t.Errorf("after the resync %s lacks %s:\n%s", ids[0], want, cards[ids[0]])
		}
	}
	if !strings.Contains(cards[ids[1]], "only-b@example.com") {
		t.Errorf("b's edit of %s was lost:\n%s", ids[1], cards[ids[1]])
	}
}

func testThreeDevices(t *testing.T, e *env) {
	a, b, c := e.device(), e.device(), e.device()
	ids := importCards(t, a, 6)
	a.sync()
	b.sync()
	c.sync()
	e.converged(a, b, c)

	a.edit(ids[0], set("TITLE", "Director"))
	b.remove(ids[1])
	c.add(card("new-on-c", "Carol New", "TEL:+1 555 0100"))
	// The same contact edited on two devices at once, in different fields.
	a.edit(ids[2], addProp("TEL", "+44 20 7946 0000"))
	b.edit(ids[2], set("NOTE", "edited on b"))
	for range 2 {
		for _, d := range []*device{a, b, c} {
			d.sync()
		}
	}
	cards := e.converged(a, b, c)
	if !strings.Contains(cards[ids[0]], "TITLE:Director") {
		t.Errorf("update lost: %q", cards[ids[0]])
	}
	if _, ok := cards[ids[1]]; ok {
		t.Errorf("deleted contact still there")
	}
	if _, ok := cards["new-on-c"]; !ok {
		t.Errorf("created contact missing")
	}
	if m := cards[ids[2]]; !strings.Contains(m, "+44 20 7946 0000") || !strings.Contains(m, "NOTE:edited on b") {
		t.Errorf("concurrent edits not both kept: %q", m)
	}
}

func testNoOp(t *testing.T, e *env) {
	a := e.device()
	importCards(t, a, 10)
	a.sync()
	a.tr.reset(nil)
	st := a.sync()
	if n := a.tr.count(); n != 1 {
		t.Fatalf("no-op sync sent %d requests, want 1 (sync-collection)", n)
	}
	if st.Uploaded+st.Downloaded+st.Merged != 0 || st.Requests != 1 || st.Bytes == 0 {
		t.Fatalf("no-op sync stats: %+v, want nothing moved and 1 request counted", st)
	}
}

func testPreconditionRace(t *testing.T, e *env) {
	a, b := e.device(), e.device()
	ids := importCards(t, a, 3)
	a.sync()
	b.sync()
	a.edit(ids[1], set("TITLE", "Chief"))
	// Just before a's conditional PUT reaches the server, b's edit of another field lands there.
	raced := false
	a.tr.reset(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPut && req.Header.Get("If-Match") != "" && !raced {
			raced = true
			b.edit(ids[1], set("NOTE", "b was first"))
			b.sync()
		}
		return nil, nil
	})
	st := a.sync()
	if !raced {
		t.Fatal("the race was never injected")
	}
	if st.Merged == 0 {
		t.Fatalf("no merge after the 412: %+v", st)
	}
	b.sync()
	cards := e.converged(a, b)
	if m := cards[ids[1]]; !strings.Contains(m, "TITLE:Chief") || !strings.Contains(m, "NOTE:b was first") {
		t.Fatalf("an edit was lost: %q", m)
	}
}

func testCreateRace(t *testing.T, e *env) {
	// Two devices create the same UID at once (a contact restored from the same backup): the second upload
	// meets the first with If-None-Match and merges instead of duplicating.
	a, b := e.device(), e.device()
	a.sync()
	b.sync()
	a.add(card("same", "Same Person", "EMAIL:same@example.org"))
	b.add(card("same", "Same Person", "TEL:+1 555 0199"))
	a.sync()
	b.sync()
	a.sync()
	cards := e.converged(a, b)
	if m := cards["same"]; !strings.Contains(m, "EMAIL:same@example.org") || !strings.Contains(m, "TEL:+1 555 0199") {
		t.Fatalf("create race lost a side: %q", m)
	}
}

func testRemoteDeleteVsLocalEdit(t *testing.T, e *env) {
	a := e.device()
	ids := importCards(t, a, 4)
	a.sync()
	e.deleteOnServer(ids[0])
	e.deleteOnServer(ids[1])
	a.edit(ids[0], set("NOTE", "still needed"))
	st := a.sync()
	if st.DeletedLocal != 1 {
		t.Fatalf("want the unedited contact deleted locally: %+v", st)
	}
	cards := e.converged(a)
	if !strings.Contains(cards[ids[0]], "NOTE:still needed") {
		t.Fatalf("edited contact not uploaded again: %q", cards[ids[0]])
	}
	if _, ok := cards[ids[1]]; ok {
		t.Fatal("unedited contact deleted on the server came back")
	}
}

func testLocalDeleteVsRemoteEdit(t *testing.T, e *env) {
	a := e.device()
	ids := importCards(t, a, 3)
	a.sync()
	e.editOnServer(ids[0], set("NOTE", "edited elsewhere"))
	a.remove(ids[0])
	a.remove(ids[1])
	a.sync()
	cards := e.converged(a)
	if !strings.Contains(cards[ids[0]], "NOTE:edited elsewhere") {
		t.Fatalf("remote edit lost to a local delete: %q", cards[ids[0]])
	}
	if _, ok := cards[ids[1]]; ok {
		t.Fatal("local delete not applied on the server")
	}
}

func testMassDeletionGuard(t *testing.T, e *env) {
	a := e.device()
	ids := importCards(t, a, 12)
	a.sync()
	for _, id := range ids[:10] {
		e.deleteOnServer(id)
	}
	_, err := a.syncer.Sync(context.Background())
	if !errors.Is(err, engine.ErrMassDeletion) {
		t.Fatalf("sync after the server lost most contacts: %v, want ErrMassDeletion", err)
	}
	if n := len(a.contacts()); n != 12 {
		t.Fatalf("device has %d contacts after the refused pull, want 12", n)
	}
	if s := a.status(); !strings.Contains(s.LastError, "mass deletion") {
		t.Fatalf("status does not show the refusal: %q", s.LastError)
	}
	allowed, err := engine.NewSyncer(context.Background(), a.store, remoteName, a.env.other.Collection(a.env.ab), engine.AllowMassDeletion(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := allowed.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(a.contacts()); n != 2 {
		t.Fatalf("device has %d contacts after the allowed pull, want 2", n)
	}
}

func testFirstSyncMerge(t *testing.T, e *env) {
	// The server already has the contact (under a name another client chose); so has the device.
	e.put("chosen-by-other-client.vcf", card("shared-uid", "Pat Doe", "TEL:+1 555 0111"))
	e.put("only-remote.vcf", card("only-remote", "Remote Only"))
	a := e.device()
	a.add(card("shared-uid", "Pat Doe", "EMAIL:pat@example.org"))
	a.add(card("only-local", "Local Only"))
	st := a.sync()
	if st.Merged != 1 {
		t.Fatalf("first sync: %+v, want one merge", st)
	}
	cards := e.converged(a)
	if len(cards) != 3 {
		t.Fatalf("server has %d cards, want 3", len(cards))
	}
	if m := cards["shared-uid"]; !strings.Contains(m, "TEL:+1 555 0111") || !strings.Contains(m, "EMAIL:pat@example.org") {
		t.Fatalf("merge lost a side: %q", m)
	}
}

func testNonSyncable(t *testing.T, e *env) {
	e.put("social.vcf", card("social-1", "Server Version", "NOTE:from the server"))
	a := e.device()
	ctx := context.Background()
	for _, c := range []changelog.Contact{
		{ID: "social-1", Data: card("social-1", "Imported Friend"), Source: "facebook"},
		{ID: "social-2", Data: card("social-2", "Other Friend"), Source: "facebook"},
	} {
		if _, err := a.store.Add(ctx, changelog.Local, c); err != nil {
			t.Fatal(err)
		}
	}
	a.add(card("mine", "My Contact"))
	a.sync()
	cards := e.serverCards()
	if _, ok := cards["social-2"]; ok {
		t.Fatal("a non-syncable contact was uploaded")
	}
	if !strings.Contains(cards["social-1"], "Server Version") {
		t.Fatalf("the server's card with a non-syncable UID was overwritten: %q", cards["social-1"])
	}
	if got := a.get("social-1"); !strings.Contains(got, "Imported Friend") {
		t.Fatalf("the non-syncable contact was replaced or merged: %q", got)
	}
	if _, ok := cards["mine"]; !ok {
		t.Fatal("the ordinary contact was not uploaded")
	}
	if s := a.status(); len(s.SetAside) != 1 || !strings.Contains(s.SetAside[0].Reason, "facebook") {
		t.Fatalf("the collision is not listed: %+v", s.SetAside)
	}
}

func testInvalidToken(t *testing.T, e *env) {
	a := e.device()
	importCards(t, a, 5)
	a.sync()
	e.put("while-away.vcf", card("while-away", "Arrived Meanwhile"))
	a.setToken(invalidToken(e))
	st := a.sync()
	if st.Downloaded != 1 {
		t.Fatalf("full resync: %+v, want exactly the one new contact downloaded", st)
	}
	e.converged(a)
	// A server without sync-collection is listed whole on every pull: the token is never used or replaced.
	if s := a.status(); e.srv.SyncCollection && (s.SyncToken == invalidToken(e) || s.SyncToken == "") {
		t.Fatalf("token not replaced: %q", s.SyncToken)
	}
}

// invalidToken is a token of the right shape that the server never issued.
func invalidToken(e *env) string {
	switch e.srv.Name {
	case "radicale":
		return "http://radicale.org/ns/sync/0000000000000000000000000000000000000000000000000000000000000000"
	case "embedded":
		return "http://contactsync.invalid/sync/not-this-book/1"
	}
	return "999999999"
}

// noSyncCollection stands for a server without RFC 6578.
type noSyncCollection struct{ engine.Remote }

func (noSyncCollection) Changes(context.Context, string) (*storage.Page, error) {
	return nil, fmt.Errorf("sync-collection: %w", storage.ErrNotSupported)
}

func testListingFallback(t *testing.T, e *env) {
	a := e.deviceWith(func(r engine.Remote) engine.Remote { return noSyncCollection{r} })
	importCards(t, a, 5)
	a.sync()
	e.put("x.vcf", card("from-elsewhere", "Elsewhere"))
	e.deleteOnServer(importedUID(0))
	st := a.sync()
	if st.Downloaded != 1 || st.DeletedLocal != 1 {
		t.Fatalf("listing pull: %+v, want 1 downloaded and 1 deleted", st)
	}
	e.converged(a)
}

func importedUID(i int) string {
	cards, _ := vcard.Parse(synthetic.Card(7, i))
	return cards[0].UID()
}

// corrupting damages one fetched member, as a broken server or another client's garbage would.
type corrupting struct {
	engine.Remote
	uid string
}

func (c corrupting) Fetch(ctx context.Context, hrefs []string) ([]storage.Object, error) {
	objs, err := c.Remote.Fetch(ctx, hrefs)
	for i := range objs {
		if strings.Contains(string(objs[i].Data), "UID:"+c.uid) {
			objs[i].Data = []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + c.uid + "\r\nthis is no property\r\n")
		}
	}
	return objs, err
}

func testMalformedSetAside(t *testing.T, e *env) {
	e.put("good.vcf", card("good", "Good Card"))
	e.put("bad.vcf", card("bad", "Bad Card"))
	a := e.deviceWith(func(r engine.Remote) engine.Remote { return corrupting{r, "bad"} })
	st := a.sync()
	if st.Downloaded != 1 || st.SetAside != 1 {
		t.Fatalf("sync: %+v, want 1 downloaded and 1 set aside", st)
	}
	if _, ok := a.contacts()["good"]; !ok {
		t.Fatal("the good card was not applied")
	}
	s := a.status()
	if len(s.SetAside) != 1 || !strings.HasSuffix(s.SetAside[0].Ref, "/bad.vcf") || s.SetAside[0].Kind != "pull" {
		t.Fatalf("set-aside list: %+v", s.SetAside)
	}
	// Unchanged on the server, the bad member is not fetched again.
	a.tr.reset(nil)
	a.sync()
	if n := a.tr.count(); n != 1 {
		t.Fatalf("second sync sent %d requests, want 1", n)
	}
}

func testNoUID(t *testing.T, e *env) {
	a := e.device()
	data := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Uid\r\nEND:VCARD\r\n")
	if _, err := a.store.Add(context.Background(), changelog.Local, changelog.Contact{ID: "derived-id", Data: data}); err != nil {
		t.Fatal(err)
	}
	a.sync()
	cards := e.serverCards()
	if !strings.Contains(cards["derived-id"], "FN:No Uid") {
		t.Fatalf("server cards: %v", cards)
	}
	a.tr.reset(nil)
	if st := a.sync(); st.Uploaded != 0 || a.tr.count() != 1 {
		t.Fatalf("the card without UID was uploaded again: %+v, %d requests", st, a.tr.count())
	}
}

func testTwoRemotes(t *testing.T, e *env) {
	// The same device syncs with two address books (two accounts); a change from either reaches the other,
	// and nothing goes back to where it came from.
	e2 := newEnv(t, e.srv)
	a := e.device()
	ctx := context.Background()
	if err := engine.AddRemote(ctx, a.store, engine.RemoteConfig{Name: "second", Endpoint: e2.srv.URL, Kind: engine.KindCardDAV, Collection: e2.ab}); err != nil {
		t.Fatal(err)
	}
	second, err := engine.NewSyncer(ctx, a.store, "second", e2.other.Collection(e2.ab))
	if err != nil {
		t.Fatal(err)
	}
	a.add(card("local-1", "Local One"))
	e.put("r1.vcf", card("from-first", "From First"))
	e2.put("r2.vcf", card("from-second", "From Second"))
	for range 2 {
		a.sync()
		if _, err := second.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, ee := range []*env{e, e2} {
		cards := ee.serverCards()
		if len(cards) != 3 {
			t.Fatalf("address book %s holds %d cards, want 3: %v", ee.ab, len(cards), cards)
		}
	}
	st, err := second.Sync(ctx)
	if err != nil || st.Uploaded != 0 {
		t.Fatalf("settled second remote still uploads: %+v %v", st, err)
	}
}

func testNothingPendingAfterConflict(t *testing.T, e *env) {
	a, b := e.device(), e.device()
	ids := importCards(t, a, 2)
	a.sync()
	b.sync()
	// Both sides change FN differently (a conflict) and each another field too, so the merge differs from both
	// versions: a uploads it and takes it as its own copy. The same two values on two contacts, each side
	// holding the other one, cover whichever value the merge's deterministic rule keeps.
	b.edit(ids[0], set("FN", "Name One"))
	b.edit(ids[0], set("NOTE", "from b"))
	b.edit(ids[1], set("FN", "Name Two"))
	b.edit(ids[1], set("NOTE", "from b"))
	b.sync()
	a.edit(ids[0], set("FN", "Name Two"))
	a.edit(ids[0], set("TITLE", "from a"))
	a.edit(ids[1], set("FN", "Name One"))
	a.edit(ids[1], set("TITLE", "from a"))
	// a's conditional PUTs meet b's versions: a merges, records the conflicts and uploads a merge.
	if st := a.sync(); st.Conflicts == 0 || st.Merged == 0 {
		t.Fatalf("sync: %+v, want a merge with a conflict", st)
	}
	if s := a.status(); s.Pending != 0 || s.Conflicts == 0 {
		t.Fatalf("status after the merged conflict: %d pending, %d conflicts; want nothing pending and the conflict open",
			s.Pending, s.Conflicts)
	}
	// The next push has nothing to send: one request (the pull) is all a sync costs.
	a.tr.reset(nil)
	a.sync()
	if n := a.tr.count(); n != 1 {
		t.Fatalf("the sync after the merge sent %d requests, want 1", n)
	}
	b.sync()
	e.converged(a, b)
}

// rejecting adds, once, an entry a hostile server might send (a member on another host) to the first page.
type rejecting struct {
	engine.Remote
	done *bool
}

var evil = storage.Rejected{Href: "https://elsewhere.example/evil.vcf", Err: errors.New("href outside the collection")}

func (r rejecting) Changes(ctx context.Context, token string) (*storage.Page, error) {
	p, err := r.Remote.Changes(ctx, token)
	if err == nil && !*r.done {
		*r.done = true
		p.Rejected = append(p.Rejected, evil)
	}
	return p, err
}

func (r rejecting) List(ctx context.Context) (*storage.Listing, error) {
	l, err := r.Remote.List(ctx)
	if err == nil && !*r.done {
		*r.done = true
		l.Rejected = append(l.Rejected, evil)
	}
	return l, err
}

func testSetAsideForgotten(t *testing.T, e *env) {
	e.put("good.vcf", card("good", "Good Card"))
	e.put("bad.vcf", card("bad", "Bad Card"))
	done := false
	a := e.deviceWith(func(r engine.Remote) engine.Remote { return rejecting{corrupting{r, "bad"}, &done} })
	a.sync()
	// A server without sync-collection is listed in full at every pull, and a sync pulls twice: the foreign href
	// is forgotten by the second listing of the same sync.
	listing := a.status().SyncToken == ""
	if s := a.status(); (!listing && len(s.SetAside) != 2) || (listing && len(s.SetAside) != 1) {
		t.Fatalf("set aside: %+v, want the bad member and (with sync-collection) the foreign href", s.SetAside)
	}
	// The bad member is deleted on the server: the incremental pull that reports it forgets it.
	if err := e.other.Delete(context.Background(), strings.TrimSuffix(mustPath(t, e.ab), "/")+"/bad.vcf", ""); err != nil {
		t.Fatal(err)
	}
	a.sync()
	s := a.status()
	if listing {
		if len(s.SetAside) != 0 {
			t.Fatalf("after the bad member's deletion, set aside: %+v, want none", s.SetAside)
		}
		return
	}
	if len(s.SetAside) != 1 || !strings.Contains(s.SetAside[0].Ref, "elsewhere.example") {
		t.Fatalf("after the bad member's deletion, set aside: %+v, want only the foreign href", s.SetAside)
	}
	// A full listing that no longer shows the foreign href forgets it too.
	a.setToken("")
	a.sync()
	if s := a.status(); len(s.SetAside) != 0 {
		t.Fatalf("after a full listing, set aside: %+v, want none", s.SetAside)
	}
	if _, ok := a.contacts()["good"]; !ok {
		t.Fatal("the good card is missing")
	}
}

// rewriteProne holds what servers are seen to rewrite: properties out of their usual order and trailing empty
// structured components.
func rewriteProne(uid string) []byte {
	return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nTEL;TYPE=work:+1 555 0100\r\nFN:Rewrite " + uid +
		"\r\nORG:Umbrella Ltd;Legal;;\r\nN:Rewrite;" + uid + ";;;\r\nEND:VCARD\r\n")
}

func testRewriteAdopted(t *testing.T, e *env) {
	a, b := e.device(), e.device()
	for _, uid := range []string{"rw-1", "rw-2", "rw-3"} {
		a.add(rewriteProne(uid))
	}
	a.sync()
	b.sync()
	server := map[string]string{}
	ctx := context.Background()
	listing, err := e.other.ListETags(ctx, e.ab)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range listing.Members {
		o, err := e.other.Get(ctx, m.Href)
		if err != nil {
			t.Fatal(err)
		}
		cards, _ := vcard.Parse(o.Data)
		server[cards[0].UID()] = string(o.Data)
	}
	// Byte for byte, whatever the server did to the uploads: every device holds what the server holds.
	for _, d := range []*device{a, b} {
		for uid, want := range server {
			if got := d.get(uid); got != want {
				t.Fatalf("device copy of %s:\n%q\nserver:\n%q", uid, got, want)
			}
		}
	}
	if s := a.status(); s.Pending != 0 {
		t.Fatalf("%d pending after adopting the server's bytes", s.Pending)
	}
	a.tr.reset(nil)
	if st := a.sync(); st.Uploaded != 0 || a.tr.count() != 1 {
		t.Fatalf("sync after the adoption: %+v in %d requests, want nothing moved in 1", st, a.tr.count())
	}
}

// tagless answers every write without its new tag, as a server that changed what it stored may (RFC 6352), and
// counts the single-object reads.
type tagless struct {
	engine.Remote
	gets, fetches *int
}

func (r tagless) Put(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error) {
	_, err := r.Remote.Put(ctx, href, data, cond)
	return "", err
}

func (r tagless) Get(ctx context.Context, href string) (*storage.Object, error) {
	*r.gets++
	return r.Remote.Get(ctx, href)
}

func (r tagless) Fetch(ctx context.Context, hrefs []string) ([]storage.Object, error) {
	*r.fetches++
	return r.Remote.Fetch(ctx, hrefs)
}

func testTaglessPuts(t *testing.T, e *env) {
	var gets, fetches int
	a := e.deviceWith(func(r engine.Remote) engine.Remote { return tagless{r, &gets, &fetches} })
	importCards(t, a, 30)
	if st := a.sync(); st.Uploaded != 30 {
		t.Fatalf("sync: %+v, want 30 uploaded", st)
	}
	if gets != 0 || fetches != 1 {
		t.Fatalf("the missing tags took %d GETs and %d fetches, want one fetch", gets, fetches)
	}
	// Every tag is known: a no-op sync is one request and uploads nothing again.
	a.tr.reset(nil)
	if st := a.sync(); st.Uploaded != 0 || a.tr.count() != 1 {
		t.Fatalf("no-op sync: %+v in %d requests", st, a.tr.count())
	}
	e.converged(a)
}

// fetchCount counts the multi-object fetches a device makes.
type fetchCount struct {
	engine.Remote
	n *int
}

func (f fetchCount) Fetch(ctx context.Context, hrefs []string) ([]storage.Object, error) {
	*f.n++
	return f.Remote.Fetch(ctx, hrefs)
}

func testReadBackOnce(t *testing.T, e *env) {
	var fetches int
	a := e.deviceWith(func(r engine.Remote) engine.Remote { return fetchCount{r, &fetches} })
	ids := importCards(t, a, 5)
	a.sync()
	if fetches != 1 {
		t.Fatalf("the first uploads were read back in %d fetches, want 1", fetches)
	}
	// Whether this server keeps the bytes it is sent decides whether later uploads are read back too.
	rewrites := e.serverCards()[ids[0]] != string(synthetic.Card(7, 0))
	for i := range 3 {
		a.add(synthetic.Card(8, i))
	}
	// A fresh Syncer on the same store (a restarted worker) knows what the first one found: it is in the store.
	fresh, err := engine.NewSyncer(context.Background(), a.store, remoteName, fetchCount{e.other.Collection(e.ab), &fetches})
	if err != nil {
		t.Fatal(err)
	}
	before := fetches
	if _, err := fresh.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fetches - before; (rewrites && got != 1) || (!rewrites && got != 0) {
		t.Fatalf("later uploads read back in %d fetches on a server that rewrites=%v", got, rewrites)
	}
	e.converged(a)
}

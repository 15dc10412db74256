package engine_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/storage"
)

// Regressions found by the multi-device test bed (engine/testbed): each case replays, against the real server,
// the sequence that lost an edit or brought a deleted contact back there.

// errKilled stands for the process dying after a request reached the server and before its answer arrived.
var errKilled = errors.New("killed before the answer arrived")

// killing passes requests to the real client; once armed, the next PUT reaches the server and then fails with
// errKilled, so the push stops with the upload still announced (pending) in the mirror, as a SIGKILL leaves it.
type killing struct {
	engine.Remote
	armed atomic.Bool
}

func (k *killing) Put(ctx context.Context, href string, body []byte, cond storage.Condition) (storage.Tag, error) {
	etag, err := k.Remote.Put(ctx, href, body, cond)
	if err == nil && k.armed.CompareAndSwap(true, false) {
		return "", errKilled
	}
	return etag, err
}

// killable makes a device whose next PUT can be cut off by arming the returned switch.
func (e *env) killable(opts ...engine.Option) (*device, *killing) {
	var k *killing
	d := e.deviceWith(func(r engine.Remote) engine.Remote { k = &killing{Remote: r}; return k }, opts...)
	return d, k
}

// syncKilled runs a sync that must end in the armed kill.
func (d *device) syncKilled(k *killing) {
	d.t.Helper()
	k.armed.Store(true)
	if _, err := d.syncer.Sync(context.Background()); !errors.Is(err, errKilled) {
		d.t.Fatalf("sync with a kill after the PUT: %v, want the kill", err)
	}
}

// dropValue removes every instance of a multi-valued property holding value.
func dropValue(name, value string) func(*vcard.Card) {
	return func(c *vcard.Card) {
		for _, p := range c.All(name) {
			if p.Text() == value {
				c.Remove(p)
			}
		}
	}
}

func testCreateInDoubtThenRemove(t *testing.T, e *env) {
	// The create reached the server, the worker died before recording it, and the user then removed an e-mail
	// address. The next sync must recognise the server's copy as the device's own upload even where the server
	// re-serialized it (Radicale sorts properties), not merge it as someone else's card without a base, which
	// brings the removed address back.
	a, k := e.killable()
	a.sync()
	a.add(card("doubt", "In Doubt", "EMAIL:keep@example.org", "EMAIL:drop@example.org"))
	a.syncKilled(k)
	a.edit("doubt", dropValue("EMAIL", "drop@example.org"))
	a.sync()
	cards := e.converged(a)
	if m := cards["doubt"]; strings.Contains(m, "drop@example.org") || !strings.Contains(m, "keep@example.org") {
		t.Fatalf("the removal was undone: %q", m)
	}
}

func testCreateInDoubtEditedElsewhere(t *testing.T, e *env) {
	// As above, but another device changed the card on the server before the killed one came back: the server's
	// version is not the device's upload any more. The device's own removal must still hold, and the other
	// device's edit too.
	a, k := e.killable()
	b := e.device()
	a.sync()
	b.sync()
	a.add(card("doubt", "In Doubt", "EMAIL:keep@example.org", "EMAIL:drop@example.org"))
	a.syncKilled(k)
	b.sync()
	b.edit("doubt", set("NOTE", "from b"))
	b.sync()
	a.edit("doubt", dropValue("EMAIL", "drop@example.org"))
	a.sync()
	b.sync()
	cards := e.converged(a, b)
	m := cards["doubt"]
	if strings.Contains(m, "drop@example.org") {
		t.Errorf("the removal was undone: %q", m)
	}
	if !strings.Contains(m, "keep@example.org") || !strings.Contains(m, "NOTE:from b") {
		t.Errorf("an edit was lost: %q", m)
	}
}

func testUpdateInDoubtThenDelete(t *testing.T, e *env) {
	// An update reached the server, the worker died before recording it, and the user then deleted the contact.
	// The server's copy is the device's own upload: the delete must go through, not lose to it as if another
	// device had edited the contact.
	a, k := e.killable()
	ids := importCards(t, a, 3)
	a.sync()
	a.edit(ids[0], set("NOTE", "edited before the kill"))
	a.syncKilled(k)
	a.remove(ids[0])
	a.sync()
	if _, ok := e.converged(a)[ids[0]]; ok {
		t.Fatal("the deleted contact came back")
	}
}

func testDeleteAfterRewrite(t *testing.T, e *env) {
	// Another client wrote the card back with the same content in another order (a client that re-serializes
	// what it saves). That is no edit, so the device's delete wins.
	a := e.device()
	ids := importCards(t, a, 2)
	a.sync()
	e.rewriteOnServer(ids[0])
	a.remove(ids[0])
	a.sync()
	if _, ok := e.converged(a)[ids[0]]; ok {
		t.Fatal("the deleted contact came back")
	}
}

// rewriteOnServer writes a card back in another property order, its content unchanged.
func (e *env) rewriteOnServer(uid string) {
	e.t.Helper()
	href, _ := e.hrefOf(uid)
	o, err := e.other.Get(context.Background(), href)
	if err != nil {
		e.t.Fatal(err)
	}
	unfolded := strings.NewReplacer("\r\n ", "", "\r\n\t", "").Replace(string(o.Data))
	lines := strings.Split(strings.TrimSuffix(unfolded, "\r\n"), "\r\n")
	// BEGIN and VERSION stay first and END last; the properties between them go in reverse order.
	slices.Reverse(lines[2 : len(lines)-1])
	if _, err := e.other.Put(context.Background(), href, []byte(strings.Join(lines, "\r\n")+"\r\n"), carddav.IfMatch(o.ETag)); err != nil {
		e.t.Fatal(err)
	}
}

func testPreconditionAfterReset(t *testing.T, e *env) {
	// The server applies an update but the connection dies before its answer; the retry meets the device's own
	// write as a 412. That is no concurrent edit: nothing to merge, no conflict, the device keeps its card.
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	a := e.device(engine.WithClock(clk))
	ids := importCards(t, a, 2)
	a.sync()
	a.edit(ids[0], set("TITLE", "After Reset"))
	before := a.get(ids[0])
	cut := false
	a.tr.reset(resetAfterWrite(&cut, func(req *http.Request) bool {
		return req.Method == http.MethodPut && req.Header.Get("If-Match") != ""
	}))
	st := a.sync()
	if !cut {
		t.Fatal("fault never injected")
	}
	if st.Merged != 0 || st.Conflicts != 0 {
		t.Errorf("the device's own write was taken for a concurrent edit: %+v", st)
	}
	if got := a.get(ids[0]); got != before {
		t.Errorf("the device's card was rewritten:\n got %q\nwant %q", got, before)
	}
	e.converged(a)
	a.tr.reset(nil)
	if st := a.sync(); st.Uploaded != 0 || a.tr.count() != 1 {
		t.Fatalf("settled contact uploaded again: %+v, %d requests", st, a.tr.count())
	}
}

func testConflictKeptWhenStale(t *testing.T, e *env) {
	// The device merges a concurrent edit of FN, uploads the merge, and the user edits FN again before the
	// merge is recorded on the device. The server holds the merge, so its decision — the other device's FN
	// lost — must be in the conflict list even though the device does not take the merge as it is.
	a, b := e.device(), e.device()
	a.add(card("x", "Original"))
	a.sync()
	b.sync()
	b.edit("x", set("FN", "Amy"))
	b.sync()
	a.edit("x", set("FN", "Zed")) // with no REV on either side, the greater value wins: Zed
	puts := 0
	a.tr.reset(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodPut || req.Header.Get("If-Match") == "" {
			return nil, nil
		}
		if puts++; puts != 2 { // the first meets b's edit (412); the second carries the merge
			return nil, nil
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil && resp.StatusCode < 300 {
			a.edit("x", set("FN", "Zed Two"))
		}
		return resp, err
	})
	a.sync()
	if puts < 2 {
		t.Fatalf("the merge was never uploaded (%d conditional PUTs)", puts)
	}
	a.tr.reset(nil)
	b.sync()
	cards := e.converged(a, b)
	if !strings.Contains(cards["x"], "FN:Zed Two") {
		t.Fatalf("the later edit was lost: %q", cards["x"])
	}
	requireConflict(t, a, "x", "FN", "FN:Amy")
}

func testKillAfterMergeUpload(t *testing.T, e *env) {
	// The device merges a concurrent edit of FN, uploads the merge, and dies before recording it. The merge on
	// the server keeps the device's FN, so merging again after the restart finds nothing in conflict: the
	// other device's dropped FN must have been recorded before the upload.
	a, k := e.killable()
	b := e.device()
	a.add(card("x", "Original"))
	a.sync()
	b.sync()
	b.edit("x", set("FN", "Amy"))
	b.sync()
	a.edit("x", set("FN", "Zed")) // with no REV on either side, the greater value wins: Zed
	a.syncKilled(k)               // the first PUT meets b's edit (412); the merge's PUT lands, then the kill
	a.sync()
	b.sync()
	cards := e.converged(a, b)
	if !strings.Contains(cards["x"], "FN:Zed") {
		t.Fatalf("merge lost: %q", cards["x"])
	}
	requireConflict(t, a, "x", "FN", "FN:Amy")
}

func testTwoEditsBeatADelete(t *testing.T, e *env) {
	// One device deletes a contact while two others edit it, each learning of the deletion in a pull before its
	// push: both edits beat the delete and both devices upload the contact again. The second upload meets the
	// first; their merge must start from the version both edited (the mirror's base), or a removal on one
	// device cannot be told from an addition on the other (test bed, Xandikos, seed 204).
	a, b, c := e.device(), e.device(), e.device()
	a.add(card("x", "Shared", "EMAIL:keep@example.org", "EMAIL:drop@example.org"))
	a.sync()
	b.sync()
	c.sync()
	c.remove("x")
	c.sync()
	ctx := context.Background()
	a.edit("x", dropValue("EMAIL", "drop@example.org"))
	b.edit("x", addProp("URL", "https://example.org/b"))
	for _, d := range []*device{a, b} {
		if st, err := d.syncer.Pull(ctx); err != nil || st.DeletedLocal != 0 {
			t.Fatalf("pull of the deletion: %+v, %v; want the edit kept", st, err)
		}
	}
	a.sync()
	b.sync()
	a.sync()
	c.sync()
	m := e.converged(a, b, c)["x"]
	if strings.Contains(m, "drop@example.org") {
		t.Errorf("a's removal was undone: %q", m)
	}
	if !strings.Contains(m, "keep@example.org") || !strings.Contains(m, "https://example.org/b") {
		t.Errorf("an edit was lost: %q", m)
	}
}

// requireConflict fails the test unless the device's store lists a conflict (open or resolved) on the contact's
// property whose losing value contains loser.
func requireConflict(t *testing.T, d *device, id, property, loser string) {
	t.Helper()
	cs, err := d.store.Conflicts(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ContactID == id && c.Property == property && strings.Contains(c.Loser, loser) {
			return
		}
	}
	t.Fatalf("the merge that dropped %s %s of %s is not in the conflict list: %+v", property, loser, id, cs)
}

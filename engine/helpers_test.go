package engine_test

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

const remoteName = "srv"

// env is one test case's world: a real server, a fresh address book on it, and a plain client standing for
// another CardDAV client (another phone, Evolution …) writing to the same address book.
type env struct {
	t     *testing.T
	srv   *carddavtest.Server
	ab    string
	other *carddav.Client
}

var bookSeq atomic.Int64

// newEnv creates a fresh address book on srv, next to the one the harness made.
func newEnv(t *testing.T, srv *carddavtest.Server) *env {
	t.Helper()
	u, err := url.Parse(srv.AddressBookURL)
	if err != nil {
		t.Fatal(err)
	}
	parent := u.Path[:strings.LastIndex(strings.TrimSuffix(u.Path, "/"), "/")+1]
	other := srv.Client(t)
	ab, err := other.CreateAddressBook(context.Background(), fmt.Sprintf("%sbook-%d/", parent, bookSeq.Add(1)), "Test", "")
	if err != nil {
		t.Fatalf("create address book: %v", err)
	}
	return &env{t: t, srv: srv, ab: ab.URL, other: other}
}

// device is one simulated device: its own store, synced with the env's address book.
type device struct {
	t      *testing.T
	env    *env
	store  *changelog.Store
	syncer *engine.Syncer
	tr     *transport
}

func (e *env) device(opts ...engine.Option) *device {
	return e.deviceWith(nil, opts...)
}

// deviceWith makes a device whose Remote is wrap(client) when wrap is set (fault injection).
func (e *env) deviceWith(wrap func(engine.Remote) engine.Remote, opts ...engine.Option) *device {
	t := e.t
	t.Helper()
	store, err := changelog.Open(filepath.Join(t.TempDir(), "contacts.db"), engine.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if err := engine.AddRemote(ctx, store, engine.RemoteConfig{Name: remoteName, Endpoint: e.srv.URL, Kind: engine.KindCardDAV, Collection: e.ab, Username: e.srv.Username}); err != nil {
		t.Fatal(err)
	}
	tr := &transport{}
	meter := carddav.NewMeter(tr.client())
	client, err := carddav.New(e.srv.URL, append(e.srv.Options(), carddav.WithHTTPClient(meter))...)
	if err != nil {
		t.Fatal(err)
	}
	var remote engine.Remote = client.Collection(e.ab)
	if wrap != nil {
		remote = wrap(remote)
	}
	s, err := engine.NewSyncer(ctx, store, remoteName, remote, append([]engine.Option{engine.WithMeter(meter)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &device{t: t, env: e, store: store, syncer: s, tr: tr}
}

func (d *device) sync() engine.Stats {
	d.t.Helper()
	st, err := d.syncer.Sync(context.Background())
	if err != nil {
		d.t.Fatalf("sync: %v", err)
	}
	return st
}

func (d *device) add(data []byte) {
	d.t.Helper()
	cards, err := vcard.Parse(data)
	if err != nil || len(cards) != 1 {
		d.t.Fatalf("test card does not parse: %v", err)
	}
	if _, err := d.store.Add(context.Background(), changelog.Local, changelog.Contact{ID: cards[0].UID(), Data: data}); err != nil {
		d.t.Fatal(err)
	}
}

// edit changes one contact with fn, as a user would on the device.
func (d *device) edit(id string, fn func(*vcard.Card)) {
	d.t.Helper()
	c, err := d.store.Get(context.Background(), id)
	if err != nil {
		d.t.Fatal(err)
	}
	c.Data = editCard(d.t, c.Data, fn)
	if _, err := d.store.Replace(context.Background(), changelog.Local, c); err != nil {
		d.t.Fatal(err)
	}
}

func (d *device) remove(id string) {
	d.t.Helper()
	if err := d.store.Remove(context.Background(), changelog.Local, id); err != nil {
		d.t.Fatal(err)
	}
}

func (d *device) contacts() map[string]string {
	d.t.Helper()
	out := map[string]string{}
	for c, err := range d.store.All(context.Background()) {
		if err != nil {
			d.t.Fatal(err)
		}
		out[c.ID] = string(c.Data)
	}
	return out
}

func (d *device) get(id string) string {
	d.t.Helper()
	c, err := d.store.Get(context.Background(), id)
	if err != nil {
		d.t.Fatalf("get %s: %v", id, err)
	}
	return string(c.Data)
}

// setToken replaces the remote's saved sync token, as a server that forgot the real one would make it.
func (d *device) setToken(token string) {
	d.t.Helper()
	if err := d.store.Update(context.Background(), func(tx *changelog.Tx) error {
		_, err := tx.Exec(`UPDATE engine_remotes SET sync_token = ? WHERE name = ?`, token, remoteName)
		return err
	}); err != nil {
		d.t.Fatal(err)
	}
}

func (d *device) status() engine.RemoteStatus {
	d.t.Helper()
	all, err := engine.Status(context.Background(), d.store)
	if err != nil || len(all) != 1 {
		d.t.Fatalf("status: %v (%d remotes)", err, len(all))
	}
	return all[0]
}

// serverCards lists the address book through the other client: UID → vCard, failing on a duplicate UID.
func (e *env) serverCards() map[string]string {
	e.t.Helper()
	ctx := context.Background()
	listing, err := e.other.ListETags(ctx, e.ab)
	if err != nil {
		e.t.Fatal(err)
	}
	var hrefs []string
	for _, m := range listing.Members {
		hrefs = append(hrefs, m.Href)
	}
	objs, err := e.other.MultiGet(ctx, e.ab, hrefs)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range objs {
		if o.Err != nil {
			e.t.Fatalf("fetch %s: %v", o.Href, o.Err)
		}
		cards, err := vcard.Parse(o.Data)
		if err != nil || len(cards) != 1 {
			e.t.Fatalf("server card %s does not parse: %v", o.Href, err)
		}
		uid := cards[0].UID()
		if _, dup := out[uid]; dup {
			e.t.Fatalf("server holds UID %s twice", uid)
		}
		out[uid] = string(o.Data)
	}
	return out
}

// put writes a card as another client would, at an href of its choosing.
func (e *env) put(name string, data []byte) {
	e.t.Helper()
	href := strings.TrimSuffix(mustPath(e.t, e.ab), "/") + "/" + name
	if _, err := e.other.Put(context.Background(), href, data, carddav.Condition{}); err != nil {
		e.t.Fatalf("put %s: %v", href, err)
	}
}

// hrefOf finds the href the server keeps a UID under.
func (e *env) hrefOf(uid string) (string, carddav.ETag) {
	e.t.Helper()
	ctx := context.Background()
	listing, err := e.other.ListETags(ctx, e.ab)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range listing.Members {
		o, err := e.other.Get(ctx, m.Href)
		if err != nil {
			e.t.Fatal(err)
		}
		if cards, _ := vcard.Parse(o.Data); len(cards) == 1 && cards[0].UID() == uid {
			return m.Href, o.ETag
		}
	}
	e.t.Fatalf("UID %s not on the server", uid)
	return "", ""
}

// editOnServer changes a card the way another client would: fetch, edit, PUT If-Match.
func (e *env) editOnServer(uid string, fn func(*vcard.Card)) {
	e.t.Helper()
	href, _ := e.hrefOf(uid)
	o, err := e.other.Get(context.Background(), href)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.other.Put(context.Background(), href, editCard(e.t, o.Data, fn), carddav.IfMatch(o.ETag)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) deleteOnServer(uid string) {
	e.t.Helper()
	href, etag := e.hrefOf(uid)
	if err := e.other.Delete(context.Background(), href, etag); err != nil {
		e.t.Fatal(err)
	}
}

func mustPath(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func editCard(t *testing.T, data []byte, fn func(*vcard.Card)) []byte {
	t.Helper()
	cards, err := vcard.Parse(data)
	if err != nil || len(cards) != 1 {
		t.Fatalf("card does not parse: %v", err)
	}
	fn(cards[0])
	return cards[0].Bytes()
}

// card builds a vCard 3.0 with CRLF line ends.
func card(uid, fn string, props ...string) []byte {
	lines := append([]string{"BEGIN:VCARD", "VERSION:3.0", "UID:" + uid, "FN:" + fn}, props...)
	return []byte(strings.Join(append(lines, "END:VCARD"), "\r\n") + "\r\n")
}

func set(name, value string) func(*vcard.Card) {
	return func(c *vcard.Card) { c.Set(name, value) }
}

func addProp(name, value string) func(*vcard.Card) {
	return func(c *vcard.Card) { c.Add(vcard.NewProperty("", name, value)) }
}

// converged fails unless every device holds the server's cards: byte for byte, except that Radicale stores
// cards with their properties sorted, so there the comparison ignores property order.
func (e *env) converged(devices ...*device) map[string]string {
	e.t.Helper()
	want := e.serverCards()
	radicale := e.srv.Name == "radicale"
	if radicale {
		want = canonicalAll(want)
	}
	for i, d := range devices {
		got := d.contacts()
		if radicale {
			got = canonicalAll(got)
		}
		if !maps.Equal(got, want) {
			e.t.Fatalf("device %d differs from the server:\n%s", i, diffMaps(got, want))
		}
	}
	return want
}

func canonicalAll(cards map[string]string) map[string]string {
	out := make(map[string]string, len(cards))
	for k, v := range cards {
		out[k] = canonical(v)
	}
	return out
}

// canonical is a card's content (vcard.Content), one property a line: what survives a server's
// re-serialization, compared the way the engine compares versions.
func canonical(card string) string {
	lines, err := vcard.Content([]byte(card))
	if err != nil {
		return "unreadable card: " + card
	}
	return strings.Join(lines, "\n")
}

func diffMaps(got, want map[string]string) string {
	var b strings.Builder
	keys := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "missing %s\n", k)
		case !wok:
			fmt.Fprintf(&b, "extra %s\n", k)
		case g != w:
			fmt.Fprintf(&b, "%s:\n device %q\n server %q\n", k, g, w)
		}
	}
	return b.String()
}

// transport counts requests and lets a test intercept them (fault injection in front of the real server).
type transport struct {
	mu   sync.Mutex
	n    int
	hook func(*http.Request) (*http.Response, error)
}

func (tr *transport) client() *http.Client {
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	tr.n++
	hook := tr.hook
	tr.mu.Unlock()
	if hook != nil {
		if resp, err := hook(req); resp != nil || err != nil {
			return resp, err
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (tr *transport) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.n
}

// resetAfterWrite is a transport hook for the first request that match accepts: the server receives and applies
// it, then the connection is reset before the answer arrives, as a dropped network does. *cut records that it
// happened.
func resetAfterWrite(cut *bool, match func(*http.Request) bool) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		if *cut || !match(req) {
			return nil, nil
		}
		*cut = true
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
}

func (tr *transport) reset(hook func(*http.Request) (*http.Response, error)) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.n, tr.hook = 0, hook
}

package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// TestWorkerSurvivesKill9 runs `contactsync worker` as a real process during a 1,000-contact initial sync and
// SIGKILLs it at 20 random instants while the device keeps editing (updates, adds, deletes between kills). At
// the end the server must hold exactly the device's contacts — no duplicate, no lost edit — and a further sync
// must upload nothing. It runs against the embedded server, Xandikos, Radicale and SabreDAV, which take a PUT at
// very different speeds: each kill comes a random time after the worker starts, within a range that adapts to
// what the lives before it uploaded, so that the kills spread over the initial upload on any server.
func TestWorkerSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes and a server; skipped in -short mode")
	}
	for _, name := range []string{"embedded", "xandikos", "radicale", "sabredav"} {
		t.Run(name, func(t *testing.T) { testWorkerSurvivesKill9(t, carddavtest.Start(t, name)) })
	}
}

func testWorkerSurvivesKill9(t *testing.T, srv *carddavtest.Server) {
	const (
		total = 1000
		kills = 20
	)
	c := newCLI(t)
	vcf := filepath.Join(t.TempDir(), "book.vcf")
	if err := os.WriteFile(vcf, synthetic.AddressBook(11, total), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "import", vcf)
	c.addRemote(srv, "home")

	rng := rand.New(rand.NewPCG(4, 2))
	model := deviceModel(t, c.db) // what the device holds: the test's own record of every edit
	partial, before := 0, 0
	// A life lasts minLife (the process starting) plus a random part of spread.
	const minLife = 100 * time.Millisecond
	spread := 600 * time.Millisecond
	for k := range kills {
		cmd := cliCommand(c.db, "worker", "--pull-interval", "300ms", "--debounce", "10ms")
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		life := minLife + time.Duration(rng.Int64N(int64(spread)))
		time.Sleep(life) // a random instant, not a wait for a condition
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		n := countOnServer(t, srv)
		if n < total {
			partial++
		}
		// A life that uploaded more than its share of the contacts makes the next ones shorter; one that
		// uploaded nothing (still starting) makes them longer.
		switch grown := n - before; {
		case grown > total/kills:
			spread = max(spread/2, 20*time.Millisecond)
		case grown <= 0 && n < total:
			spread = min(spread*2, 3*time.Second)
		}
		before = n
		edits := editDevice(t, c.db, rng, k, model)
		t.Logf("kill %d after %s: server holds %d cards; device then made %s", k+1, life.Round(time.Millisecond), n, edits)
	}
	if partial < kills/2 {
		t.Fatalf("only %d of %d kills landed during the initial upload; the test proved little", partial, kills)
	}

	out := c.ok("", "sync")
	t.Logf("final sync: %s", strings.TrimSpace(out))
	// The device keeps its own bytes for what it uploaded; a server that re-serializes cards (Radicale) hands
	// back another spelling of the same content, so contents are compared.
	if got := deviceModel(t, c.db); !maps.Equal(canonicalModel(got), canonicalModel(model)) {
		t.Fatalf("the device lost or changed an edit:\n%s", diffModel(canonicalModel(got), canonicalModel(model)))
	}
	server := serverByUID(t, srv)
	if len(server) != len(model) {
		t.Fatalf("server holds %d contacts, device %d", len(server), len(model))
	}
	for id, data := range model {
		if canonicalCard(server[id]) != canonicalCard(data) {
			t.Fatalf("contact %s differs:\n device %q\n server %q", id, data, server[id])
		}
	}
	if out := c.ok("", "sync"); !strings.Contains(out, "uploaded 0, downloaded 0") {
		t.Fatalf("sync after convergence moved contacts: %s", out)
	}
}

func openDevice(t *testing.T, db string) *changelog.Store {
	t.Helper()
	s, err := changelog.Open(db, engine.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func deviceModel(t *testing.T, db string) map[string]string {
	t.Helper()
	s := openDevice(t, db)
	defer s.Close()
	out := map[string]string{}
	for c, err := range s.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out[c.ID] = string(c.Data)
	}
	return out
}

// editDevice makes a few edits while no worker runs for this store's notifications: three updates, one add and
// one delete, recorded in model.
func editDevice(t *testing.T, db string, rng *rand.Rand, round int, model map[string]string) string {
	t.Helper()
	s := openDevice(t, db)
	defer s.Close()
	ctx := context.Background()
	ids := make([]string, 0, len(model))
	for id := range model {
		ids = append(ids, id)
	}
	for i := range 3 {
		id := ids[rng.IntN(len(ids))]
		cards, err := vcard.Parse([]byte(model[id]))
		if err != nil || len(cards) != 1 {
			t.Fatalf("device card %s does not parse: %v", id, err)
		}
		cards[0].Set("NOTE", fmt.Sprintf("edit %d.%d", round, i))
		data := cards[0].Bytes()
		if _, err := s.Replace(ctx, changelog.Local, changelog.Contact{ID: id, Data: data}); err != nil {
			t.Fatal(err)
		}
		model[id] = string(data)
	}
	newID := fmt.Sprintf("added-%d", round)
	data := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + newID + "\r\nFN:Added " + newID + "\r\nEND:VCARD\r\n")
	if _, err := s.Add(ctx, changelog.Local, changelog.Contact{ID: newID, Data: data}); err != nil {
		t.Fatal(err)
	}
	model[newID] = string(data)
	gone := ids[rng.IntN(len(ids))]
	if err := s.Remove(ctx, changelog.Local, gone); err != nil {
		t.Fatal(err)
	}
	delete(model, gone)
	return "3 updates, 1 add, 1 delete"
}

func countOnServer(t *testing.T, srv *carddavtest.Server) int {
	t.Helper()
	l, err := srv.Client(t).ListETags(context.Background(), srv.AddressBookURL)
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Members)
}

// serverByUID reads the whole address book, failing on a UID held twice.
func serverByUID(t *testing.T, srv *carddavtest.Server) map[string]string {
	t.Helper()
	ctx := context.Background()
	cl := srv.Client(t)
	l, err := cl.ListETags(ctx, srv.AddressBookURL)
	if err != nil {
		t.Fatal(err)
	}
	hrefs := make([]string, len(l.Members))
	for i, m := range l.Members {
		hrefs[i] = m.Href
	}
	objs, err := cl.MultiGet(ctx, srv.AddressBookURL, hrefs)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range objs {
		cards, err := vcard.Parse(o.Data)
		if o.Err != nil || err != nil || len(cards) != 1 {
			t.Fatalf("server member %s unreadable: %v %v", o.Href, o.Err, err)
		}
		uid := cards[0].UID()
		if _, dup := out[uid]; dup {
			t.Fatalf("duplicate on the server: UID %s", uid)
		}
		out[uid] = string(o.Data)
	}
	return out
}

// canonicalCard is a card's content (vcard.Content), one property a line: what Radicale keeps when it
// re-serializes a card, compared the way the engine compares versions.
func canonicalCard(card string) string {
	lines, err := vcard.Content([]byte(card))
	if err != nil {
		return "unreadable card: " + card
	}
	return strings.Join(lines, "\n")
}

func canonicalModel(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = canonicalCard(v)
	}
	return out
}

func diffModel(got, want map[string]string) string {
	var b strings.Builder
	for k, w := range want {
		if g, ok := got[k]; !ok {
			fmt.Fprintf(&b, "missing %s\n", k)
		} else if g != w {
			fmt.Fprintf(&b, "%s:\n device %q\n want   %q\n", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "extra %s\n", k)
		}
	}
	return b.String()
}

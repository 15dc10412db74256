package carddavserver_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// TestVdirsyncer syncs a real third-party client, Debian's vdirsyncer, with the server: discovery from the
// root, a collection it creates with MKCOL, uploads and downloads, edits and deletions on both sides, and a
// second sync that must change nothing.
func TestVdirsyncer(t *testing.T) {
	bin, err := exec.LookPath("vdirsyncer")
	if err != nil {
		msg := "vdirsyncer not installed (apt-get install vdirsyncer, or make deps)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so this is a failure, not a skip")
		}
		t.Skip(msg)
	}
	rec := &requestLog{}
	srv := carddavtest.Start(t, "embedded", carddavserver.WithLogger(slog.New(rec)))
	ctx := testCtx(t)
	c := srv.Client(t)
	ab, err := c.AddressBook(ctx, srv.AddressBookURL)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	vdir := filepath.Join(dir, "vdir")
	for _, d := range []string{"contacts", "mine"} {
		if err := os.MkdirAll(filepath.Join(vdir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	serverCards := map[string][]byte{}
	etags := map[string]carddav.ETag{}
	for i := 1; i <= 3; i++ {
		uid := fmt.Sprintf("server-%d", i)
		serverCards[uid] = card(uid, "Server Person "+fmt.Sprint(i))
		e, err := c.Put(ctx, carddav.HrefForUID(ab.URL, uid), serverCards[uid], carddav.CreateOnly())
		if err != nil {
			t.Fatal(err)
		}
		etags[uid] = e
	}
	localCards := map[string][]byte{}
	for i := 1; i <= 2; i++ {
		uid := fmt.Sprintf("local-%d", i)
		// vCard 4.0 with non-ASCII text and a folded line, to see that vdirsyncer's upload is byte exact.
		localCards[uid] = []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + uid + "\r\nFN:Lökal Persön " + fmt.Sprint(i) +
			"\r\nNOTE:a long note that is folded over two lines because it is longer than seventy-fi\r\n ve octets\r\nEND:VCARD\r\n")
		writeFile(t, filepath.Join(vdir, "contacts", uid+".vcf"), localCards[uid])
	}
	mine := card("mine-1", "Only Local Collection")
	writeFile(t, filepath.Join(vdir, "mine", "mine-1.vcf"), mine)

	config := filepath.Join(dir, "config")
	writeFile(t, config, []byte(fmt.Sprintf(`[general]
status_path = %q

[pair pim]
a = "local"
b = "server"
collections = ["from a", "from b"]
conflict_resolution = "a wins"

[storage local]
type = "filesystem"
path = %q
fileext = ".vcf"

[storage server]
type = "carddav"
url = %q
username = %q
password = %q
`, filepath.Join(dir, "status")+"/", vdir+"/", srv.URL, srv.Username, srv.Password)))
	run := func(args ...string) string {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, append([]string{"--config", config}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		// discover asks before creating a collection on the other side; the answer is yes.
		cmd.Stdin = strings.NewReader(strings.Repeat("y\n", 10))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("vdirsyncer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	run("discover")
	run("sync")

	// Both sides hold all five contacts of "contacts", byte for byte, and "mine" reached the server.
	local := readVdir(t, filepath.Join(vdir, "contacts"))
	remote := serverBook(ctx, t, c, ab.URL)
	for uid, body := range merge(serverCards, localCards) {
		if !bytes.Equal(local[uid], body) {
			t.Errorf("local copy of %s = %q; want %q", uid, local[uid], body)
		}
		if !bytes.Equal(remote[uid], body) {
			t.Errorf("server copy of %s = %q; want %q", uid, remote[uid], body)
		}
	}
	if len(local) != 5 || len(remote) != 5 {
		t.Errorf("after the first sync: %d local, %d on the server; want 5 each", len(local), len(remote))
	}
	if got := serverBook(ctx, t, c, srv.URL+"addressbooks/test/mine/"); !bytes.Equal(got["mine-1"], mine) {
		t.Errorf("collection created by vdirsyncer holds %q; want mine-1", got)
	}

	// Edit and delete on both sides.
	serverCards["server-1"] = card("server-1", "Edited On The Server")
	if _, err := c.Put(ctx, carddav.HrefForUID(ab.URL, "server-1"), serverCards["server-1"], carddav.IfMatch(etags["server-1"])); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, carddav.HrefForUID(ab.URL, "server-2"), etags["server-2"]); err != nil {
		t.Fatal(err)
	}
	localCards["local-1"] = card("local-1", "Edited Locally")
	writeFile(t, localPath(t, vdir, "local-1"), localCards["local-1"])
	if err := os.Remove(localPath(t, vdir, "local-2")); err != nil {
		t.Fatal(err)
	}
	run("sync")
	local = readVdir(t, filepath.Join(vdir, "contacts"))
	remote = serverBook(ctx, t, c, ab.URL)
	want := map[string][]byte{"server-1": serverCards["server-1"], "server-3": serverCards["server-3"], "local-1": localCards["local-1"]}
	for name, got := range map[string]map[string][]byte{"local": local, "server": remote} {
		if len(got) != len(want) {
			t.Errorf("%s side after edits holds %d contacts; want %d", name, len(got), len(want))
		}
		for uid, body := range want {
			if !bytes.Equal(got[uid], body) {
				t.Errorf("%s copy of %s = %q; want %q", name, uid, got[uid], body)
			}
		}
	}

	// Nothing changed: a third sync writes nothing.
	rec.reset()
	run("sync")
	if writes := rec.count("PUT") + rec.count("DELETE") + rec.count("MKCOL"); writes != 0 || rec.count("PROPFIND") == 0 {
		t.Errorf("no-op sync sent %d writes and %d PROPFINDs; want none and at least one: %v", writes, rec.count("PROPFIND"), rec.all())
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func merge(ms ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// uidOf returns the UID line's value of a small test card.
func uidOf(body []byte) string {
	for _, line := range strings.Split(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, "UID:"); ok {
			return v
		}
	}
	return ""
}

// readVdir reads a vdirsyncer collection directory by UID.
func readVdir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".vcf") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[uidOf(b)] = b
	}
	return out
}

// localPath finds the file of a UID in the "contacts" collection of the vdir.
func localPath(t *testing.T, vdir, uid string) string {
	t.Helper()
	dir := filepath.Join(vdir, "contacts")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && uidOf(b) == uid {
			return filepath.Join(dir, e.Name())
		}
	}
	t.Fatalf("no local file for %s", uid)
	return ""
}

// serverBook reads a whole address book from the server by UID.
func serverBook(ctx context.Context, t *testing.T, c *carddav.Client, abURL string) map[string][]byte {
	t.Helper()
	page, err := c.SyncCollection(ctx, abURL, "", 0)
	if err != nil {
		t.Fatalf("list %s: %v", abURL, err)
	}
	var hrefs []string
	for _, m := range page.Changed {
		hrefs = append(hrefs, m.Href)
	}
	objs, err := c.MultiGet(ctx, abURL, hrefs)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range objs {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.Href, o.Err)
		}
		out[uidOf(o.Data)] = o.Data
	}
	return out
}

// requestLog is a slog.Handler that keeps the method of each request the server logs.
type requestLog struct {
	mu      sync.Mutex
	methods []string
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *requestLog) WithGroup(string) slog.Handler            { return l }

func (l *requestLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "carddavserver request" {
		return nil
	}
	var method, path string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	l.methods = append(l.methods, method+" "+path)
	l.mu.Unlock()
	return nil
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.methods = nil
	l.mu.Unlock()
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.methods...)
}

func (l *requestLog) count(method string) int {
	n := 0
	for _, m := range l.all() {
		if strings.HasPrefix(m, method+" ") {
			n++
		}
	}
	return n
}

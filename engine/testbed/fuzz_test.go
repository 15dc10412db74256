package testbed_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// fuzzServer is a hostile CardDAV server whose answers are the fuzzer's bytes: the listing answers every
// sync-collection; member is either the whole multiget answer or, wrapped in a well-formed one, the vCard of
// every member asked (mode), and the body of every GET.
type fuzzServer struct {
	mu              sync.Mutex
	listing, member []byte
	mode            byte
}

func (s *fuzzServer) set(listing, member []byte, mode byte) {
	s.mu.Lock()
	s.listing, s.member, s.mode = listing, member, mode
	s.mu.Unlock()
}

func (s *fuzzServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	listing, member, mode := s.listing, s.member, s.mode
	s.mu.Unlock()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	switch {
	case r.Method == http.MethodPut:
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, len(body)))
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/vcard")
		w.Header().Set("ETag", `"g"`)
		w.Write(member)
	case bytes.Contains(body, []byte("sync-collection")):
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		w.Write(listing)
	case bytes.Contains(body, []byte("addressbook-multiget")):
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		if mode%2 == 0 {
			w.Write(member)
			return
		}
		// Well-formed around the fuzzer's card, so the card reaches the engine's reader and merge.
		var b strings.Builder
		b.WriteString(`<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">`)
		for _, href := range hrefsOf(body) {
			b.WriteString("<response><href>" + href + `</href><propstat><prop><getetag>"m"</getetag><C:address-data>`)
			xml.EscapeText(&b, member)
			b.WriteString("</C:address-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>")
		}
		b.WriteString("</multistatus>")
		io.WriteString(w, b.String())
	default:
		http.Error(w, "no", http.StatusForbidden)
	}
}

func hrefsOf(body []byte) []string {
	var out []string
	for _, part := range strings.Split(string(body), "href>")[1:] {
		if h, _, ok := strings.Cut(part, "</"); ok && h != "" {
			out = append(out, h)
		}
	}
	return out
}

const fuzzAB = "/ab/"

func listingOf(token string, hrefs ...string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">`)
	for _, h := range hrefs {
		b.WriteString(`<d:response><d:href>` + h + `</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
	}
	b.WriteString(`<d:sync-token>` + token + `</d:sync-token></d:multistatus>`)
	return []byte(b.String())
}

// FuzzServerResponses syncs a real device (store and engine) with a server answering whatever the fuzzer
// says. The sync may fail, but never panic or hang, and a local contact the server's answers never mention
// stays on the device byte for byte: nothing a server sends can take away what it knows nothing about.
func FuzzServerResponses(f *testing.F) {
	card := synthetic.Card(3, 1)
	f.Add(listingOf("t1", fuzzAB+"a.vcf"), card, byte(1))
	f.Add(listingOf("t1", fuzzAB+"a.vcf", fuzzAB+"b.vcf"), []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:no uid\r\nEND:VCARD\r\n"), byte(1))
	f.Add(listingOf("t2", fuzzAB+"../x.vcf", "http://evil.example"+fuzzAB+"y.vcf"), card, byte(0))
	f.Add(listingOf("t3", fuzzAB+"a.vcf"), []byte(`<multistatus xmlns="DAV:"><response><href>/ab/a.vcf</href><status>HTTP/1.1 404 Not Found</status></response></multistatus>`), byte(0))
	f.Add([]byte(`<!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><multistatus xmlns="DAV:">&b;</multistatus>`), card, byte(0))
	f.Add([]byte(`<d:multistatus xmlns:d="DAV:"><d:response><d:href>/ab/a.vcf</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response><d:sync-token>t</d:sync-token></d:multistatus>`), card, byte(1))
	f.Add([]byte("<html>login</html>"), []byte{0xff, 0xfe, 0}, byte(3))

	srv := &fuzzServer{}
	hs := httptest.NewServer(srv)
	f.Cleanup(hs.Close)
	local := synthetic.Card(3, 900)
	localID := uidOf(f, local)

	f.Fuzz(func(t *testing.T, listing, member []byte, mode byte) {
		srv.set(listing, member, mode)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		store, err := changelog.Open(filepath.Join(t.TempDir(), "c.db"), engine.Migrations())
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		if _, err := store.Add(ctx, changelog.Local, changelog.Contact{ID: localID, Data: local}); err != nil {
			t.Fatal(err)
		}
		ab := hs.URL + fuzzAB
		if err := engine.AddRemote(ctx, store, engine.RemoteConfig{Name: "fuzz", Endpoint: ab, Kind: engine.KindCardDAV, Collection: ab}); err != nil {
			t.Fatal(err)
		}
		client, err := carddav.New(ab, carddav.WithMaxXMLSize(1<<20), carddav.WithMaxObjectSize(1<<18))
		if err != nil {
			t.Fatal(err)
		}
		s, err := engine.NewSyncer(ctx, store, "fuzz", client.Collection(ab), engine.WithMaxAttempts(1))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = s.Sync(ctx)
		if ctx.Err() != nil {
			t.Fatal("sync hung against a hostile server")
		}
		mentioned := bytes.Contains(listing, []byte(localID)) || bytes.Contains(member, []byte(localID))
		got, err := store.Get(ctx, localID)
		if !mentioned && (err != nil || !bytes.Equal(got.Data, local)) {
			t.Fatalf("the local contact changed or went although the server never named it: %v", err)
		}
		if _, err := engine.Status(ctx, store); err != nil {
			t.Fatalf("status after a hostile sync: %v", err)
		}
	})
}

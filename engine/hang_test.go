package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/storage"
)

// TestHangingServer checks that a server that accepts requests and never answers cannot wedge a sync or a
// worker: the sync fails with a timeout naming the server, the worker backs off as for a 503, and both resume
// once the server answers again, with nothing lost.
func TestHangingServer(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	e := newEnv(t, srv)
	front := carddavtest.NewFront(t, srv.URL)
	abURL := front.URL + mustPath(t, e.ab)

	ctx := context.Background()
	store, err := changelog.Open(filepath.Join(t.TempDir(), "contacts.db"), engine.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := engine.AddRemote(ctx, store, engine.RemoteConfig{Name: remoteName, Kind: engine.KindCardDAV, Endpoint: front.URL, Collection: abURL, Username: srv.Username}); err != nil {
		t.Fatal(err)
	}
	// The CLI's client, with its bounds shortened so that the test takes seconds.
	hc, err := carddav.NewHTTPClient(carddav.Timeouts{Connect: time.Second, TLSHandshake: time.Second, ResponseHeader: 300 * time.Millisecond, Stall: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := carddav.New(abURL, append(srv.Options(), carddav.WithHTTPClient(hc))...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := engine.NewSyncer(ctx, store, remoteName, client.Collection(abURL), engine.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Add(ctx, changelog.Local, changelog.Contact{ID: "while-hung", Data: card("while-hung", "Made While Hung")}); err != nil {
		t.Fatal(err)
	}

	front.Hang(true)
	start := time.Now()
	_, err = s.Sync(ctx)
	var te *carddav.TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), te.Host) {
		t.Fatalf("sync against a hanging server: %v, want a retryable timeout naming the server", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the sync took %v to give up", took)
	}
	st, err := engine.Status(ctx, store)
	if err != nil || !strings.Contains(st[0].LastError, "timed out") {
		t.Fatalf("status after the timeout: %+v, %v", st, err)
	}

	// The worker keeps trying with backoff while the server hangs, and syncs once it answers.
	w, err := engine.NewWorker(store, []*engine.Syncer{s}, engine.WithPullInterval(time.Hour), engine.WithMaxBackoff(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Serve(wctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	time.Sleep(time.Second) // a few rounds of trying against the hanging server; nothing to wait for
	front.Hang(false)
	waitFor(t, "the worker's sync once the server answers", func() bool {
		_, ok := e.serverCards()["while-hung"]
		return ok
	})
	waitFor(t, "the last error cleared", func() bool {
		st, err := engine.Status(ctx, store)
		return err == nil && st[0].LastError == "" && !st[0].LastSync.IsZero()
	})
}

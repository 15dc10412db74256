package engine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testWorker(t *testing.T, e *env) {
	// Checked after every cleanup (the store's included), which run in reverse order of registration.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		if err := goleak.Find(ignore); err != nil {
			t.Error(err)
		}
	})
	a := e.device()
	// A pull interval of an hour: anything that reaches the server sooner was pushed because of the commit.
	w, err := engine.NewWorker(a.store, []*engine.Syncer{a.syncer}, engine.WithPullInterval(time.Hour), engine.WithDebounce(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	waitFor(t, "the first sync", func() bool { return !a.status().LastSync.IsZero() })

	a.add(card("pushed-by-worker", "Worker Push"))
	waitFor(t, "the push after a commit", func() bool { _, ok := e.serverCards()["pushed-by-worker"]; return ok })

	e.put("pulled.vcf", card("pulled-by-worker", "Worker Pull"))
	w.Trigger()
	waitFor(t, "the pull on trigger", func() bool {
		_, err := a.store.Get(context.Background(), "pulled-by-worker")
		return err == nil
	})
	// A burst of commits goes out as few pushes, and all of it arrives.
	for _, id := range []string{"b1", "b2", "b3"} {
		if _, err := a.store.Add(context.Background(), changelog.Local, changelog.Contact{ID: id, Data: card(id, "Burst "+id)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the burst", func() bool {
		cards := e.serverCards()
		_, ok1 := cards["b1"]
		_, ok3 := cards["b3"]
		return ok1 && ok3
	})
}

package testbed_test

import (
	"context"
	"testing"
	"time"

	"github.com/contactsync/contactsync/engine/testbed"
)

func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := testbed.Run(ctx, testbed.Config{Devices: 3, Contacts: 200, Ops: 80, Seed: 2, Duration: 8 * time.Second, FaultRate: 0.1, Log: testWriter{t}})
	t.Log(rep)
	if err != nil {
		t.Fatal(err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

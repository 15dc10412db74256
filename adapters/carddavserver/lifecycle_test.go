package carddavserver_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// TestServeListenerStopsEverything: once ServeListener returns and the Server is closed, no goroutine the
// server started is left, and calls fail cleanly.
func TestServeListenerStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	srv, err := carddavserver.Open(t.TempDir(), carddavserver.WithPasswordIterations(carddavserver.MinPasswordIterations),
		carddavserver.WithTrimInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddUser(ctx, "ann", "pw"); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.ServeListener(sctx, l) }()

	transport := &http.Transport{}
	client := &http.Client{Transport: transport}
	req, _ := http.NewRequest("PROPFIND", "http://"+l.Addr().String()+"/addressbooks/ann/contacts/", strings.NewReader(""))
	req.SetBasicAuth("ann", "pw")
	req.Header.Set("Depth", "1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("PROPFIND: %s", resp.Status)
	}
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("ServeListener after its context ended: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ServeListener did not return")
	}
	transport.CloseIdleConnections()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := srv.Import(ctx, "ann", "contacts", nil); !errors.Is(err, carddavserver.ErrClosed) {
		t.Errorf("Import after Close: %v; want ErrClosed", err)
	}
}

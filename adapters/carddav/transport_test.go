package carddav_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
)

// short bounds every phase tightly so that the tests run in well under a second each.
var short = carddav.Timeouts{Connect: time.Second, TLSHandshake: 300 * time.Millisecond, ResponseHeader: 300 * time.Millisecond, Stall: 300 * time.Millisecond}

func timeoutClient(t *testing.T, url string) *carddav.Client {
	t.Helper()
	hc, err := carddav.NewHTTPClient(short, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := carddav.New(url, carddav.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantTimeout checks that err is a TimeoutError for the given phase, and that it came within a few bounds.
func wantTimeout(t *testing.T, err error, phase string, took time.Duration) {
	t.Helper()
	t.Logf("error: %v", err)
	var te *carddav.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a TimeoutError", err)
	}
	if te.Phase != phase {
		t.Errorf("phase = %q, want %q (%v)", te.Phase, phase, err)
	}
	if !carddav.Retryable(err) {
		t.Errorf("a timeout must be retryable: %v", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %v for a %v bound", took, te.After)
	}
	if !strings.Contains(err.Error(), te.Host) {
		t.Errorf("message %q does not name the server", err)
	}
}

func TestTimeoutNoAnswer(t *testing.T) {
	addr := carddavtest.Silent(t, true)
	start := time.Now()
	_, err := timeoutClient(t, "http://"+addr+"/").Get(context.Background(), "/a.vcf")
	wantTimeout(t, err, "waiting for an answer from", time.Since(start))
}

func TestTimeoutTLSHandshake(t *testing.T) {
	addr := carddavtest.Silent(t, true)
	start := time.Now()
	_, err := timeoutClient(t, "https://"+addr+"/").Get(context.Background(), "/a.vcf")
	wantTimeout(t, err, "in the TLS handshake with", time.Since(start))
}

func TestTimeoutServerStopsReading(t *testing.T) {
	addr := carddavtest.Silent(t, false)
	// Far more than the kernel's socket buffers hold, so the write blocks once they are full.
	body := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nNOTE:" + strings.Repeat("x", 64<<20) + "\r\nEND:VCARD\r\n")
	start := time.Now()
	_, err := timeoutClient(t, "http://"+addr+"/").Put(context.Background(), "/a.vcf", body, carddav.CreateOnly())
	wantTimeout(t, err, "sending the request to", time.Since(start))
}

// trickle answers a GET with a vCard written one line at a time, waiting gap between lines, and then stalling
// for good when stall is set.
func trickle(t *testing.T, gap time.Duration, lines int, stall bool) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/vcard")
		w.Header().Set("ETag", `"1"`)
		fl := w.(http.Flusher)
		io.WriteString(w, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:slow\r\n")
		fl.Flush()
		for i := range lines {
			select {
			case <-time.After(gap):
			case <-done:
				return
			}
			io.WriteString(w, "NOTE:line "+string(rune('a'+i%26))+"\r\n")
			fl.Flush()
		}
		if stall {
			<-done
			return
		}
		io.WriteString(w, "END:VCARD\r\n")
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL
}

func TestTimeoutStalledBody(t *testing.T) {
	url := trickle(t, 10*time.Millisecond, 3, true)
	start := time.Now()
	_, err := timeoutClient(t, url+"/").Get(context.Background(), "/a.vcf")
	wantTimeout(t, err, "reading the answer from", time.Since(start))
}

func TestSlowBodyThatFlowsIsNotCut(t *testing.T) {
	// 12 gaps of 100 ms: the whole answer takes four times the stall bound, but bytes keep coming.
	url := trickle(t, 100*time.Millisecond, 12, false)
	o, err := timeoutClient(t, url+"/").Get(context.Background(), "/a.vcf")
	if err != nil {
		t.Fatalf("a slow but steady answer failed: %v", err)
	}
	if !strings.HasSuffix(string(o.Data), "END:VCARD\r\n") || strings.Count(string(o.Data), "NOTE:") != 12 {
		t.Fatalf("body = %q", o.Data)
	}
}

func TestCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/vcard")
		io.WriteString(w, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:tls\r\nEND:VCARD\r\n")
	}))
	defer srv.Close()
	ctx := context.Background()

	plain, err := carddav.NewHTTPClient(carddav.DefaultTimeouts, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := carddav.New(srv.URL+"/", carddav.WithHTTPClient(plain))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "/a.vcf"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a server with its own CA, untrusted: err = %v, want a certificate error", err)
	}

	path := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	roots, err := carddav.LoadCAFile(path, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	trusting, err := carddav.NewHTTPClient(carddav.DefaultTimeouts, roots)
	if err != nil {
		t.Fatal(err)
	}
	c, err = carddav.New(srv.URL+"/", carddav.WithHTTPClient(trusting))
	if err != nil {
		t.Fatal(err)
	}
	if o, err := c.Get(ctx, "/a.vcf"); err != nil || !strings.Contains(string(o.Data), "UID:tls") {
		t.Fatalf("with the CA file: %v", err)
	}

	if err := os.WriteFile(path, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := carddav.LoadCAFile(path, os.ReadFile); err == nil {
		t.Fatal("a CA file without a certificate was accepted")
	}
}

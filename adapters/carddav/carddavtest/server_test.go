package carddavtest

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// TestLifecycle starts each server of the matrix, writes a card, restarts the server and reads the card back at
// the same URL, and adds a user where the server has users.
func TestLifecycle(t *testing.T) {
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s := Start(t, name)
			url := s.URL
			c := s.Client(t)
			href := carddav.HrefForUID(s.AddressBookURL, "lifecycle-1")
			card := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:lifecycle-1\r\nFN:Ada\r\nN:;Ada;;;\r\nEND:VCARD\r\n")
			if _, err := c.Put(ctx, href, card, carddav.CreateOnly()); err != nil {
				t.Fatal(err)
			}
			s.Restart(t)
			if s.URL != url {
				t.Errorf("URL after restart %s; want %s", s.URL, url)
			}
			if _, err := s.Client(t).Get(ctx, href); err != nil {
				t.Errorf("card after restart: %v", err)
			}
			s.Stop(t)
			s.Stop(t) // a second Stop is a no-op
			if _, err := s.Client(t).Get(ctx, href); !carddav.Retryable(err) {
				t.Errorf("get from a stopped server: %v; want a retryable (connection) error", err)
			}
			s.Restart(t)

			if s.Username == "" {
				if msg := fatalOf(t, func(tb testing.TB) { s.AddUser(tb, "bob") }); !strings.Contains(msg, "no authentication") {
					t.Errorf("AddUser on %s: fatal %q; want one saying it has no authentication", name, msg)
				}
				return
			}
			pw := s.AddUser(t, "bob")
			if got := propfindStatus(t, s.URL, "bob", pw); got == http.StatusUnauthorized {
				t.Errorf("the added user is refused: %d", got)
			}
			if got := propfindStatus(t, s.URL, "bob", "wrong-"+pw); got != http.StatusUnauthorized {
				t.Errorf("the added user with a wrong password: %d; want 401", got)
			}
		})
	}
}

// TestEmbeddedOnly: asking a process server for what only the embedded server has fails the test with a message
// that says so.
func TestEmbeddedOnly(t *testing.T) {
	s := Start(t, "embedded")
	if s.Embedded(t) == nil {
		t.Fatal("Embedded of the embedded server is nil")
	}
	other := Names[1]
	if msg := fatalOf(t, func(tb testing.TB) { Start(tb, other, carddavserver.WithMaxXMLSize(1)) }); !strings.Contains(msg, "server options") {
		t.Errorf("options for %s: fatal %q; want one about server options", other, msg)
	}
	if msg := fatalOf(t, func(tb testing.TB) { Start(tb, "nginx") }); !strings.Contains(msg, "unknown server") {
		t.Errorf("unknown server: fatal %q", msg)
	}
	x := &Server{Name: "xandikos", inst: &external{name: "xandikos", out: &tailBuffer{max: 1}}}
	if msg := fatalOf(t, func(tb testing.TB) { x.Embedded(tb) }); !strings.Contains(msg, "not the embedded server") {
		t.Errorf("Embedded of %s: fatal %q", x.Name, msg)
	}
}

func propfindStatus(t *testing.T, url, user, password string) int {
	t.Helper()
	req, err := http.NewRequest("PROPFIND", url, strings.NewReader(`<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Depth", "0")
	req.Header.Set("Content-Type", "application/xml")
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// fatalOf runs fn with a testing.TB whose Fatal stops fn (as the real one stops a test) and returns the fatal
// message, "" if fn did not call it. Everything else goes to t.
func fatalOf(t *testing.T, fn func(testing.TB)) string {
	t.Helper()
	tb := &fatalRecorder{TB: t}
	var wg sync.WaitGroup
	wg.Go(func() { fn(tb) })
	wg.Wait()
	return tb.msg
}

type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

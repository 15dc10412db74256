package carddav_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
)

func TestChoose(t *testing.T) {
	books := []carddav.AddressBook{
		{Href: "/dav/home/contacts/", URL: "https://dav.example.com/dav/home/contacts/", DisplayName: "Contacts"},
		{Href: "/dav/home/work/", URL: "https://dav.example.com/dav/home/work/", DisplayName: "Work"},
		{Href: "/dav/home/work2/", URL: "https://dav.example.com/dav/home/work2/", DisplayName: "Work"},
	}
	cases := []struct {
		name, which string
		books       []carddav.AddressBook
		want        string // Href, or "" for an error
	}{
		{"only book by default", "", books[:1], "/dav/home/contacts/"},
		{"several books need a choice", "", books, ""},
		{"display name", "Contacts", books, "/dav/home/contacts/"},
		{"shared display name is ambiguous", "Work", books, ""},
		{"last path segment", "work2", books, "/dav/home/work2/"},
		{"path", "/dav/home/work/", books, "/dav/home/work/"},
		{"path without slash", "/dav/home/work", books, "/dav/home/work/"},
		{"URL", "https://dav.example.com/dav/home/work2/", books, "/dav/home/work2/"},
		{"URL on another host", "https://other.example.com/dav/home/work2/", books, ""},
		{"unknown name", "Family", books, ""},
		{"no books", "", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &carddav.Discovery{AddressBooks: tc.books}
			got, err := d.Choose(tc.which)
			if tc.want == "" {
				if !errors.Is(err, carddav.ErrNoAddressBook) {
					t.Errorf("Choose(%q) = %+v, %v; want ErrNoAddressBook", tc.which, got, err)
				}
				return
			}
			if err != nil || got.Href != tc.want {
				t.Errorf("Choose(%q) = %+v, %v; want %s", tc.which, got, err, tc.want)
			}
		})
	}
}

// discoveryFront forwards to a real server, except what fault says to answer itself.
func discoveryFront(t *testing.T, target string, fault func(r *http.Request, body string) int) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if status := fault(r, string(body)); status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL
}

// TestDiscoveryAsksAgainForLess: a server that cannot answer the context step's full request (500, as one does
// for properties it cannot compute on its root) is asked once more for the bare minimum, and discovery goes on.
func TestDiscoveryAsksAgainForLess(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	var refused int
	front := discoveryFront(t, srv.URL, func(r *http.Request, body string) int {
		if r.Method == "PROPFIND" && (r.URL.Path == "/" || r.URL.Path == "/.well-known/carddav") && strings.Contains(body, "addressbook-home-set") {
			refused++
			return http.StatusInternalServerError
		}
		return 0
	})
	c, err := carddav.New(front+"/", srv.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Discover(context.Background())
	if err != nil {
		t.Fatalf("discovery after a 500 on the full context request: %v", err)
	}
	if refused == 0 || len(d.AddressBooks) == 0 {
		t.Fatalf("refused %d times, found %+v", refused, d.AddressBooks)
	}
}

// TestDiscoveryErrorLeadsWithTheCause: when the well-known path fails for real and the root only says "not here",
// the error leads with the first; a server that does not answer at all is reported once.
func TestDiscoveryErrorLeadsWithTheCause(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	front := discoveryFront(t, srv.URL, func(r *http.Request, _ string) int {
		switch r.URL.Path {
		case "/.well-known/carddav":
			return http.StatusInternalServerError
		case "/":
			return http.StatusMethodNotAllowed
		}
		return 0
	})
	c, err := carddav.New(front + "/")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Discover(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "carddav: PROPFIND /.well-known/carddav: 500") ||
		!strings.Contains(err.Error(), "(and / answered 405 Method Not Allowed)") {
		t.Fatalf("error = %v, want it to lead with the 500", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err = carddav.New("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Discover(context.Background())
	if err == nil || strings.Count(err.Error(), "refused") != 1 || strings.Contains(err.Error(), "after") {
		t.Fatalf("a server that is down: %v, want its failure said once", err)
	}
}

package carddavserver_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// card returns a vCard 3.0 with CRLF line ends.
func card(uid, fn string) []byte {
	return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\nEND:VCARD\r\n")
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startWithBook starts a server and returns it with a context, a logged-in client and the default address book.
func startWithBook(t *testing.T, opts ...carddavserver.Option) (*carddavtest.Server, context.Context, *carddav.Client, carddav.AddressBook) {
	t.Helper()
	srv := carddavtest.Start(t, "embedded", opts...)
	ctx := testCtx(t)
	c := srv.Client(t)
	ab, err := c.AddressBook(ctx, srv.AddressBookURL)
	if err != nil {
		t.Fatal(err)
	}
	return srv, ctx, c, ab
}

// newBook makes an address book of its own for a test, so tests sharing a server do not see each other.
func newBook(ctx context.Context, t *testing.T, srv *carddavtest.Server, c *carddav.Client, name string) carddav.AddressBook {
	t.Helper()
	ab, err := c.CreateAddressBook(ctx, srv.URL+"addressbooks/"+srv.Username+"/"+name+"/", name, "test book "+name)
	if err != nil {
		t.Fatalf("create address book %s: %v", name, err)
	}
	return ab
}

// put creates a contact and returns its href and ETag.
func put(ctx context.Context, t *testing.T, c *carddav.Client, ab carddav.AddressBook, uid, fn string) (string, carddav.ETag) {
	t.Helper()
	href := carddav.HrefForUID(ab.URL, uid)
	etag, err := c.Put(ctx, href, card(uid, fn), carddav.CreateOnly())
	if err != nil {
		t.Fatalf("put %s: %v", uid, err)
	}
	return href, etag
}

// raw sends one request as the test user and returns the status, headers and body.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

func raw(t *testing.T, srv *carddavtest.Server, method, path string, header map[string]string, body string) rawResponse {
	t.Helper()
	return rawAs(t, srv, srv.Username, srv.Password, method, path, header, body)
}

func rawAs(t *testing.T, srv *carddavtest.Server, user, password, method, path string, header map[string]string, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(srv.URL, "/")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// multistatus is a parsed 207 body.
type multistatus struct {
	Responses []struct {
		Href      string `xml:"DAV: href"`
		Status    string `xml:"DAV: status"`
		Propstats []struct {
			Prop struct {
				Inner string `xml:",innerxml"`
			} `xml:"DAV: prop"`
			Status string `xml:"DAV: status"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
	SyncToken string `xml:"DAV: sync-token"`
}

func parseMultistatus(t *testing.T, r rawResponse) multistatus {
	t.Helper()
	if r.status != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207; body:\n%s", r.status, r.body)
	}
	var ms multistatus
	if err := xml.NewDecoder(strings.NewReader(r.body)).Decode(&ms); err != nil {
		t.Fatalf("parse multistatus: %v\n%s", err, r.body)
	}
	return ms
}

// propstat returns the inner XML of the prop element reported with status code for href, or "" .
func (ms multistatus) propstat(href string, code int) string {
	for _, r := range ms.Responses {
		if r.Href != href {
			continue
		}
		for _, ps := range r.Propstats {
			if strings.Contains(ps.Status, fmt.Sprintf(" %d ", code)) {
				return ps.Prop.Inner
			}
		}
	}
	return ""
}

func xmlHeaders(depth string) map[string]string {
	h := map[string]string{"Content-Type": "application/xml; charset=utf-8"}
	if depth != "" {
		h["Depth"] = depth
	}
	return h
}

// davError returns the local name of the condition in a DAV:error body.
func davError(t *testing.T, r rawResponse) string {
	t.Helper()
	var e struct {
		Inner []struct {
			XMLName xml.Name
			Href    string `xml:"DAV: href"`
		} `xml:",any"`
	}
	if err := xml.NewDecoder(bytes.NewReader([]byte(r.body))).Decode(&e); err != nil || len(e.Inner) == 0 {
		return ""
	}
	return e.Inner[0].XMLName.Local
}

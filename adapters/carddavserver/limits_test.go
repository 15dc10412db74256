package carddavserver_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/adapters/carddavserver"
)

// patience bounds every wait of these tests for the server to answer or close; the server's own bounds in
// them are far shorter, so only a server that holds on fails it.
const patience = 10 * time.Second

// dialFrom opens a TCP connection to the server from the loopback address from ("" for the system's
// choice, 127.0.0.1). Linux routes all of 127.0.0.0/8 to the loopback interface, so 127.0.0.2 is another
// client to the server.
func dialFrom(t *testing.T, srv *carddavtest.Server, from string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: patience}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(srv.URL, "http://"), "/"))
	if err != nil {
		t.Fatalf("dial from %q: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func authHeader(user, password string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)) + "\r\n"
}

// send writes s on c.
func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if err := c.SetWriteDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// readResponse reads one response from c, body included.
func readResponse(t *testing.T, c net.Conn, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response within %s: %v", patience, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return resp, string(body)
}

// expectClosed fails unless the server closes c (an end of file or a reset) without c sending anything more.
func expectClosed(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	n, err := br.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case n > 0:
		t.Errorf("the server sent more after the response")
	case errors.As(err, &ne) && ne.Timeout():
		t.Errorf("the server held the connection open for %s", patience)
	case err == nil:
		t.Errorf("read returned nothing and no error")
	}
}

// TestUnauthenticatedBodyIsNotRead: a request without valid credentials gets its 401 at once, whatever body it
// declares, and the connection is closed rather than the body read: the server neither waits for a body
// that trickles in nor asks for one that waits for "100 Continue".
func TestUnauthenticatedBodyIsNotRead(t *testing.T) {
	srv := carddavtest.Start(t, "embedded")
	for _, tc := range []struct {
		name, auth, expect string
	}{
		{name: "no credentials"},
		{name: "wrong password", auth: authHeader(srv.Username, "not the password")},
		{name: "unknown user", auth: authHeader("nobody", "whatever")},
		{name: "expect 100-continue", expect: "Expect: 100-continue\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFrom(t, srv, "")
			br := bufio.NewReader(c)
			// It declares 100,000 bytes and sends one (none when it waits for 100 Continue), then nothing.
			req := "PUT " + bookPath + "flood.vcf HTTP/1.1\r\nHost: x\r\nContent-Type: text/vcard\r\nContent-Length: 100000\r\n" +
				tc.auth + tc.expect + "\r\n"
			if tc.expect == "" {
				req += "B"
			}
			send(t, c, req)
			resp, _ := readResponse(t, c, br)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401 (a 100 Continue would mean the server asked for the body)", resp.StatusCode)
			}
			if !resp.Close {
				t.Errorf("the 401 does not close the connection: %v", resp.Header)
			}
			expectClosed(t, c, br)
		})
	}
}

// TestBodyIdleTimeout: a body that stops flowing is cut off with 408 after the idle bound, and its connection
// closed; a body that flows slowly but steadily takes as long as it needs, many times the bound.
func TestBodyIdleTimeout(t *testing.T) {
	const idle = time.Second
	srv := carddavtest.Start(t, "embedded", carddavserver.WithBodyIdleTimeout(idle))
	vcf := card("slow-1", "Slow Person")

	t.Run("stalled", func(t *testing.T) {
		c := dialFrom(t, srv, "")
		br := bufio.NewReader(c)
		send(t, c, fmt.Sprintf("PUT %sstalled.vcf HTTP/1.1\r\nHost: x\r\nContent-Type: text/vcard\r\nContent-Length: %d\r\n%s\r\n%s",
			bookPath, len(vcf), authHeader(srv.Username, srv.Password), vcf[:len(vcf)/2]))
		start := time.Now()
		resp, body := readResponse(t, c, br)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("status %d, want 408: %s", resp.StatusCode, body)
		}
		if waited := time.Since(start); waited < idle {
			t.Errorf("cut off after %s, before the idle bound %s", waited, idle)
		}
		if !resp.Close {
			t.Errorf("the 408 does not close the connection")
		}
		expectClosed(t, c, br)
		if r := raw(t, srv, "GET", bookPath+"stalled.vcf", nil, ""); r.status != http.StatusNotFound {
			t.Errorf("GET of the stalled PUT: %d, want 404: nothing may be stored", r.status)
		}
	})

	t.Run("slow but steady", func(t *testing.T) {
		// 30 pieces, one every 100 ms: three times the idle bound in all, never a tenth of it without a byte.
		body := &pacedReader{data: vcf, piece: (len(vcf) + 29) / 30, every: 100 * time.Millisecond}
		req, err := http.NewRequest(http.MethodPut, strings.TrimSuffix(srv.URL, "/")+bookPath+"steady.vcf", body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(len(vcf))
		req.Header.Set("Content-Type", "text/vcard")
		req.SetBasicAuth(srv.Username, srv.Password)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d, want 201", resp.StatusCode)
		}
		if took := time.Since(start); took < 2*idle {
			t.Errorf("the upload took %s; the test means it to outlast the idle bound %s several times", took, idle)
		}
		if r := raw(t, srv, "GET", bookPath+"steady.vcf", nil, ""); r.body != string(vcf) {
			t.Errorf("stored %q, want %q", r.body, vcf)
		}
	})
}

// pacedReader hands out data in pieces, one per tick: a client on a slow link.
type pacedReader struct {
	data  []byte
	piece int
	every time.Duration
	tick  *time.Ticker
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		p.tick.Stop()
		return 0, io.EOF
	}
	if p.tick == nil {
		p.tick = time.NewTicker(p.every)
	}
	<-p.tick.C // pacing the upload, not waiting for a condition
	n := copy(b, p.data[:min(len(p.data), p.piece)])
	p.data = p.data[n:]
	return n, nil
}

// TestConnectionFlood: one client that opens connection after connection and holds them cannot starve
// another: past its limit its connections are refused at once, so it never reaches the server's total, and
// another client is served meanwhile. A connection it closes makes room for a new one.
func TestConnectionFlood(t *testing.T) {
	const limit = 4
	srv, ctx, c, ab := startWithBook(t, carddavserver.WithMaxConnsPerClient(limit), carddavserver.WithMaxConns(2*limit))
	href, _ := put(ctx, t, c, ab, "flood-1", "Flood Victim")

	var held []net.Conn
	for range limit {
		fc := dialFrom(t, srv, "127.0.0.2")
		send(t, fc, "PROPFIND / HTTP/1.1\r\nHost: x\r\n") // headers never finished: held until ReadHeaderTimeout
		held = append(held, fc)
	}
	for i := range 50 {
		fc := dialFrom(t, srv, "127.0.0.2")
		br := bufio.NewReader(fc)
		if err := fc.SetReadDeadline(time.Now().Add(patience)); err != nil {
			t.Fatal(err)
		}
		// The request may or may not get out before the server closes the connection; either way no answer
		// comes, and the connection ends well within the patience.
		_, _ = io.WriteString(fc, "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := http.ReadResponse(br, nil); err == nil {
			t.Fatalf("connection %d over the limit was served: %s", limit+i+1, resp.Status)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection %d over the limit was held open: %v", limit+i+1, err)
		}
	}
	// Another client is served while the flood holds its connections.
	start := time.Now()
	obj, err := c.Get(ctx, href)
	if err != nil {
		t.Fatalf("the other client, during the flood: %v", err)
	}
	if !bytes.Equal(obj.Data, card("flood-1", "Flood Victim")) {
		t.Errorf("the other client got %q", obj.Data)
	}
	if took := time.Since(start); took > patience/2 {
		t.Errorf("the other client waited %s", took)
	}
	// Once the flooding client closes one connection, it may open another.
	held[0].Close()
	deadline := time.Now().Add(patience)
	for {
		fc := dialFrom(t, srv, "127.0.0.2")
		br := bufio.NewReader(fc)
		send(t, fc, "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
		if err := fc.SetReadDeadline(time.Now().Add(patience)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		fc.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection admitted after one of the flood's closed: %v", err)
		}
	}
}

// TestMaxConns: past the server's total, connections are refused whoever opens them.
func TestMaxConns(t *testing.T) {
	srv := carddavtest.Start(t, "embedded", carddavserver.WithMaxConns(2), carddavserver.WithMaxConnsPerClient(0))
	for range 2 {
		send(t, dialFrom(t, srv, "127.0.0.2"), "PROPFIND / HTTP/1.1\r\nHost: x\r\n")
	}
	fc := dialFrom(t, srv, "127.0.0.3")
	if err := fc.SetReadDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(fc, "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(fc), nil)
	if err == nil {
		t.Fatalf("a connection past the total was served: %s", resp.Status)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("a connection past the total was held open: %v", err)
	}
}

// TestWriteIdleTimeout: a client that stops reading a large response has it cut off after the write idle
// bound rather than holding the connection and the handler for good.
func TestWriteIdleTimeout(t *testing.T) {
	logs := &lockedBuffer{}
	srv := carddavtest.Start(t, "embedded", carddavserver.WithWriteIdleTimeout(500*time.Millisecond),
		carddavserver.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	// 32 MB of vCards: more than the kernel's buffers on both ends of a loopback connection hold.
	note := strings.Repeat("n", 32<<10)
	cards := make([][]byte, 1000)
	for i := range cards {
		cards[i] = []byte(fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big-%d\r\nFN:Big %d\r\nNOTE:%s\r\nEND:VCARD\r\n", i, i, note))
	}
	if _, err := srv.Embedded(t).Import(testCtx(t), srv.Username, carddavserver.DefaultBook, cards); err != nil {
		t.Fatal(err)
	}
	c := dialFrom(t, srv, "")
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // so the kernel holds little of what the client never reads
	}
	send(t, c, "GET "+bookPath+" HTTP/1.1\r\nHost: x\r\n"+authHeader(srv.Username, srv.Password)+"\r\n")
	deadline := time.Now().Add(patience)
	for !strings.Contains(logs.String(), "response cut short") {
		if time.Now().After(deadline) {
			t.Fatalf("the response to a client that reads nothing was not cut off within %s; log:\n%s", patience, logs.String())
		}
		time.Sleep(20 * time.Millisecond) // polling the log with a deadline
	}
	if !strings.Contains(logs.String(), os.ErrDeadlineExceeded.Error()) {
		t.Errorf("the response was cut short, but not for the write deadline:\n%s", logs.String())
	}
}

// lockedBuffer is a log destination the server's goroutines and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRequestAmplification: a request that names one thing many times gets it answered once, and one that
// names more distinct things than a limit allows gets a 400 naming the limit, instead of an answer many
// times the request's size.
func TestRequestAmplification(t *testing.T) {
	srv, ctx, c, ab := startWithBook(t, carddavserver.WithMaxProperties(12), carddavserver.WithMaxMultigetHrefs(3),
		carddavserver.WithMaxQueryFilters(4))
	href, _ := put(ctx, t, c, ab, "amp-1", "Amplified Person")
	const dav = `xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"`

	t.Run("duplicate properties", func(t *testing.T) {
		// The report that started this: one property named 199,000 times.
		body := `<propfind ` + dav + `><prop>` + strings.Repeat("<current-user-privilege-set/>", 199_000) + `</prop></propfind>`
		r := raw(t, srv, "PROPFIND", bookPath, xmlHeaders("0"), body)
		parseMultistatus(t, r)
		if len(r.body) > 2048 {
			t.Errorf("a %d-byte request got a %d-byte answer", len(body), len(r.body))
		}
		if n := strings.Count(r.body, "<d:current-user-privilege-set>"); n != 1 {
			t.Errorf("the property is answered %d times, want once:\n%s", n, r.body)
		}
	})
	t.Run("too many properties", func(t *testing.T) {
		var props strings.Builder
		for i := range 13 {
			fmt.Fprintf(&props, `<p%d xmlns="urn:x"/>`, i)
		}
		r := raw(t, srv, "PROPFIND", bookPath, xmlHeaders("1"), `<propfind `+dav+`><prop>`+props.String()+`</prop></propfind>`)
		if r.status != http.StatusBadRequest || davError(t, r) != "too-many-properties" {
			t.Errorf("13 distinct properties, limit 12: %d %s; want 400 too-many-properties", r.status, r.body)
		}
		sync := `<sync-collection ` + dav + `><sync-token/><sync-level>1</sync-level><prop>` + props.String() + `</prop></sync-collection>`
		if r := raw(t, srv, "REPORT", bookPath, xmlHeaders("0"), sync); r.status != http.StatusBadRequest || davError(t, r) != "too-many-properties" {
			t.Errorf("sync-collection with 13 distinct properties: %d %s; want 400 too-many-properties", r.status, r.body)
		}
	})
	t.Run("a long property name", func(t *testing.T) {
		body := `<propfind ` + dav + `><prop><` + strings.Repeat("x", 600) + ` xmlns="urn:x"/></prop></propfind>`
		if r := raw(t, srv, "PROPFIND", bookPath, xmlHeaders("1"), body); r.status != http.StatusBadRequest {
			t.Errorf("a 600-byte property name: %d; want 400", r.status)
		}
	})
	t.Run("duplicate multiget hrefs", func(t *testing.T) {
		body := `<C:addressbook-multiget ` + dav + `><prop><getetag/><C:address-data/></prop>` +
			strings.Repeat("<href>"+href+"</href>", 50_000) + strings.Repeat("<href>/elsewhere</href>", 50_000) + `</C:addressbook-multiget>`
		ms := parseMultistatus(t, raw(t, srv, "REPORT", bookPath, xmlHeaders(""), body))
		if len(ms.Responses) != 2 {
			t.Errorf("%d responses to two distinct hrefs named 50,000 times each, want 2", len(ms.Responses))
		}
	})
	t.Run("too many hrefs", func(t *testing.T) {
		body := `<C:addressbook-multiget ` + dav + `><prop><getetag/></prop><href>/a</href><href>/b</href><href>/c</href><href>/d</href></C:addressbook-multiget>`
		if r := raw(t, srv, "REPORT", bookPath, xmlHeaders(""), body); r.status != http.StatusBadRequest || davError(t, r) != "too-many-hrefs" {
			t.Errorf("4 hrefs, limit 3: %d %s; want 400 too-many-hrefs", r.status, r.body)
		}
	})
	t.Run("too many query filters", func(t *testing.T) {
		within := `<C:prop-filter name="FN"><C:text-match>a</C:text-match></C:prop-filter>` +
			`<C:prop-filter name="EMAIL"><C:param-filter name="TYPE"><C:is-not-defined/></C:param-filter></C:prop-filter>`
		query := func(filters string) string {
			return `<C:addressbook-query ` + dav + `><prop><getetag/></prop><C:filter test="anyof">` + filters + `</C:filter></C:addressbook-query>`
		}
		if r := raw(t, srv, "REPORT", bookPath, xmlHeaders("1"), query(within)); r.status != http.StatusMultiStatus {
			t.Errorf("4 filter elements, limit 4: %d %s; want 207", r.status, r.body)
		}
		over := within + `<C:prop-filter name="UID"/>`
		if r := raw(t, srv, "REPORT", bookPath, xmlHeaders("1"), query(over)); r.status != http.StatusBadRequest || davError(t, r) != "too-many-filters" {
			t.Errorf("5 filter elements, limit 4: %d %s; want 400 too-many-filters", r.status, r.body)
		}
	})
}

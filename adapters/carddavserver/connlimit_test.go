package carddavserver

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"testing"
)

func TestClientOf(t *testing.T) {
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(mustAddrPort(t, s)) }
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"one IPv4 address, two ports", "192.0.2.1:1000", "192.0.2.1:2000", true},
		{"two IPv4 addresses", "192.0.2.1:1000", "192.0.2.2:1000", false},
		{"IPv4 and the same address mapped into IPv6", "192.0.2.1:1000", "[::ffff:192.0.2.1]:1000", true},
		{"one IPv6 /64", "[2001:db8:1:2::1]:1000", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:1000", true},
		{"two IPv6 /64s", "[2001:db8:1:2::1]:1000", "[2001:db8:1:3::1]:1000", false},
		{"a zone does not make another client", "[fe80::1%eth0]:1000", "[fe80::2%eth1]:1000", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := clientOf(tcp(tc.a)), clientOf(tcp(tc.b))
			if (a == b) != tc.same {
				t.Errorf("clientOf(%s) = %q, clientOf(%s) = %q; same client: %v, want %v", tc.a, a, tc.b, b, a == b, tc.same)
			}
		})
	}
}

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// TestConnLimiter: a refused connection is not counted, and a closed or hijacked one stops counting.
func TestConnLimiter(t *testing.T) {
	lim := newConnLimiter(2, 3, slog.New(slog.DiscardHandler))
	conn := func(addr string) net.Conn {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return addrConn{Conn: a, remote: net.TCPAddrFromAddrPort(mustAddrPort(t, addr))}
	}
	a1, a2, a3 := conn("192.0.2.1:1"), conn("192.0.2.1:2"), conn("192.0.2.1:3")
	b1, c1 := conn("192.0.2.2:1"), conn("192.0.2.3:1")
	for _, step := range []struct {
		c     net.Conn
		state http.ConnState // admit when 0
		want  bool
	}{
		{c: a1, want: true},
		{c: a2, want: true},
		{c: a3, want: false}, // over the client's 2
		{c: b1, want: true},
		{c: c1, want: false}, // over the total of 3
		{c: a1, state: http.StateClosed},
		{c: a3, want: true},
		{c: c1, want: false},           // the total again: a1 went, a3 came
		{c: b1, state: http.StateIdle}, // still open
		{c: c1, want: false},
		{c: a2, state: http.StateHijacked},
		{c: c1, want: true},
	} {
		if step.state != 0 {
			lim.connState(step.c, step.state)
			continue
		}
		if got := lim.admit(step.c); got != step.want {
			t.Fatalf("admit %s = %v, want %v (open: %v)", step.c.RemoteAddr(), got, step.want, lim.clients)
		}
	}
}

// addrConn is a connection that says it comes from remote.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

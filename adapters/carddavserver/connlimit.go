package carddavserver

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter counts the open connections of each client and of the whole server, so that one client cannot
// take every connection (and file descriptor) the server has. A connection over a limit is closed as soon as
// it is accepted, before it costs a goroutine, a TLS handshake or a request parse, and without making any
// other connection wait.
type connLimiter struct {
	perClient, total int // 0: no limit
	logger           *slog.Logger

	mu      sync.Mutex
	clients map[string]int      // open connections by client
	conns   map[net.Conn]string // the client of each open connection
	refused int                 // since the last warning
	warned  time.Time
}

// refusalWarningInterval spaces out the warnings about refused connections, so that a flood does not flood
// the log as well.
const refusalWarningInterval = time.Minute

func newConnLimiter(perClient, total int, logger *slog.Logger) *connLimiter {
	return &connLimiter{perClient: perClient, total: total, logger: logger, clients: map[string]int{}, conns: map[net.Conn]string{}}
}

// clientOf names the client a connection comes from: its IPv4 address, or the /64 prefix of its IPv6
// address, since one host (or one home's router) commonly holds a whole /64 and could otherwise open each
// connection from an address of its own.
func clientOf(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.AddrPort().Addr().Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return ip.String()
	}
	return p.String()
}

// admit counts c and reports whether it is within the limits; a connection it refuses is not counted.
func (l *connLimiter) admit(c net.Conn) bool {
	client := clientOf(c.RemoteAddr())
	l.mu.Lock()
	over := (l.total > 0 && len(l.conns) >= l.total) || (l.perClient > 0 && l.clients[client] >= l.perClient)
	if !over {
		l.clients[client]++
		l.conns[c] = client
		l.mu.Unlock()
		return true
	}
	l.refused++
	now := time.Now()
	var refused int
	if now.Sub(l.warned) >= refusalWarningInterval {
		refused, l.refused, l.warned = l.refused, 0, now
	}
	open, all := l.clients[client], len(l.conns)
	l.mu.Unlock()
	if refused > 0 {
		l.logger.Warn("carddavserver: refusing connections over the limits", "client", client, "client_conns", open,
			"max_per_client", l.perClient, "conns", all, "max_conns", l.total, "refused", refused)
	}
	return false
}

// connState is the http.Server's ConnState hook: a connection closed or hijacked no longer counts.
func (l *connLimiter) connState(c net.Conn, state http.ConnState) {
	if state != http.StateClosed && state != http.StateHijacked {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	client, ok := l.conns[c]
	if !ok {
		return
	}
	delete(l.conns, c)
	if l.clients[client]--; l.clients[client] == 0 {
		delete(l.clients, client)
	}
}

// limitListener closes the connections its limiter refuses and hands the others on.
type limitListener struct {
	net.Listener
	lim *connLimiter
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.lim.admit(c) {
			return c, nil
		}
		c.Close() //nolint:errcheck // refused: nothing was sent on it, and nothing is left to do
	}
}

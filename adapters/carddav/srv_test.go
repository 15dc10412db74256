package carddav_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/contactsync/contactsync/adapters/carddav"
)

// dnsServer serves records on loopback UDP and returns a resolver that asks only it.
func dnsServer(t *testing.T, records ...string) *net.Resolver {
	t.Helper()
	zone := map[uint16]map[string][]dns.RR{}
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
		h := rr.Header()
		if zone[h.Rrtype] == nil {
			zone[h.Rrtype] = map[string][]dns.RR{}
		}
		zone[h.Rrtype][h.Name] = append(zone[h.Rrtype][h.Name], rr)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		found := false
		for _, qs := range q.Question {
			if rrs, ok := zone[qs.Qtype][qs.Name]; ok {
				m.Answer, found = append(m.Answer, rrs...), true
			}
		}
		if !found {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func TestStartFor(t *testing.T) {
	r := dnsServer(t,
		"_carddavs._tcp.example.org. 60 IN SRV 10 1 8443 dav.example.org.",
		"_carddavs._tcp.example.org. 60 IN SRV 20 1 443 backup.example.org.",
		`_carddavs._tcp.example.org. 60 IN TXT "path=/dav/card/"`,
		"_carddav._tcp.example.org. 60 IN SRV 0 1 80 plain.example.org.",
		"_carddavs._tcp.nodav.example. 60 IN SRV 0 0 0 .",
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, tc := range map[string]struct {
		in       string
		urls     []string
		username string
	}{
		"url as is":      {"http://127.0.0.1:5232/", []string{"http://127.0.0.1:5232/"}, ""},
		"no scheme path": {"dav.example.org/dav/", []string{"https://dav.example.org/dav/"}, ""},
		"host and port":  {"dav.example.org:8443", []string{"https://dav.example.org:8443/"}, ""},
		"srv and txt": {"example.org", []string{"https://dav.example.org:8443/dav/card/", "https://backup.example.org/dav/card/",
			"http://plain.example.org/.well-known/carddav", "https://example.org/"}, ""},
		"email": {"alice@example.org", []string{"https://dav.example.org:8443/dav/card/", "https://backup.example.org/dav/card/",
			"http://plain.example.org/.well-known/carddav", "https://example.org/"}, "alice@example.org"},
		"service declined": {"nodav.example", []string{"https://nodav.example/"}, ""},
		"no records":       {"elsewhere.example", []string{"https://elsewhere.example/"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			st, err := carddav.StartFor(ctx, r, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(st.URLs, tc.urls) || st.Username != tc.username {
				t.Fatalf("StartFor(%q) = %q (user %q), want %q (user %q)", tc.in, st.URLs, st.Username, tc.urls, tc.username)
			}
			if tc.in != tc.urls[0] && st.Note == "" {
				t.Errorf("no note saying how %q was read", tc.in)
			}
		})
	}
	for _, bad := range []string{"", "two words", "@"} {
		if _, err := carddav.StartFor(ctx, r, bad); err == nil {
			t.Errorf("StartFor(%q) accepted", bad)
		}
	}
}

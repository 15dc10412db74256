package carddav

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Resolver looks up the DNS records of RFC 6764; *net.Resolver implements it (tests point one at a DNS server
// on loopback).
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Start is where discovery begins for what a user typed.
type Start struct {
	// URLs are the endpoints to try, in order; discovery takes the first that leads to an address book.
	URLs []string
	// Username is the email address typed, when the user gave one (servers commonly take it as the login).
	Username string
	// Note says how the input was read, for the user ("no scheme given: using https://…"); "" when it was a URL.
	Note string
}

// StartFor reads a user's server address (RFC 6764 section 6):
//   - an http(s) URL is used as is;
//   - a host with a path but no scheme ("dav.example.org/dav/") means https://, as other clients read it;
//   - a bare domain or an email address is looked up: the _carddavs._tcp SRV records (https), then the
//     _carddav._tcp ones (http), in the order of their priority and weight, each with the path of the TXT record
//     "path=…" at the same name or else /.well-known/carddav; then https://domain/ itself.
//
// A lookup that fails (no such records, no DNS) only drops its candidates: the domain itself is always tried.
func StartFor(ctx context.Context, r Resolver, input string) (Start, error) {
	in := strings.TrimSpace(input)
	if in == "" {
		return Start{}, errors.New("carddav: empty server address")
	}
	if strings.Contains(in, "://") {
		return Start{URLs: []string{in}}, nil
	}
	var st Start
	domain := in
	if at := strings.LastIndexByte(in, '@'); at >= 0 && !strings.Contains(in, "/") {
		st.Username, domain = in, in[at+1:]
	}
	if strings.Contains(domain, "/") {
		u := "https://" + domain
		if _, err := url.Parse(u); err != nil {
			return Start{}, fmt.Errorf("carddav: server address %q does not parse", input)
		}
		st.URLs, st.Note = []string{u}, fmt.Sprintf("no scheme given: using %s", u)
		return st, nil
	}
	if domain == "" || strings.ContainsAny(domain, " \t?#") {
		return Start{}, fmt.Errorf("carddav: server address %q is neither a URL, a domain nor an email address", input)
	}
	if _, _, err := net.SplitHostPort(domain); err == nil {
		// A port names the server itself: no service records to look up.
		u := "https://" + domain + "/"
		st.URLs, st.Note = []string{u}, fmt.Sprintf("no scheme given: using %s", u)
		return st, nil
	}
	for _, svc := range []struct{ name, scheme string }{{"carddavs", "https"}, {"carddav", "http"}} {
		urls := srvURLs(ctx, r, svc.name, svc.scheme, domain)
		st.URLs = append(st.URLs, urls...)
	}
	st.URLs = append(st.URLs, "https://"+domain+"/")
	if len(st.URLs) > 1 {
		st.Note = fmt.Sprintf("found %s through DNS (RFC 6764)", st.URLs[0])
	} else {
		st.Note = fmt.Sprintf("no CardDAV service records for %s: trying https://%s/", domain, domain)
	}
	return st, nil
}

// srvURLs is the candidates of one SRV service, empty when it has none (or says "not offered": target ".").
func srvURLs(ctx context.Context, r Resolver, service, scheme, domain string) []string {
	if r == nil {
		return nil
	}
	_, addrs, err := r.LookupSRV(ctx, service, "tcp", domain)
	if err != nil {
		return nil
	}
	path := "/.well-known/carddav"
	if txts, err := r.LookupTXT(ctx, "_"+service+"._tcp."+domain); err == nil {
		for _, t := range txts {
			if p, ok := strings.CutPrefix(strings.TrimSpace(t), "path="); ok && strings.HasPrefix(p, "/") {
				path = p
				break
			}
		}
	}
	var out []string
	for _, a := range addrs {
		target := strings.TrimSuffix(a.Target, ".")
		if target == "" || a.Port == 0 {
			continue // RFC 2782: "." means the service is decidedly not available
		}
		host := target
		if !(scheme == "https" && a.Port == 443) && !(scheme == "http" && a.Port == 80) {
			host = net.JoinHostPort(target, strconv.Itoa(int(a.Port)))
		}
		out = append(out, scheme+"://"+host+path)
	}
	return out
}

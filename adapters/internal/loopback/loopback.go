// Package loopback tells whether a host or address is this machine, for the rules of the adapters that allow
// plain http, basic auth over it, or an admin request, only there (the CardDAV client, package fxa and its
// development provider).
package loopback

import (
	"net"
	"net/netip"
	"strings"
)

// Host reports whether host (a name or an IP literal, without port) names this machine: localhost,
// 127.0.0.0/8 or ::1.
func Host(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr reports whether a "host:port" network address, as in http.Request.RemoteAddr, is a loopback IP.
// Names do not count: a peer's address is always numeric.
func Addr(hostport string) bool {
	ap, err := netip.ParseAddrPort(hostport)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

package loopback

import "testing"

func TestHostAndAddr(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"": false, "0.0.0.0": false, "::": false, "192.168.1.1": false, "localhost.example": false, "example.org": false,
	} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v", host, got)
		}
	}
	for addr, want := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:443": true, "[::ffff:127.0.0.1]:1": true,
		"localhost:80": false, "10.0.0.1:80": false, "127.0.0.1": false, "": false,
	} {
		if got := Addr(addr); got != want {
			t.Errorf("Addr(%q) = %v", addr, got)
		}
	}
}

package main

import (
	"context"
	"fmt"

	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

// serve runs the provider until ctx ends (SIGINT, SIGTERM). Its URL is the one line on stdout, for scripts;
// the rest goes to stderr.
func serve(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("serve", stdio)
	addr := fs.String("addr", devidp.DefaultAddr, "loopback address to listen on (port 0: a free one)")
	keys := fs.String("keys", "", "key file (JWK Set with private keys, mode 0600): loaded if it exists, else created; without it the keys live as long as the process")
	clientID := fs.String("client-id", devidp.DefaultClientID, "default client_id and audience of minted tokens")
	scope := fs.String("scope", "", "default scope of minted tokens (package fxa's default scope if empty)")
	if err := parse(fs, args); err != nil {
		return err
	}
	opts := []devidp.Option{devidp.WithClientID(*clientID)}
	if *keys != "" {
		opts = append(opts, devidp.WithKeyFile(*keys))
	}
	if *scope != "" {
		opts = append(opts, devidp.WithScope(*scope))
	}
	s, err := devidp.Start(*addr, opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Err, `contactsync-devidp: serving %s — %s
  issuer   %s
  key set  %s
  verify   contactsync server --fxa-issuer %s --fxa-jwks %s --fxa-audience %s
  mint     contactsync-devidp mint --idp %s --uid 0123456789abcdef0123456789abcdef --email you@example.org
`, s.URL, warning, s.Issuer(), s.JWKSURL(), s.Issuer(), s.JWKSURL(), s.ClientID(), s.URL)
	fmt.Fprintln(stdio.Out, s.URL) // last, so whoever reads it finds the provider ready
	<-ctx.Done()
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintln(stdio.Err, "contactsync-devidp: stopped")
	return nil
}

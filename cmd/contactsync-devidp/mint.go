package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

// mint asks a running provider for a token. This is the one place the project prints a token: a person asked
// for it, to hand it to a client (`--token-file`, `--token-command`).
func mint(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("mint", stdio)
	idp := fs.String("idp", os.Getenv("CONTACTSYNC_DEVIDP"), "URL of the running provider, as serve printed it (env CONTACTSYNC_DEVIDP)")
	var req devidp.MintRequest
	fs.StringVar(&req.UID, "uid", "", "the FxA uid (sub): lowercase hex, FxA's have 32 digits (required)")
	fs.StringVar(&req.Email, "email", "", "the email claim")
	fs.Func("generation", "fxa-generation, an integer ≥ 0 (omitted when not given)", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		req.Generation = &n
		return nil
	})
	fs.StringVar(&req.Scope, "scope", "", "scope, space-separated (the provider's default if empty)")
	fs.Func("audience", "an audience (repeat for several; the client id if none)", func(s string) error {
		req.Audience = append(req.Audience, s)
		return nil
	})
	fs.StringVar(&req.ClientID, "client-id", "", "client_id (the provider's default if empty)")
	ttl := fs.Duration("ttl", devidp.DefaultTTL, "lifetime of the token, at most 24h")
	fs.StringVar(&req.Alg, "alg", "", "RS256 (FxA's, the default) or ES256")
	out := fs.String("out", "", "write the token to this file (mode 0600) instead of stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *idp == "" {
		return fmt.Errorf("%w: --idp URL is required (or CONTACTSYNC_DEVIDP)", errUsage)
	}
	if req.UID == "" {
		return fmt.Errorf("%w: --uid is required", errUsage)
	}
	req.TTL = ttl.String()

	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := devidp.MintAt(ctx, client, strings.TrimSpace(*idp), req)
	if err != nil {
		return err
	}
	if *out != "" {
		return devidp.WritePrivateFile(*out, []byte(resp.AccessToken+"\n"))
	}
	_, err = fmt.Fprintln(stdio.Out, resp.AccessToken)
	return err
}

// Command contactsync-devidp is a development identity provider standing in for Firefox Accounts, for tests
// and local trials only — never production: it signs a token for any uid anyone on this machine asks for.
//
// `contactsync-devidp serve` listens on loopback (a free port of 127.0.0.1 by default), prints its URL,
// which is the issuer, and serves the OpenID Connect discovery document, the key set at /v1/jwks, an admin
// endpoint, POST /mint, and the OAuth authorization-code flow with PKCE at /authorization and /v1/token.
// `contactsync-devidp mint --idp URL --uid UID …` asks it for an access token and prints the token, or
// writes it to a file with mode 0600. docs/accounts.md describes both.
//
// The provider itself is package adapters/fxa/devidp, which tests start in their own process.
package main

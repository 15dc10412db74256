// Package devidp is a development identity provider that stands in for Firefox Accounts, for tests and local
// trials only, never for production: it signs whatever it is asked to, for anyone on this machine.
//
// A Provider holds an RSA (RS256) and an EC P-256 (ES256) signing key, generated or loaded from a key file,
// and mints access tokens in the form FxA issues them (RFC 9068 JWTs: typ at+jwt, sub the uid, scope,
// client_id, fxa-generation) that package fxa verifies. A Server serves it on loopback with an OpenID
// Connect discovery document (OpenID Connect Discovery 1.0), the key set at /v1/jwks (RFC 7517; kids are
// RFC 7638 thumbprints) and an admin endpoint, POST /mint, that mints a token on request. Tests of other
// packages start a Server in their process; cmd/contactsync-devidp runs one for a person.
//
// Token.Tamper makes the broken tokens a verifier must refuse (forged signature, another key, alg none, HS256
// keyed with the public key, …), so every test of refusals uses the same forgeries.
//
// It also runs the OAuth authorization-code flow with PKCE (RFC 6749 section 4.1, RFC 7636) at FxA's paths,
// /authorization and /v1/token, without a login page: the authorization request names the user itself.
// Scoped key material (FxA's keys_jwe) and refresh tokens are not provided.
package devidp

// Package fxa verifies Firefox Accounts OAuth access tokens: JWTs in the profile of RFC 9068 (JSON Web
// Token Profile for OAuth 2.0 Access Tokens), signed (RFC 7515) by the issuer with a key it publishes in a
// JWK Set (RFC 7517). A Verifier answers who the token speaks for (the FxA uid), since when, until when and
// for what scope, or which check refused it.
//
// Checks, in order: the size (MaxTokenSize); alg, one of the configured RS256 and ES256 (RFC 7518), never
// none nor an HMAC; typ at+jwt; kid, looked up in the issuer's key set and of the type alg needs; the
// signature; iss exactly the issuer; aud, when audiences are configured; exp, nbf and iat with at most
// MaxLeeway of clock skew; sub an FxA uid; the required scope among the scope-tokens (RFC 6749 section
// 3.3); and the types of fxa-generation, email, client_id and jti. Each refusal is an *Error with its Code.
//
// Tokens are parsed with github.com/golang-jwt/jwt/v5 and key sets with github.com/go-jose/go-jose/v4.
// docs/accounts.md describes the checks, the codes and the key set caching for operators.
package fxa

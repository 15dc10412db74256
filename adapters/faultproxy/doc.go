// Package faultproxy puts the failures a CardDAV client meets on real networks between it and a real server,
// on demand and reproducibly: a reverse proxy (Proxy) that, at a chosen rate and from a seeded random source,
// answers a request with a 412 race, a 5xx or 429 with Retry-After, a connection reset before the request
// reached the server or after the server applied it, a timeout, a truncated or garbled body, or a slow one;
// and a hostile front (Hostile) that adds to a real address book members no client should trust — malformed
// vCards, hrefs outside the collection or on another host, gigantic bodies, wrong content types — and answers
// listings with XML bombs.
//
// The statuses and headers are those of HTTP semantics (RFC 9110: 412, 429 with Retry-After, 5xx); the
// requests recognised are WebDAV's and CardDAV's (RFC 4918, RFC 6352: conditional PUT and DELETE, PROPFIND,
// the addressbook-multiget and sync-collection REPORTs of RFC 6352 and RFC 6578).
//
// It exists for tests and for the test bed (package engine/testbed); nothing a user runs goes through it.
package faultproxy

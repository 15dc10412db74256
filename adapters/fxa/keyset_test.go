package fxa_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/contactsync/contactsync/adapters/fxa"
	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

// publishedKeys returns the provider's public keys as JSON objects, RSA first.
func publishedKeys(t *testing.T, f *fixture) (rsaKey, ecKey map[string]any) {
	t.Helper()
	data, err := f.KeySet()
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		switch k["kty"] {
		case "RSA":
			rsaKey = k
		case "EC":
			ecKey = k
		}
	}
	if rsaKey == nil || ecKey == nil {
		t.Fatalf("provider published %v", set.Keys)
	}
	return rsaKey, ecKey
}

func jwkOf(t *testing.T, key any, kid string) map[string]any {
	t.Helper()
	data, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func with(m map[string]any, kv ...any) map[string]any {
	c := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func fileVerifier(t *testing.T, f *fixture, keys ...map[string]any) *fxa.Verifier {
	t.Helper()
	data, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return fileVerifierOf(t, f, data)
}

func fileVerifierOf(t *testing.T, f *fixture, doc []byte) *fxa.Verifier {
	t.Helper()
	path := t.TempDir() + "/jwks.json"
	if err := devidp.WritePrivateFile(path, doc); err != nil {
		t.Fatal(err)
	}
	v, err := fxa.NewVerifier(f.Issuer(), path, fxa.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Keys that cannot serve RS256 or ES256 are skipped (RFC 7517 section 5), and the others still work.
func TestKeySetSkipsUnusableKeys(t *testing.T) {
	f := newFixture(t)
	rsaPub, ecPub := publishedKeys(t, f)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	junk := []map[string]any{
		{"kty": "oct", "kid": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"},
		jwkOf(t, small, "rsa-private"),
		jwkOf(t, &small.PublicKey, "rsa-1024"),
		jwkOf(t, &p384.PublicKey, "p384"),
		jwkOf(t, edPub, "ed25519"),
		with(rsaPub, "kid", "enc", "use", "enc"),
		with(rsaPub, "kid", "private-member", "d", "AQAB"),
		with(rsaPub, "kid", "garbage", "n", "!!"),
		with(rsaPub, "kid", "upper-kty", "kty", nil, "KTY", "RSA"),
		with(rsaPub, "kid", "unknown-kty", "kty", "XYZ"),
		with(rsaPub, "kid", nil),
	}
	v := fileVerifier(t, f, append(junk, rsaPub, ecPub)...)
	mustAccept(t, v, f.mint(t, devidp.Token{}))
	mustAccept(t, v, f.mint(t, devidp.Token{Alg: fxa.ES256}))
	for _, k := range junk {
		kid, _ := k["kid"].(string)
		if kid == "" {
			continue
		}
		alg := fxa.RS256
		if kid == "p384" {
			alg = fxa.ES256
		}
		t.Run(kid, func(t *testing.T) {
			mustRefuse(t, v, f.mint(t, devidp.Token{Alg: alg, Header: map[string]any{"kid": kid}}), fxa.CodeUnknownKID)
		})
	}

	// A set of nothing usable is no set: it cannot replace a good one.
	mustRefuse(t, fileVerifier(t, f, junk...), f.mint(t, devidp.Token{}), fxa.CodeJWKSUnavailable)
}

func TestKeySetKeysSharingAKID(t *testing.T) {
	f := newFixture(t)
	rsaPub, ecPub := publishedKeys(t, f)
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	v := fileVerifier(t, f,
		jwkOf(t, &stranger.PublicKey, "shared"),
		with(rsaPub, "kid", "shared"),
		with(ecPub, "kid", "shared"),
		with(rsaPub, "kid", "says-es256", "alg", fxa.ES256),
	)
	mustAccept(t, v, f.mint(t, devidp.Token{Header: map[string]any{"kid": "shared"}}))
	mustAccept(t, v, f.mint(t, devidp.Token{Alg: fxa.ES256, Header: map[string]any{"kid": "shared"}}))
	mustRefuse(t, v, f.mint(t, devidp.Token{Tamper: devidp.OtherKey, Header: map[string]any{"kid": "shared"}}), fxa.CodeBadSignature)
	// The key's own alg parameter binds it to one algorithm.
	mustRefuse(t, v, f.mint(t, devidp.Token{Header: map[string]any{"kid": "says-es256"}}), fxa.CodeBadAlg)
}

func TestKeySetBounds(t *testing.T) {
	f := newFixture(t)
	rsaPub, _ := publishedKeys(t, f)
	var many []map[string]any
	for i := range 64 {
		many = append(many, with(rsaPub, "kid", fmt.Sprintf("k%d", i)))
	}
	v := fileVerifier(t, f, append(many, rsaPub)...)
	mustAccept(t, v, f.mint(t, devidp.Token{Header: map[string]any{"kid": "k63"}}))
	mustRefuse(t, v, f.mint(t, devidp.Token{}), fxa.CodeUnknownKID) // the 65th key is not kept

	big, err := json.Marshal(map[string]any{"keys": []any{rsaPub}, "pad": strings.Repeat("x", 1<<20)})
	if err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, fileVerifierOf(t, f, big), f.mint(t, devidp.Token{}), fxa.CodeJWKSUnavailable)
	for _, doc := range []string{"", "null", "[]", `{"keys": 5}`, `{"keys": [5, "x", null]}`, "{"} {
		mustRefuse(t, fileVerifierOf(t, f, []byte(doc)), f.mint(t, devidp.Token{}), fxa.CodeJWKSUnavailable)
	}
}

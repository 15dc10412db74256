package fxa_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/contactsync/contactsync/adapters/fxa"
	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

// FuzzVerify feeds Verify arbitrary strings, seeded with honest and forged tokens. Verify must never panic,
// and must accept only a token whose signature the provider's own key makes. The keys come from a committed
// file and the issuer and clock are fixed, so that every fuzzing process shares the seeds' keys.
func FuzzVerify(f *testing.F) {
	keyFile := filepath.Join(f.TempDir(), "keys.json")
	data, err := os.ReadFile("testdata/test-only-private-keys.json")
	if err != nil {
		f.Fatal(err)
	}
	if err := devidp.WritePrivateFile(keyFile, data); err != nil {
		f.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	p, err := devidp.NewProvider("https://fuzz.invalid", devidp.WithKeyFile(keyFile), devidp.WithClock(now))
	if err != nil {
		f.Fatal(err)
	}
	set, err := p.KeySet()
	if err != nil {
		f.Fatal(err)
	}
	jwks := filepath.Join(f.TempDir(), "jwks.json")
	if err := devidp.WritePrivateFile(jwks, set); err != nil {
		f.Fatal(err)
	}
	v, err := fxa.NewVerifier(p.Issuer(), jwks, fxa.WithClock(now), fxa.WithAudience(devidp.DefaultClientID))
	if err != nil {
		f.Fatal(err)
	}
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(set, &keys); err != nil {
		f.Fatal(err)
	}

	for _, alg := range []string{fxa.RS256, fxa.ES256} {
		for _, tamper := range []devidp.Tamper{devidp.Intact, devidp.ForgedSignature, devidp.OtherKey,
			devidp.UnknownKID, devidp.AlgNone, devidp.HMACWithPublicKey, devidp.KIDOfOtherType} {
			tok, err := p.Mint(devidp.Token{UID: testUID, Alg: alg, Email: "a@example.org",
				Generation: ptr(int64(7)), Tamper: tamper})
			if err != nil {
				f.Fatal(err)
			}
			if tamper == devidp.Intact {
				mustAccept(f, v, tok) // else the property below would hold vacuously
			}
			f.Add(tok)
		}
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 100)} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err != nil {
			if fxa.CodeOf(err) == "" {
				t.Fatalf("refusal without a code: %v", err)
			}
			return
		}
		if !signedBy(keys, token) {
			t.Fatalf("accepted a token the provider's keys did not sign: %q", token)
		}
		if !fxa.ValidUID(c.UID) || !c.HasScope(fxa.DefaultScope) {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}

// signedBy checks a compact token's RS256 or ES256 signature against every key of set, independently of the
// jwt library.
func signedBy(set jose.JSONWebKeySet, token string) bool {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		return false
	}
	digest := sha256.Sum256([]byte(token[:i]))
	for _, k := range set.Keys {
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil {
				return true
			}
		case *ecdsa.PublicKey:
			if len(sig) == 64 {
				r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
				if ecdsa.Verify(pub, digest[:], r, s) {
					return true
				}
			}
		}
	}
	return false
}

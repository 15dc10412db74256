package fxa

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// The algorithms a Verifier can accept (RFC 7518 section 3.1). FxA signs with RS256.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

const (
	// maxKeySetSize bounds a JWKS document; FxA's is a few kilobytes.
	maxKeySetSize = 1 << 20
	// maxKeys bounds the keys kept from one document, so lookups stay cheap whatever the issuer serves.
	maxKeys = 64
	// minRSABits refuses RSA keys too short to be trusted (NIST SP 800-57: 2048 bits at least).
	minRSABits = 2048
)

var errNoUsableKey = errors.New("no usable RS256 or ES256 signing key")

// keySet holds an issuer's public signing keys by kid.
type keySet map[string][]jose.JSONWebKey

// privateMembers are the JWK members of private and symmetric keys (RFC 7518 section 6). A published key set
// holds public keys only; a member carrying one is a mistake of the issuer, and its key is not used.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// parseKeySet reads a JWK Set (RFC 7517 section 5). Members that cannot serve RS256 or ES256 verification
// are skipped, as section 5 says to ignore keys an implementation does not understand: other key types,
// keys without a kid, keys for encryption, private or symmetric keys, RSA keys under 2048 bits, EC keys off
// P-256. A set with no usable key at all is an error, so a broken document never replaces a good one.
func parseKeySet(data []byte) (keySet, error) {
	if len(data) > maxKeySetSize {
		return nil, fmt.Errorf("key set larger than %d bytes", maxKeySetSize)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("key set is not JSON: %w", err)
	}
	set := keySet{}
	kept := 0
	for _, raw := range doc.Keys {
		if kept == maxKeys {
			break
		}
		k, ok := usableKey(raw)
		if !ok {
			continue
		}
		set[k.KeyID] = append(set[k.KeyID], k)
		kept++
	}
	if kept == 0 {
		return nil, errNoUsableKey
	}
	return set, nil
}

func usableKey(raw json.RawMessage) (jose.JSONWebKey, bool) {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return jose.JSONWebKey{}, false
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return jose.JSONWebKey{}, false
		}
	}
	// Read from the member map, whose names match exactly as RFC 7517 requires; encoding/json's struct
	// decoding would also take "KTY".
	kty, use := member(members, "kty"), member(members, "use")
	if (kty != "RSA" && kty != "EC") || (use != "" && use != "sig") {
		return jose.JSONWebKey{}, false
	}
	var k jose.JSONWebKey
	if k.UnmarshalJSON(raw) != nil || !k.Valid() || k.KeyID == "" {
		return jose.JSONWebKey{}, false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return jose.JSONWebKey{}, false
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return jose.JSONWebKey{}, false
		}
	default:
		return jose.JSONWebKey{}, false
	}
	return k, true
}

// key returns what jwt needs to verify a token signed with alg under kid: one public key, or a
// jwt.VerificationKeySet when the issuer publishes several keys under one kid (RFC 7517 allows it).
func (s keySet) key(kid, alg string) (any, *Error) {
	keys := s[kid]
	if len(keys) == 0 {
		return nil, refuse(CodeUnknownKID, "kid %s is not in the issuer's key set", clip(kid))
	}
	var fit []jwt.VerificationKey
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey:
			if alg == RS256 {
				fit = append(fit, k.Key)
			}
		case *ecdsa.PublicKey:
			if alg == ES256 {
				fit = append(fit, k.Key)
			}
		}
	}
	switch len(fit) {
	case 0:
		return nil, refuse(CodeBadAlg, "kid %s names no %s key", clip(kid), alg)
	case 1:
		return fit[0], nil
	default:
		return jwt.VerificationKeySet{Keys: fit}, nil
	}
}

// member returns a string member of a JSON object, or "" when it is absent or not a string.
func member(members map[string]json.RawMessage, name string) string {
	var v string
	if json.Unmarshal(members[name], &v) != nil {
		return ""
	}
	return v
}

package devidp

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/contactsync/contactsync/adapters/fxa"
)

// DefaultTTL is the lifetime of a token when Token.TTL is zero.
const DefaultTTL = time.Hour

// Token says what to mint. Zero fields take the provider's defaults; Claims and Header override anything.
type Token struct {
	UID        string // sub; omitted when empty
	Email      string // the email claim; omitted when empty
	Generation *int64 // fxa-generation; omitted when nil
	Scope      string // the provider's scope when empty
	Audience   []string
	ClientID   string        // the provider's client id when empty; also the audience when Audience is empty
	TTL        time.Duration // exp - iat; DefaultTTL when zero, negative for a token already expired
	IssuedAt   time.Time     // iat; the provider's clock when zero
	NotBefore  time.Time     // nbf; omitted when zero
	Alg        string        // fxa.RS256 (FxA's, the default) or fxa.ES256
	// Claims and Header are applied last: a value replaces a claim or header parameter, a nil value removes
	// it, so a test can mint a wrong issuer, a missing exp or a typ of JWT.
	Claims map[string]any
	Header map[string]any
	Tamper Tamper
}

// Tamper breaks a token the way an attacker would, for tests that the verifier refuses it.
type Tamper int

const (
	// Intact is an honest token.
	Intact Tamper = iota
	// ForgedSignature alters one byte of the signature.
	ForgedSignature
	// OtherKey signs with a key the provider never published, under the kid of its real key.
	OtherKey
	// UnknownKID signs with a key the provider never published, under that key's own kid.
	UnknownKID
	// AlgNone sets alg none and leaves the signature empty.
	AlgNone
	// HMACWithPublicKey signs with HS256 keyed with the PEM of the real key's public half: a verifier that
	// takes alg from the token and the key from the set would accept it.
	HMACWithPublicKey
	// KIDOfOtherType signs with the real key of Alg under the kid of the other algorithm's key (an RS256
	// signature naming the EC key).
	KIDOfOtherType
)

// Mint signs t and returns the compact token.
func (p *Provider) Mint(t Token) (string, error) {
	tok, signer, err := p.prepare(t)
	if err != nil {
		return "", fmt.Errorf("devidp: mint: %w", err)
	}
	s, err := tok.SignedString(signer)
	if err != nil {
		return "", fmt.Errorf("devidp: mint: %w", err)
	}
	if t.Tamper == ForgedSignature {
		s = flipSignature(s)
	}
	return s, nil
}

// prepare builds the unsigned token and picks what signs it.
func (p *Provider) prepare(t Token) (*jwt.Token, any, error) {
	alg := t.Alg
	if alg == "" {
		alg = fxa.RS256
	}
	other := map[string]string{fxa.RS256: fxa.ES256, fxa.ES256: fxa.RS256}[alg]
	if other == "" {
		return nil, nil, fmt.Errorf("algorithm %q is not RS256 or ES256", alg)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	key := p.current(alg)
	kid := key.kid
	method := jwt.GetSigningMethod(alg)
	var signer any = key.signer
	switch t.Tamper {
	case Intact, ForgedSignature:
	case OtherKey, UnknownKID:
		s, err := p.strangerKey(alg)
		if err != nil {
			return nil, nil, err
		}
		signer = s.signer
		if t.Tamper == UnknownKID {
			kid = s.kid
		}
	case AlgNone:
		method, signer = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType
	case HMACWithPublicKey:
		der, err := x509.MarshalPKIXPublicKey(key.signer.Public())
		if err != nil {
			return nil, nil, err
		}
		method, signer = jwt.SigningMethodHS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	case KIDOfOtherType:
		kid = p.current(other).kid
	default:
		return nil, nil, fmt.Errorf("unknown tamper %d", t.Tamper)
	}

	tok := jwt.NewWithClaims(method, p.claims(t))
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = kid
	apply(tok.Header, t.Header)
	return tok, signer, nil
}

func (p *Provider) claims(t Token) jwt.MapClaims {
	iat := t.IssuedAt
	if iat.IsZero() {
		iat = p.now()
	}
	ttl := t.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	clientID := t.ClientID
	if clientID == "" {
		clientID = p.clientID
	}
	var aud any = clientID
	switch len(t.Audience) {
	case 0:
	case 1:
		aud = t.Audience[0]
	default:
		aud = t.Audience
	}
	c := jwt.MapClaims{
		"iss":       p.issuer,
		"aud":       aud,
		"client_id": clientID,
		"scope":     p.scopeOf(t),
		"iat":       iat.Unix(),
		"exp":       iat.Add(ttl).Unix(),
		"jti":       newJTI(),
	}
	if t.UID != "" {
		c["sub"] = t.UID
	}
	if t.Email != "" {
		c["email"] = t.Email
	}
	if t.Generation != nil {
		c["fxa-generation"] = *t.Generation
	}
	if !t.NotBefore.IsZero() {
		c["nbf"] = t.NotBefore.Unix()
	}
	apply(c, t.Claims)
	return c
}

func apply(dst, overrides map[string]any) {
	for k, v := range overrides {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

func newJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// flipSignature changes the first byte of a compact token's signature.
func flipSignature(token string) string {
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) == 0 {
		return token + "A"
	}
	sig[0] ^= 0x01
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func (p *Provider) scopeOf(t Token) string {
	if t.Scope != "" {
		return t.Scope
	}
	return p.scope
}

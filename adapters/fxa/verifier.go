package fxa

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenSize bounds a token before any parsing; FxA's are under 1 KiB.
const MaxTokenSize = 16 << 10

// Verifier checks access tokens of one issuer. It is safe for concurrent use.
type Verifier struct {
	issuer   string
	audience []string
	scope    string
	algs     []string
	leeway   time.Duration
	now      func() time.Time
	keys     *keyCache
	parser   *jwt.Parser
}

// NewVerifier returns a Verifier of the tokens issuer signs with the keys published at jwks: an https URL,
// an http URL of a loopback host, a file: URL or a file path. It does no I/O; the key set loads with the
// first token, or with Refresh.
func NewVerifier(issuer, jwks string, opts ...Option) (*Verifier, error) {
	if issuer == "" {
		return nil, errors.New("fxa: no issuer")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("fxa: %w", err)
		}
	}
	src, err := newSource(jwks, cfg.client)
	if err != nil {
		return nil, fmt.Errorf("fxa: %w", err)
	}
	return &Verifier{
		issuer:   issuer,
		audience: cfg.audience,
		scope:    cfg.scope,
		algs:     cfg.algs,
		leeway:   cfg.leeway,
		now:      cfg.now,
		keys:     &keyCache{src: src, now: cfg.now},
		// Claims are checked by checkClaims, for one code per check; strict decoding refuses the
		// non-canonical base64 that would let one signature stand for several spellings of a token.
		parser: jwt.NewParser(jwt.WithJSONNumber(), jwt.WithStrictDecoding(), jwt.WithoutClaimsValidation()),
	}, nil
}

// Refresh loads the issuer's key set now, whatever the cache holds, and reports why it could not. A server
// calls it at start to find a wrong JWKS location before the first user does.
func (v *Verifier) Refresh(ctx context.Context) error {
	if err := v.keys.refresh(ctx); err != nil {
		return fmt.Errorf("fxa: key set %s: %w", v.keys.src, err)
	}
	return nil
}

// Verify checks token and returns its claims, or an *Error whose Code names the first check that failed.
// Header checks (size, alg, typ, kid) come first, then the signature, and only a token whose signature
// verified has its claims checked, so a forger learns nothing about them.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	if len(token) > MaxTokenSize {
		return Claims{}, refuse(CodeMalformed, "token of %d bytes is over the limit of %d", len(token), MaxTokenSize)
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.keyfunc(ctx)); err != nil {
		return Claims{}, parseError(err)
	}
	c, e := v.checkClaims(claims)
	if e != nil {
		return Claims{}, e
	}
	return c, nil
}

// keyfunc checks the header and finds the key; jwt then verifies the signature with it.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg, _ := t.Header["alg"].(string)
		if !slices.Contains(v.algs, alg) {
			return nil, refuse(CodeBadAlg, "alg %s is not one of %s", clip(alg), strings.Join(v.algs, ", "))
		}
		typ, _ := t.Header["typ"].(string)
		if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
			return nil, refuse(CodeBadType, "typ %s is not at+jwt", clip(typ))
		}
		// RFC 7515 section 4.1.11: extensions listed in crit must be understood, and this verifier
		// implements none.
		if _, ok := t.Header["crit"]; ok {
			return nil, refuse(CodeMalformed, "crit header lists extensions this verifier does not implement")
		}
		// jku, x5u, jwk and x5c are ignored: a key is trusted only when it comes from the issuer's set.
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, refuse(CodeUnknownKID, "no kid in the header")
		}
		key, e := v.keys.key(ctx, kid, alg)
		if e != nil {
			return nil, e
		}
		return key, nil
	}
}

// parseError turns what the jwt parser returned into an *Error. The parser's own messages are dropped: some
// quote bytes of the token.
func parseError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refuse(CodeBadSignature, "signature does not verify")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// Before the keyfunc runs, this is an alg missing or unknown to the parser.
		return refuse(CodeBadAlg, "alg missing or unknown")
	default:
		return refuse(CodeMalformed, "not a signed JWT in compact form")
	}
}

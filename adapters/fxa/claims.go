package fxa

import (
	"encoding/json"
	"math"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is what a verified token says about its holder.
type Claims struct {
	// UID is the FxA account's uid (sub): lowercase hex, stable for the life of the account.
	UID string
	// Email is the email claim when the token has one; FxA's access tokens usually do not, and the email
	// then comes with the request.
	Email string
	// Generation is fxa-generation, a counter FxA raises when the password changes or is reset, when
	// HasGeneration is set.
	Generation    int64
	HasGeneration bool
	IssuedAt      time.Time
	Expiry        time.Time
	// Scope holds the scope-tokens of the scope claim, in their order.
	Scope    []string
	Audience []string
	ClientID string
	// JTI is the token's unique id, when it has one.
	JTI string
}

// HasScope reports whether the token was granted scope.
func (c Claims) HasScope(scope string) bool { return slices.Contains(c.Scope, scope) }

// maxUIDLen bounds sub; FxA's uids are 32 hex digits.
const maxUIDLen = 64

// checkClaims makes the claim checks of RFC 9068 section 4 and FxA's on a token whose signature verified.
// Claims are read from the decoded map by their exact names (RFC 7519 section 4: names are case-sensitive),
// which encoding/json's struct decoding would not guarantee.
func (v *Verifier) checkClaims(m jwt.MapClaims) (Claims, *Error) {
	var c Claims
	now := v.now()

	if iss, _ := m["iss"].(string); iss != v.issuer {
		return c, refuse(CodeBadIssuer, "iss %s is not %s", clip(iss), clip(v.issuer))
	}

	aud, err := m.GetAudience()
	if err != nil {
		return c, refuse(CodeBadClaim, "aud is neither a string nor an array of strings")
	}
	c.Audience = aud
	if len(v.audience) > 0 && !slices.ContainsFunc(v.audience, func(a string) bool { return slices.Contains(aud, a) }) {
		return c, refuse(CodeBadAudience, "aud %s has none of the configured audiences", clip(strings.Join(aud, " ")))
	}

	exp, e := numericDate(m, "exp", true)
	if e != nil {
		return c, e
	}
	if !now.Before(exp.Add(v.leeway)) {
		return c, refuse(CodeExpired, "expired at %s", exp.UTC().Format(time.RFC3339))
	}
	c.Expiry = exp
	if nbf, e := numericDate(m, "nbf", false); e != nil {
		return c, e
	} else if now.Add(v.leeway).Before(nbf) {
		return c, refuse(CodeNotYetValid, "not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	iat, e := numericDate(m, "iat", true)
	if e != nil {
		return c, e
	}
	if now.Add(v.leeway).Before(iat) {
		return c, refuse(CodeIssuedInFuture, "issued at %s", iat.UTC().Format(time.RFC3339))
	}
	c.IssuedAt = iat

	sub, _ := m["sub"].(string)
	if !ValidUID(sub) {
		return c, refuse(CodeBadSubject, "sub is not an FxA uid (1 to %d lowercase hex digits)", maxUIDLen)
	}
	c.UID = sub

	scope, _ := m["scope"].(string)
	c.Scope = strings.FieldsFunc(scope, func(r rune) bool { return r == ' ' })
	if !c.HasScope(v.scope) {
		return c, refuse(CodeMissingScope, "scope lacks %s", clip(v.scope))
	}

	if raw, ok := m["fxa-generation"]; ok {
		n, isNum := raw.(json.Number)
		g, err := n.Int64()
		if !isNum || err != nil || g < 0 {
			return c, refuse(CodeBadClaim, "fxa-generation is not an integer ≥ 0")
		}
		c.Generation, c.HasGeneration = g, true
	}
	if c.Email, e = optionalString(m, "email"); e != nil {
		return c, e
	}
	if c.Email != "" && !ValidEmail(c.Email) {
		return c, refuse(CodeBadClaim, "email is not an address")
	}
	if c.ClientID, e = optionalString(m, "client_id"); e != nil {
		return c, e
	}
	if c.JTI, e = optionalString(m, "jti"); e != nil {
		return c, e
	}
	return c, nil
}

// numericDate reads a NumericDate claim (RFC 7519 section 2): seconds since the epoch, fractions allowed.
func numericDate(m jwt.MapClaims, name string, required bool) (time.Time, *Error) {
	raw, ok := m[name]
	if !ok {
		if required {
			return time.Time{}, refuse(CodeBadClaim, "%s is missing", name)
		}
		return time.Time{}, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, refuse(CodeBadClaim, "%s is not a number", name)
	}
	f, err := n.Float64()
	// Year 10000 is past any honest token; the bound keeps the conversion to time exact.
	if err != nil || math.IsNaN(f) || f < 0 || f > 253402300799 {
		return time.Time{}, refuse(CodeBadClaim, "%s is not a time", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

func optionalString(m jwt.MapClaims, name string) (string, *Error) {
	raw, ok := m[name]
	if !ok {
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", refuse(CodeBadClaim, "%s is not a string", name)
	}
	return s, nil
}

// ValidUID reports whether s has the form of an FxA uid as Verify requires of sub: 1 to 64 lowercase hex
// digits (FxA's are 32).
func ValidUID(s string) bool {
	if s == "" || len(s) > maxUIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// ValidEmail reports whether s is an email claim Verify accepts: a bare address (RFC 5322 addr-spec) of at
// most 254 bytes (RFC 5321's path limit).
func ValidEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

package devidp

import (
	"errors"
	"fmt"
	"time"

	"github.com/contactsync/contactsync/adapters/fxa"
)

// MaxTTL bounds the lifetime a MintRequest may ask for.
const MaxTTL = 24 * time.Hour

// MintRequest is the body of POST /mint and what the mint command sends: an honest token for a user.
type MintRequest struct {
	UID        string   `json:"uid"`
	Email      string   `json:"email,omitempty"`
	Generation *int64   `json:"generation,omitempty"`
	Scope      string   `json:"scope,omitempty"`
	Audience   []string `json:"audience,omitempty"`
	ClientID   string   `json:"client_id,omitempty"`
	TTL        string   `json:"ttl,omitempty"` // a Go duration ("1h", "90s"): DefaultTTL when empty, at most MaxTTL
	Alg        string   `json:"alg,omitempty"`
}

// MintResponse answers POST /mint, in the fields of an OAuth token response (RFC 6749 section 5.1).
type MintResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// Token checks the request and returns what to mint: the same rules over HTTP and on the command line, so
// neither mints a token that package fxa would refuse for its form.
func (r MintRequest) Token() (Token, error) {
	if !fxa.ValidUID(r.UID) {
		return Token{}, errors.New("uid must be 1 to 64 lowercase hex digits (FxA's are 32)")
	}
	if r.Email != "" && !fxa.ValidEmail(r.Email) {
		return Token{}, fmt.Errorf("email %q is not an address", r.Email)
	}
	if r.Generation != nil && *r.Generation < 0 {
		return Token{}, errors.New("generation must be ≥ 0")
	}
	ttl := DefaultTTL
	if r.TTL != "" {
		d, err := time.ParseDuration(r.TTL)
		if err != nil || d <= 0 || d > MaxTTL {
			return Token{}, fmt.Errorf("ttl %q is not a positive duration of at most %v", r.TTL, MaxTTL)
		}
		ttl = d
	}
	if r.Alg != "" && r.Alg != fxa.RS256 && r.Alg != fxa.ES256 {
		return Token{}, fmt.Errorf("alg %q is not RS256 or ES256", r.Alg)
	}
	for _, a := range r.Audience {
		if a == "" {
			return Token{}, errors.New("empty audience")
		}
	}
	return Token{UID: r.UID, Email: r.Email, Generation: r.Generation, Scope: r.Scope, Audience: r.Audience,
		ClientID: r.ClientID, TTL: ttl, Alg: r.Alg}, nil
}

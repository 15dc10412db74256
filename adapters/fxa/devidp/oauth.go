package devidp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/contactsync/contactsync/adapters/fxa"
)

const (
	// CodeTTL is how long an authorization code may wait for its exchange.
	CodeTTL = 5 * time.Minute
	// maxPendingCodes bounds the codes issued and not yet exchanged.
	maxPendingCodes = 1024
	maxStateLen     = 512
)

// pendingCode is what an authorization code stands for until it is exchanged.
type pendingCode struct {
	token       Token
	challenge   string // the PKCE S256 code_challenge
	redirectURI string
	expires     time.Time
}

// oauthError answers in the form of RFC 6749 section 5.2, which OAuth clients expect from these two
// endpoints (the admin endpoint uses the project's {"error", "code"} instead).
func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// serveAuthorization is the authorization endpoint of RFC 6749 section 4.1.1 with PKCE (RFC 7636), for a
// provider that has no login page: the user it signs in is named by the request itself, in the
// development-only parameters uid, email and generation. It answers with a redirect to redirect_uri carrying
// code and state, or, without a redirect_uri, with {"code", "state"} as JSON — the form in which a device
// receives them from an fxaccounts:oauth_login message.
func (p *Provider) serveAuthorization(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(msg string) { oauthError(w, http.StatusBadRequest, "invalid_request", msg) }
	switch {
	case q.Get("response_type") != "code":
		fail("response_type must be code")
		return
	case q.Get("client_id") != p.clientID:
		fail("unknown client_id")
		return
	case q.Get("state") == "" || len(q.Get("state")) > maxStateLen:
		fail("state is required (at most 512 bytes)")
		return
	case q.Get("code_challenge_method") != "S256":
		fail("code_challenge_method must be S256 (RFC 7636 section 4.2)")
		return
	case !isS256Challenge(q.Get("code_challenge")):
		fail("code_challenge must be a base64url SHA-256 (43 characters)")
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect != "" {
		if u, err := url.Parse(redirect); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			fail("redirect_uri must be an absolute http(s) URL without a fragment")
			return
		}
	}
	req := MintRequest{UID: q.Get("uid"), Email: q.Get("email"), Scope: q.Get("scope"), ClientID: p.clientID}
	if g := q.Get("generation"); g != "" {
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			fail("generation is not an integer")
			return
		}
		req.Generation = &n
	}
	t, err := req.Token()
	if err != nil {
		fail(err.Error())
		return
	}
	code, err := p.issueCode(pendingCode{token: t, challenge: q.Get("code_challenge"), redirectURI: redirect})
	if err != nil {
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", err.Error())
		return
	}
	if redirect == "" {
		writeJSON(w, http.StatusOK, map[string]string{"code": code, "state": q.Get("state")})
		return
	}
	u, _ := url.Parse(redirect)
	back := u.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// serveToken is the token endpoint of RFC 6749 section 4.1.3 for the authorization_code grant, with the
// PKCE check of RFC 7636 section 4.6. It takes a form, as RFC 6749 says, or JSON, as FxA also does.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GrantType    string `json:"grant_type"`
		Code         string `json:"code"`
		CodeVerifier string `json:"code_verifier"`
		ClientID     string `json:"client_id"`
		RedirectURI  string `json:"redirect_uri"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxMintBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a token request")
			return
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a token request")
			return
		}
		req.GrantType, req.Code, req.CodeVerifier = r.PostForm.Get("grant_type"), r.PostForm.Get("code"), r.PostForm.Get("code_verifier")
		req.ClientID, req.RedirectURI = r.PostForm.Get("client_id"), r.PostForm.Get("redirect_uri")
	default:
		oauthError(w, http.StatusBadRequest, "invalid_request", "send a form or JSON")
		return
	}
	if req.GrantType != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	if req.ClientID != p.clientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id")
		return
	}
	// The code is spent whatever follows: a code tried with a wrong verifier cannot be tried again.
	pc, ok := p.takeCode(req.Code)
	switch {
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case pc.redirectURI != req.RedirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	case !verifierMatches(req.CodeVerifier, pc.challenge):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	token, err := p.Mint(pc.token)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, MintResponse{AccessToken: token, TokenType: "bearer",
		ExpiresIn: int64(pc.token.TTL.Seconds()), Scope: p.scopeOf(pc.token)})
}

func (p *Provider) issueCode(pc pendingCode) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	code := base64.RawURLEncoding.EncodeToString(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for c, old := range p.codes {
		if !now.Before(old.expires) {
			delete(p.codes, c)
		}
	}
	if len(p.codes) >= maxPendingCodes {
		return "", fmt.Errorf("%d codes wait for their exchange; try again later", len(p.codes))
	}
	pc.expires = now.Add(CodeTTL)
	p.codes[code] = pc
	return code, nil
}

func (p *Provider) takeCode(code string) (pendingCode, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.codes[code]
	delete(p.codes, code)
	return pc, ok && p.now().Before(pc.expires)
}

// S256Challenge returns the PKCE code_challenge of a code_verifier (RFC 7636 section 4.2), for clients.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func isS256Challenge(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// verifierMatches checks a code_verifier's form (RFC 7636 section 4.1: 43 to 128 unreserved characters)
// and that it hashes to the challenge.
func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for i := 0; i < len(verifier); i++ {
		c := verifier[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return subtle.ConstantTimeCompare([]byte(S256Challenge(verifier)), []byte(challenge)) == 1
}

// discoveryOAuth is what the discovery document says of the flow.
var discoveryOAuth = map[string]any{
	"response_types_supported":              []string{"code"},
	"grant_types_supported":                 []string{"authorization_code"},
	"code_challenge_methods_supported":      []string{"S256"},
	"token_endpoint_auth_methods_supported": []string{"none"},
	"subject_types_supported":               []string{"public"},
	"id_token_signing_alg_values_supported": []string{fxa.RS256, fxa.ES256},
}

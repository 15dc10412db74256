package devidp

import (
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"

	"github.com/contactsync/contactsync/adapters/internal/loopback"
)

// Paths of the endpoints; those of the authorization-code flow are FxA's own.
const (
	DiscoveryPath     = "/.well-known/openid-configuration"
	MintPath          = "/mint"
	AuthorizationPath = "/authorization"
	TokenPath         = "/v1/token"
)

// maxMintBody bounds a POST /mint body.
const maxMintBody = 16 << 10

// Handler serves the provider at its issuer URL.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, p.serveDiscovery)
	mux.HandleFunc("GET "+JWKSPath, p.serveKeySet)
	mux.Handle("POST "+MintPath, loopbackOnly(http.HandlerFunc(p.serveMint)))
	mux.Handle("GET "+AuthorizationPath, loopbackOnly(http.HandlerFunc(p.serveAuthorization)))
	mux.Handle("POST "+TokenPath, loopbackOnly(http.HandlerFunc(p.serveToken)))
	return mux
}

// loopbackOnly admits requests from this machine to the endpoints that hand out tokens. Besides the peer
// address, the Host must be a loopback name, so a web page cannot reach them by DNS rebinding.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if !loopback.Addr(r.RemoteAddr) || !loopback.Host(host) {
			writeError(w, http.StatusForbidden, "not_loopback", "tokens are only for requests from this machine")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveDiscovery answers with the provider metadata of OpenID Connect Discovery 1.0 section 3 (and RFC 8414).
func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	meta := map[string]any{
		"issuer":                 p.issuer,
		"jwks_uri":               p.JWKSURL(),
		"authorization_endpoint": p.issuer + AuthorizationPath,
		"token_endpoint":         p.issuer + TokenPath,
		"scopes_supported":       []string{p.scope},
	}
	for k, v := range discoveryOAuth {
		meta[k] = v
	}
	writeJSON(w, http.StatusOK, meta)
}

func (p *Provider) serveKeySet(w http.ResponseWriter, _ *http.Request) {
	set, err := p.KeySet()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Short, so a verifier sees a Retire within minutes; a new kid is fetched at once anyway.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(set)
}

// serveMint mints a token. The body must be JSON, so a web page cannot post it as a simple cross-origin form.
func (p *Provider) serveMint(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "bad_content_type", "send the request as application/json")
		return
	}
	var req MintRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxMintBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "the body is not a mint request: "+err.Error())
		return
	}
	t, err := req.Token()
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	token, err := p.Mint(t)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store") // RFC 6749 section 5.1
	writeJSON(w, http.StatusOK, MintResponse{AccessToken: token, TokenType: "bearer",
		ExpiresIn: int64(t.TTL.Seconds()), Scope: p.scopeOf(t)})
}

// Error is the body of every error answer, in the project's form {"error": …, "code": …}.
type Error struct {
	Message string `json:"error"`
	Code    string `json:"code"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, Error{Message: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// errorFrom reads an error answer; a body that is not one still gives the status.
func errorFrom(status string, body []byte) error {
	var e Error
	if json.Unmarshal(body, &e) == nil && e.Code != "" {
		return &e
	}
	return errors.New(status)
}

package devidp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/fxa"
	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-more-than-43-chars"

// noRedirects lets a test read the authorization endpoint's redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authorizeQuery(mod func(url.Values)) url.Values {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {devidp.DefaultClientID},
		"state":                 {"st-1"},
		"code_challenge":        {devidp.S256Challenge(verifier)},
		"code_challenge_method": {"S256"},
		"uid":                   {uid},
		"email":                 {"ada@example.org"},
		"generation":            {"9"},
	}
	if mod != nil {
		mod(q)
	}
	return q
}

// authorize asks for a code and returns the status and the decoded JSON answer (or the redirect location).
func authorize(t *testing.T, s *devidp.Server, q url.Values) (int, map[string]string) {
	t.Helper()
	resp, err := noRedirects.Get(s.URL + devidp.AuthorizationPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	if loc := resp.Header.Get("Location"); loc != "" {
		out["location"] = loc
		return resp.StatusCode, out
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", resp.Status, err)
	}
	return resp.StatusCode, out
}

func exchange(t *testing.T, s *devidp.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.URL+devidp.TokenPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", resp.Status, err)
	}
	return resp.StatusCode, out
}

func tokenForm(code string, mod func(url.Values)) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"client_id": {devidp.DefaultClientID}}
	if mod != nil {
		mod(f)
	}
	return f
}

func TestAuthorizationCodeFlowWithPKCE(t *testing.T) {
	s := start(t)
	status, got := authorize(t, s, authorizeQuery(nil))
	if status != http.StatusOK || got["state"] != "st-1" || len(got["code"]) < 40 {
		t.Fatalf("authorize: %d %v", status, got)
	}
	status, tok := exchange(t, s, tokenForm(got["code"], nil))
	if status != http.StatusOK || tok["token_type"] != "bearer" || tok["scope"] != fxa.DefaultScope {
		t.Fatalf("token: %d %v", status, tok)
	}
	v, err := fxa.NewVerifier(s.Issuer(), s.JWKSURL(), fxa.WithAudience(devidp.DefaultClientID))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tok["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if c.UID != uid || c.Email != "ada@example.org" || c.Generation != 9 || c.ClientID != devidp.DefaultClientID {
		t.Fatalf("claims %+v", c)
	}

	// A code is single-use, even after a successful exchange.
	if status, out := exchange(t, s, tokenForm(got["code"], nil)); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("second exchange: %d %v", status, out)
	}
}

func TestAuthorizationRedirectAndJSONExchange(t *testing.T) {
	s := start(t)
	status, got := authorize(t, s, authorizeQuery(func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/cb?x=1") }))
	if status != http.StatusFound {
		t.Fatalf("authorize with redirect_uri: %d %v", status, got)
	}
	loc, err := url.Parse(got["location"])
	if err != nil {
		t.Fatal(err)
	}
	if loc.Host != "127.0.0.1:9" || loc.Path != "/cb" || loc.Query().Get("x") != "1" || loc.Query().Get("state") != "st-1" {
		t.Fatalf("redirect %s", loc)
	}
	code := loc.Query().Get("code")

	// The redirect_uri of the authorization request must come again with the exchange.
	body, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
		"client_id": devidp.DefaultClientID, "redirect_uri": "http://127.0.0.1:9/cb?x=1"})
	resp, err := http.Post(s.URL+devidp.TokenPath, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out devidp.MintResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.AccessToken == "" {
		t.Fatalf("JSON exchange: %s %v %+v", resp.Status, err, out)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}

func TestAuthorizationRefusals(t *testing.T) {
	s := start(t)
	cases := map[string]func(url.Values){
		"response_type token":   func(q url.Values) { q.Set("response_type", "token") },
		"unknown client":        func(q url.Values) { q.Set("client_id", "other") },
		"no state":              func(q url.Values) { q.Del("state") },
		"plain PKCE":            func(q url.Values) { q.Set("code_challenge_method", "plain") },
		"no PKCE":               func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		"challenge not SHA-256": func(q url.Values) { q.Set("code_challenge", "abc") },
		"no uid":                func(q url.Values) { q.Del("uid") },
		"bad generation":        func(q url.Values) { q.Set("generation", "x") },
		"redirect with fragment": func(q url.Values) {
			q.Set("redirect_uri", "https://app.example/cb#f")
		},
		"redirect not http": func(q url.Values) { q.Set("redirect_uri", "javascript:alert(1)") },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			status, out := authorize(t, s, authorizeQuery(mod))
			if status != 400 || out["error"] != "invalid_request" || out["location"] != "" {
				t.Fatalf("%d %v", status, out)
			}
		})
	}
}

func TestTokenExchangeRefusals(t *testing.T) {
	var clock atomic.Int64 // the server's handlers read it
	clock.Store(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	s := start(t, devidp.WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
	code := func(t *testing.T) string {
		t.Helper()
		_, got := authorize(t, s, authorizeQuery(nil))
		return got["code"]
	}
	cases := []struct {
		name   string
		form   func(code string) url.Values
		status int
		err    string
	}{
		{"wrong verifier", func(c string) url.Values {
			return tokenForm(c, func(f url.Values) { f.Set("code_verifier", strings.Repeat("v", 43)) })
		}, 400, "invalid_grant"},
		{"verifier too short", func(c string) url.Values {
			return tokenForm(c, func(f url.Values) { f.Set("code_verifier", "short") })
		}, 400, "invalid_grant"},
		{"no verifier", func(c string) url.Values { return tokenForm(c, func(f url.Values) { f.Del("code_verifier") }) }, 400, "invalid_grant"},
		{"unknown code", func(string) url.Values { return tokenForm("made-up", nil) }, 400, "invalid_grant"},
		{"redirect_uri added", func(c string) url.Values {
			return tokenForm(c, func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:9/") })
		}, 400, "invalid_grant"},
		{"other client", func(c string) url.Values { return tokenForm(c, func(f url.Values) { f.Set("client_id", "x") }) }, 401, "invalid_client"},
		{"other grant", func(c string) url.Values {
			return tokenForm(c, func(f url.Values) { f.Set("grant_type", "refresh_token") })
		}, 400, "unsupported_grant_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := code(t)
			status, out := exchange(t, s, tc.form(c))
			if status != tc.status || out["error"] != tc.err {
				t.Fatalf("%d %v, want %d %s", status, out, tc.status, tc.err)
			}
			if tc.err == "invalid_grant" && tc.name != "unknown code" {
				// A failed exchange spends the code: the right verifier cannot follow a wrong one.
				if status, out := exchange(t, s, tokenForm(c, nil)); status != 400 || out["error"] != "invalid_grant" {
					t.Fatalf("the code survived a failed exchange: %d %v", status, out)
				}
			}
		})
	}

	t.Run("expired code", func(t *testing.T) {
		c := code(t)
		clock.Add(int64(devidp.CodeTTL))
		if status, out := exchange(t, s, tokenForm(c, nil)); status != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, out)
		}
	})
}

package devidp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/contactsync/contactsync/adapters/fxa"
	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const uid = "00112233445566778899aabbccddeeff"

func start(t *testing.T, opts ...devidp.Option) *devidp.Server {
	t.Helper()
	s, err := devidp.Start("", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func getJSON(t *testing.T, url string, v any) http.Header {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
	return resp.Header
}

// The whole path a server of the project takes: discovery, the key set it names, a token minted over the
// admin API, verified by package fxa.
func TestServerEndToEnd(t *testing.T) {
	s := start(t)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.Issuer() != s.URL {
		t.Fatalf("URL %q, issuer %q", s.URL, s.Issuer())
	}
	var meta struct {
		Issuer        string `json:"issuer"`
		JWKSURI       string `json:"jwks_uri"`
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
	}
	getJSON(t, s.URL+devidp.DiscoveryPath, &meta)
	if meta.Issuer != s.URL || meta.JWKSURI != s.URL+"/v1/jwks" || meta.Authorization != s.URL+"/authorization" ||
		meta.Token != s.URL+"/v1/token" {
		t.Fatalf("discovery %+v", meta)
	}
	var set struct{ Keys []map[string]any }
	h := getJSON(t, meta.JWKSURI, &set)
	if h.Get("Content-Type") != "application/jwk-set+json" || !strings.Contains(h.Get("Cache-Control"), "max-age=") {
		t.Errorf("key set headers %v", h)
	}
	algs := map[string]bool{}
	for _, k := range set.Keys {
		algs[k["alg"].(string)] = true
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Fatalf("published key %v holds private member %q", k["kid"], private)
			}
		}
	}
	if len(set.Keys) != 2 || !algs[fxa.RS256] || !algs[fxa.ES256] {
		t.Fatalf("key set %v", set.Keys)
	}

	v, err := fxa.NewVerifier(meta.Issuer, meta.JWKSURI, fxa.WithAudience(devidp.DefaultClientID))
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"", fxa.ES256} {
		resp, err := devidp.MintAt(context.Background(), http.DefaultClient, s.URL, devidp.MintRequest{
			UID: uid, Email: "ada@example.org", Generation: new(int64), TTL: "90s", Alg: alg})
		if err != nil {
			t.Fatal(err)
		}
		if resp.TokenType != "bearer" || resp.ExpiresIn != 90 || resp.Scope != fxa.DefaultScope {
			t.Errorf("mint answer %+v", resp)
		}
		c, err := v.Verify(context.Background(), resp.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if c.UID != uid || c.Email != "ada@example.org" || !c.HasGeneration || c.Generation != 0 ||
			c.Expiry.Sub(c.IssuedAt) != 90*time.Second {
			t.Errorf("claims %+v", c)
		}
	}
}

func TestMintRefusals(t *testing.T) {
	s := start(t)
	post := func(t *testing.T, contentType, host, body string) (int, devidp.Error) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.URL+devidp.MintPath, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e devidp.Error
		data, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("%s: body %q is not an error answer", resp.Status, data)
		}
		return resp.StatusCode, e
	}
	ok := `{"uid":"` + uid + `"}`
	cases := []struct {
		name, contentType, host, body string
		status                        int
		code                          string
	}{
		{"form post", "application/x-www-form-urlencoded", "", ok, 415, "bad_content_type"},
		{"text", "text/plain", "", ok, 415, "bad_content_type"},
		{"rebound host name", "application/json", "idp.example.org", ok, 403, "not_loopback"},
		{"unknown field", "application/json", "", `{"uid":"` + uid + `","admin":true}`, 400, "bad_request"},
		{"not JSON", "application/json", "", `uid=1`, 400, "bad_request"},
		{"no uid", "application/json", "", `{}`, 400, "bad_request"},
		{"uid upper case", "application/json", "", `{"uid":"ABCDEF"}`, 400, "bad_request"},
		{"bad email", "application/json", "", `{"uid":"ab","email":"nope"}`, 400, "bad_request"},
		{"negative generation", "application/json", "", `{"uid":"ab","generation":-1}`, 400, "bad_request"},
		{"ttl over a day", "application/json", "", `{"uid":"ab","ttl":"25h"}`, 400, "bad_request"},
		{"ttl negative", "application/json", "", `{"uid":"ab","ttl":"-1h"}`, 400, "bad_request"},
		{"alg HS256", "application/json", "", `{"uid":"ab","alg":"HS256"}`, 400, "bad_request"},
		{"empty audience", "application/json", "", `{"uid":"ab","audience":[""]}`, 400, "bad_request"},
		{"body too large", "application/json", "", `{"uid":"ab","email":"` + strings.Repeat("a", 20<<10) + `"}`, 400, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, e := post(t, tc.contentType, tc.host, tc.body)
			if status != tc.status || e.Code != tc.code || e.Message == "" {
				t.Fatalf("%d %+v, want %d %s", status, e, tc.status, tc.code)
			}
		})
	}
	if status, e := post(t, "application/json; charset=utf-8", "localhost", ok); status != 200 {
		t.Fatalf("a good request got %d %+v", status, e)
	}

	// A peer that is not this machine (the handler behind some other listener) is refused.
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/mint", strings.NewReader(ok))
	req.RemoteAddr = "192.0.2.7:4000"
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Fatalf("remote peer: %d %s", w.Code, w.Body)
	}

	_, err := devidp.MintAt(context.Background(), http.DefaultClient, s.URL, devidp.MintRequest{UID: "XY"})
	var e *devidp.Error
	if !errors.As(err, &e) || e.Code != "bad_request" {
		t.Fatalf("MintAt of a bad request: %v", err)
	}
}

func TestStartOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "[::]:0", "example.org:0", "nonsense"} {
		s, err := devidp.Start(addr)
		if err == nil {
			s.Close()
			t.Fatalf("Start(%q) listened", addr)
		}
	}
	if _, err := devidp.Start("0.0.0.0:0"); !errors.Is(err, devidp.ErrNotLoopback) {
		t.Fatalf("err %v, want ErrNotLoopback", err)
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	p1, err := devidp.NewProvider("https://idp.test", devidp.WithKeyFile(path))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", fi.Mode().Perm())
	}
	tok, err := p1.Mint(devidp.Token{UID: uid})
	if err != nil {
		t.Fatal(err)
	}

	// A restart with the same file keeps the keys: a token minted before still verifies.
	p2, err := devidp.NewProvider("https://idp.test", devidp.WithKeyFile(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{fxa.RS256, fxa.ES256} {
		if p1.KID(alg) == "" || p1.KID(alg) != p2.KID(alg) {
			t.Fatalf("%s kid %q then %q", alg, p1.KID(alg), p2.KID(alg))
		}
	}
	mustVerify(t, p2, tok)

	// Rotations and retirements are written to the file.
	old := p2.KID(fxa.RS256)
	kid, err := p2.Rotate(fxa.RS256)
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Retire(kid); err == nil {
		t.Fatal("retired the key that signs RS256")
	}
	if err := p2.Retire("no-such-kid"); err == nil {
		t.Fatal("retired a key that does not exist")
	}
	p3, err := devidp.NewProvider("https://idp.test", devidp.WithKeyFile(path))
	if err != nil {
		t.Fatal(err)
	}
	if p3.KID(fxa.RS256) != kid {
		t.Fatalf("after a restart RS256 signs with %q, want the rotated %q", p3.KID(fxa.RS256), kid)
	}
	mustVerify(t, p3, tok)
	if err := p3.Retire(old); err != nil {
		t.Fatal(err)
	}
	p4, err := devidp.NewProvider("https://idp.test", devidp.WithKeyFile(path))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := p4.KeySet()
	if bytes.Contains(set, []byte(old)) {
		t.Fatal("the retired key is still published after a restart")
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := devidp.NewProvider("https://idp.test", devidp.WithKeyFile(path)); err == nil {
		t.Fatal("loaded a key file others may read")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	for _, content := range []string{"{", `{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256","kid":"x"}]}`} {
		if err := devidp.WritePrivateFile(bad, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if _, err := devidp.NewProvider("https://idp.test", devidp.WithKeyFile(bad)); err == nil {
			t.Fatalf("loaded key file %s", content)
		}
	}
}

// mustVerify checks token against p's key set as a file, as a server configured offline would.
func mustVerify(t *testing.T, p *devidp.Provider, token string) {
	t.Helper()
	set, err := p.KeySet()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := devidp.WritePrivateFile(path, set); err != nil {
		t.Fatal(err)
	}
	v, err := fxa.NewVerifier(p.Issuer(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
}

func TestMintDefaultsAndOptions(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p, err := devidp.NewProvider("https://idp.test", devidp.WithClock(func() time.Time { return now }),
		devidp.WithClientID("client-1"), devidp.WithScope("https://identity.mozilla.com/apps/oldsync"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.Mint(devidp.Token{UID: uid})
	if err != nil {
		t.Fatal(err)
	}
	set, _ := p.KeySet()
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := devidp.WritePrivateFile(path, set); err != nil {
		t.Fatal(err)
	}
	v, err := fxa.NewVerifier("https://idp.test", path, fxa.WithClock(func() time.Time { return now }),
		fxa.WithAudience("client-1"), fxa.WithScope("https://identity.mozilla.com/apps/oldsync"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "client-1" || !c.IssuedAt.Equal(now) || !c.Expiry.Equal(now.Add(devidp.DefaultTTL)) || c.HasGeneration {
		t.Fatalf("claims %+v", c)
	}
	for _, o := range []devidp.Option{devidp.WithClientID(""), devidp.WithScope(""), devidp.WithClock(nil)} {
		if _, err := devidp.NewProvider("https://idp.test", o); err == nil {
			t.Error("an invalid option was accepted")
		}
	}
	if _, err := devidp.NewProvider(""); err == nil {
		t.Error("a provider without an issuer")
	}
	if _, err := p.Mint(devidp.Token{UID: uid, Alg: "PS256"}); err == nil {
		t.Error("minted PS256")
	}
}

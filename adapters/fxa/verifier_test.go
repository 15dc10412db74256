package fxa_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/fxa"
	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

func TestVerifyAccepts(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	for _, alg := range []string{fxa.RS256, fxa.ES256} {
		t.Run(alg, func(t *testing.T) {
			tok := f.mint(t, devidp.Token{Alg: alg, Email: "ada@example.org", Generation: ptr(int64(1700000000123)),
				Scope: "profile " + fxa.DefaultScope, TTL: 30 * time.Minute})
			c := mustAccept(t, v, tok)
			now := f.clock.Now()
			if c.UID != testUID || c.Email != "ada@example.org" || c.ClientID != devidp.DefaultClientID {
				t.Errorf("claims %+v", c)
			}
			if !c.HasGeneration || c.Generation != 1700000000123 {
				t.Errorf("generation %d (set %v), want 1700000000123", c.Generation, c.HasGeneration)
			}
			if !c.IssuedAt.Equal(now) || !c.Expiry.Equal(now.Add(30*time.Minute)) {
				t.Errorf("iat %v exp %v, want %v and 30 min later", c.IssuedAt, c.Expiry, now)
			}
			if !slices.Equal(c.Scope, []string{"profile", fxa.DefaultScope}) || !c.HasScope("profile") {
				t.Errorf("scope %q", c.Scope)
			}
			if len(c.JTI) != 32 || !slices.Equal(c.Audience, []string{devidp.DefaultClientID}) {
				t.Errorf("jti %q aud %q", c.JTI, c.Audience)
			}
		})
	}
}

func TestVerifyAcceptsTypeSpellingsAndOptionalClaims(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"} {
		mustAccept(t, v, f.mint(t, devidp.Token{Header: map[string]any{"typ": typ}}))
	}
	c := mustAccept(t, v, f.mint(t, devidp.Token{Claims: map[string]any{"jti": nil, "client_id": nil}}))
	if c.HasGeneration || c.Email != "" || c.JTI != "" || c.ClientID != "" {
		t.Errorf("absent claims came back as %+v", c)
	}
	// Fractional NumericDates are allowed (RFC 7519 section 2).
	now := float64(f.clock.Now().Unix())
	c = mustAccept(t, v, f.mint(t, devidp.Token{Claims: map[string]any{"iat": now - 0.5, "exp": now + 60.25}}))
	if want := f.clock.Now().Add(60250 * time.Millisecond); !c.Expiry.Equal(want) {
		t.Errorf("exp %v, want %v", c.Expiry, want)
	}
}

func TestVerifyRefuses(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	hour := time.Hour
	cases := []struct {
		name string
		tok  devidp.Token
		code fxa.Code
	}{
		{"forged signature", devidp.Token{Tamper: devidp.ForgedSignature}, fxa.CodeBadSignature},
		{"forged ES256 signature", devidp.Token{Alg: fxa.ES256, Tamper: devidp.ForgedSignature}, fxa.CodeBadSignature},
		{"other key under the real kid", devidp.Token{Tamper: devidp.OtherKey}, fxa.CodeBadSignature},
		{"other EC key under the real kid", devidp.Token{Alg: fxa.ES256, Tamper: devidp.OtherKey}, fxa.CodeBadSignature},
		{"unknown kid", devidp.Token{Tamper: devidp.UnknownKID}, fxa.CodeUnknownKID},
		{"no kid", devidp.Token{Header: map[string]any{"kid": nil}}, fxa.CodeUnknownKID},
		{"kid not a string", devidp.Token{Header: map[string]any{"kid": 7}}, fxa.CodeUnknownKID},
		{"alg none", devidp.Token{Tamper: devidp.AlgNone}, fxa.CodeBadAlg},
		{"HS256 keyed with the RSA public key", devidp.Token{Tamper: devidp.HMACWithPublicKey}, fxa.CodeBadAlg},
		{"HS256 keyed with the EC public key", devidp.Token{Alg: fxa.ES256, Tamper: devidp.HMACWithPublicKey}, fxa.CodeBadAlg},
		{"RS256 naming the EC key", devidp.Token{Tamper: devidp.KIDOfOtherType}, fxa.CodeBadAlg},
		{"ES256 naming the RSA key", devidp.Token{Alg: fxa.ES256, Tamper: devidp.KIDOfOtherType}, fxa.CodeBadAlg},
		{"typ JWT", devidp.Token{Header: map[string]any{"typ": "JWT"}}, fxa.CodeBadType},
		{"no typ", devidp.Token{Header: map[string]any{"typ": nil}}, fxa.CodeBadType},
		{"typ with a suffix", devidp.Token{Header: map[string]any{"typ": "at+jwt; x"}}, fxa.CodeBadType},
		{"crit header", devidp.Token{Header: map[string]any{"crit": []string{"exp"}}}, fxa.CodeMalformed},
		{"wrong issuer", devidp.Token{Claims: map[string]any{"iss": "https://accounts.example.net"}}, fxa.CodeBadIssuer},
		{"issuer with a trailing slash", devidp.Token{Claims: map[string]any{"iss": f.Issuer() + "/"}}, fxa.CodeBadIssuer},
		{"no issuer", devidp.Token{Claims: map[string]any{"iss": nil}}, fxa.CodeBadIssuer},
		{"wrong audience", devidp.Token{Audience: []string{"someone-else"}}, fxa.CodeBadAudience},
		{"no audience", devidp.Token{Claims: map[string]any{"aud": nil}}, fxa.CodeBadAudience},
		{"audience not strings", devidp.Token{Claims: map[string]any{"aud": []any{1}}}, fxa.CodeBadClaim},
		{"expired beyond the leeway", devidp.Token{IssuedAt: f.clock.Now().Add(-hour), TTL: hour - 61*time.Second}, fxa.CodeExpired},
		{"expired long ago", devidp.Token{TTL: -48 * hour}, fxa.CodeExpired},
		{"no exp", devidp.Token{Claims: map[string]any{"exp": nil}}, fxa.CodeBadClaim},
		{"exp a string", devidp.Token{Claims: map[string]any{"exp": "tomorrow"}}, fxa.CodeBadClaim},
		{"exp past year 9999", devidp.Token{Claims: map[string]any{"exp": 1e12}}, fxa.CodeBadClaim},
		{"not yet valid", devidp.Token{NotBefore: f.clock.Now().Add(61 * time.Second)}, fxa.CodeNotYetValid},
		{"nbf negative", devidp.Token{Claims: map[string]any{"nbf": -1}}, fxa.CodeBadClaim},
		{"issued in the future", devidp.Token{IssuedAt: f.clock.Now().Add(61 * time.Second)}, fxa.CodeIssuedInFuture},
		{"no iat", devidp.Token{Claims: map[string]any{"iat": nil}}, fxa.CodeBadClaim},
		{"no sub", devidp.Token{Claims: map[string]any{"sub": nil}}, fxa.CodeBadSubject},
		{"sub upper case", devidp.Token{UID: strings.ToUpper(testUID)}, fxa.CodeBadSubject},
		{"sub not hex", devidp.Token{UID: "ada@example.org"}, fxa.CodeBadSubject},
		{"sub too long", devidp.Token{UID: strings.Repeat("a", 65)}, fxa.CodeBadSubject},
		{"sub a number", devidp.Token{Claims: map[string]any{"sub": 12}}, fxa.CodeBadSubject},
		{"missing scope", devidp.Token{Scope: "profile"}, fxa.CodeMissingScope},
		{"scope only a prefix", devidp.Token{Scope: "https://identity.mozilla.com/apps"}, fxa.CodeMissingScope},
		{"scope a sub-scope", devidp.Token{Scope: fxa.DefaultScope + ":read"}, fxa.CodeMissingScope},
		{"scope tab-separated", devidp.Token{Scope: "profile\t" + fxa.DefaultScope}, fxa.CodeMissingScope},
		{"scope an array", devidp.Token{Claims: map[string]any{"scope": []string{fxa.DefaultScope}}}, fxa.CodeMissingScope},
		{"no scope", devidp.Token{Claims: map[string]any{"scope": nil}}, fxa.CodeMissingScope},
		{"negative generation", devidp.Token{Generation: ptr(int64(-1))}, fxa.CodeBadClaim},
		{"fractional generation", devidp.Token{Claims: map[string]any{"fxa-generation": 1.5}}, fxa.CodeBadClaim},
		{"generation a string", devidp.Token{Claims: map[string]any{"fxa-generation": "3"}}, fxa.CodeBadClaim},
		{"email not an address", devidp.Token{Email: "Ada <ada@example.org>"}, fxa.CodeBadClaim},
		{"email a number", devidp.Token{Claims: map[string]any{"email": 5}}, fxa.CodeBadClaim},
		{"client_id a number", devidp.Token{Claims: map[string]any{"client_id": 5}}, fxa.CodeBadClaim},
		{"jti an object", devidp.Token{Claims: map[string]any{"jti": map[string]any{}}}, fxa.CodeBadClaim},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { mustRefuse(t, v, f.mint(t, tc.tok), tc.code) })
	}
}

func TestVerifyChecksIssuedSignatureBeforeClaims(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	// An expired token from the wrong issuer under a forged signature: only the signature may be reported,
	// so a forger learns nothing of the claim checks.
	tok := f.mint(t, devidp.Token{TTL: -time.Hour, Claims: map[string]any{"iss": "x"}, Tamper: devidp.ForgedSignature})
	mustRefuse(t, v, tok, fxa.CodeBadSignature)
}

func TestVerifyRefusesMalformed(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	// A payload whose length leaves padding bits in its last base64url character, for the non-canonical case.
	var good string
	var parts []string
	for pad := ""; ; pad += "x" {
		good = f.mint(t, devidp.Token{Claims: map[string]any{"p": pad}})
		if parts = strings.Split(good, "."); len(parts[1])%4 != 0 {
			break
		}
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	// A base64url payload whose last character carries bits the decoder would drop: strict decoding refuses
	// this second spelling of the same bytes.
	nonCanonical := parts[1][:len(parts[1])-1] + string(nextSpelling(parts[1][len(parts[1])-1]))
	padded, err := f.Mint(devidp.Token{UID: testUID, Claims: map[string]any{"pad": strings.Repeat("x", fxa.MaxTokenSize)}})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		token string
		code  fxa.Code
	}{
		"empty":                  {"", fxa.CodeMalformed},
		"one part":               {"abc", fxa.CodeMalformed},
		"two parts":              {parts[0] + "." + parts[1], fxa.CodeMalformed},
		"four parts":             {good + ".x", fxa.CodeMalformed},
		"header not base64":      {"%%%." + parts[1] + "." + parts[2], fxa.CodeMalformed},
		"header not JSON":        {b64("{alg") + "." + parts[1] + "." + parts[2], fxa.CodeMalformed},
		"header an array":        {b64(`["RS256"]`) + "." + parts[1] + "." + parts[2], fxa.CodeMalformed},
		"claims not JSON":        {parts[0] + "." + b64("nope") + "." + parts[2], fxa.CodeMalformed},
		"signature not base64":   {parts[0] + "." + parts[1] + ".***", fxa.CodeMalformed},
		"padded base64":          {parts[0] + "." + parts[1] + "." + parts[2] + "==", fxa.CodeMalformed},
		"non-canonical base64":   {parts[0] + "." + nonCanonical + "." + parts[2], fxa.CodeMalformed},
		"over 16 KiB":            {padded, fxa.CodeMalformed},
		"alg missing":            {b64(`{"typ":"at+jwt","kid":"x"}`) + "." + parts[1] + "." + parts[2], fxa.CodeBadAlg},
		"alg unknown":            {b64(`{"alg":"XS512","typ":"at+jwt","kid":"x"}`) + "." + parts[1] + "." + parts[2], fxa.CodeBadAlg},
		"alg PS256":              {b64(`{"alg":"PS256","typ":"at+jwt","kid":"x"}`) + "." + parts[1] + "." + parts[2], fxa.CodeBadAlg},
		"alg lower case":         {b64(`{"alg":"rs256","typ":"at+jwt","kid":"x"}`) + "." + parts[1] + "." + parts[2], fxa.CodeBadAlg},
		"signature of another":   {parts[0] + "." + b64(`{"sub":"ff"}`) + "." + parts[2], fxa.CodeBadSignature},
		"signature empty":        {parts[0] + "." + parts[1] + ".", fxa.CodeBadSignature},
		"whitespace around":      {" " + good, fxa.CodeMalformed},
		"claims a JSON string":   {parts[0] + "." + b64(`"x"`) + "." + parts[2], fxa.CodeMalformed},
		"header with a null alg": {b64(`{"alg":null,"typ":"at+jwt","kid":"x"}`) + "." + parts[1] + "." + parts[2], fxa.CodeBadAlg},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { mustRefuse(t, v, tc.token, tc.code) })
	}
	if len(padded) <= fxa.MaxTokenSize {
		t.Fatalf("padded token is %d bytes, not over the limit", len(padded))
	}
}

// nextSpelling returns another base64url character with the same high bits, for a final character whose low
// bits are padding.
func nextSpelling(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

func TestVerifyLeewayBoundaries(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t)
	now := f.clock.Now()
	// Within 60 s of skew everything passes; the refusals past it are in TestVerifyRefuses.
	mustAccept(t, v, f.mint(t, devidp.Token{IssuedAt: now.Add(-time.Hour), TTL: time.Hour - 59*time.Second}))
	mustAccept(t, v, f.mint(t, devidp.Token{IssuedAt: now.Add(59 * time.Second)}))
	mustAccept(t, v, f.mint(t, devidp.Token{NotBefore: now.Add(59 * time.Second)}))

	strict := f.verifier(t, fxa.WithLeeway(0))
	mustRefuse(t, strict, f.mint(t, devidp.Token{IssuedAt: now.Add(-time.Hour), TTL: time.Hour}), fxa.CodeExpired)
	mustRefuse(t, strict, f.mint(t, devidp.Token{IssuedAt: now.Add(time.Second)}), fxa.CodeIssuedInFuture)
	mustAccept(t, strict, f.mint(t, devidp.Token{IssuedAt: now.Add(-time.Hour), TTL: time.Hour + time.Second}))
}

func TestVerifyAudienceAndAlgorithmConfiguration(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t, devidp.Token{Audience: []string{"https://contacts.example.org", "other"}})

	// Without a configured audience only the scope binds the token, as in Mozilla's token server.
	open, err := fxa.NewVerifier(f.Issuer(), f.JWKSURL(), fxa.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	mustAccept(t, open, tok)
	mustAccept(t, open, f.mint(t, devidp.Token{Claims: map[string]any{"aud": nil}}))

	mustAccept(t, f.verifier(t, fxa.WithAudience("nobody", "other")), tok)
	mustRefuse(t, f.verifier(t, fxa.WithAudience("nobody")), tok, fxa.CodeBadAudience)

	rsaOnly := f.verifier(t, fxa.WithAlgorithms(fxa.RS256))
	mustAccept(t, rsaOnly, f.mint(t, devidp.Token{}))
	mustRefuse(t, rsaOnly, f.mint(t, devidp.Token{Alg: fxa.ES256}), fxa.CodeBadAlg)

	custom := f.verifier(t, fxa.WithScope("https://identity.mozilla.com/apps/oldsync"))
	mustRefuse(t, custom, f.mint(t, devidp.Token{}), fxa.CodeMissingScope)
	mustAccept(t, custom, f.mint(t, devidp.Token{Scope: "https://identity.mozilla.com/apps/oldsync"}))
}

func TestNewVerifierValidates(t *testing.T) {
	cases := map[string]struct {
		issuer, jwks string
		opts         []fxa.Option
	}{
		"no issuer":                {"", "https://idp.example/jwks", nil},
		"no key set":               {"https://idp.example", "", nil},
		"plain http to a host":     {"https://idp.example", "http://idp.example/v1/jwks", nil},
		"plain http to a LAN IP":   {"https://idp.example", "http://192.168.1.2/v1/jwks", nil},
		"credentials in the URL":   {"https://idp.example", "https://u:p@idp.example/v1/jwks", nil},
		"another scheme":           {"https://idp.example", "ftp://idp.example/jwks", nil},
		"file URL with a host":     {"https://idp.example", "file://idp.example/etc/jwks.json", nil},
		"HS256 allowed":            {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithAlgorithms(fxa.RS256, "HS256")}},
		"none allowed":             {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithAlgorithms("none")}},
		"no algorithm":             {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithAlgorithms()}},
		"leeway over 60 s":         {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithLeeway(61 * time.Second)}},
		"negative leeway":          {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithLeeway(-time.Second)}},
		"empty scope":              {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithScope("")}},
		"two scopes":               {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithScope("a b")}},
		"empty audience":           {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithAudience("")}},
		"nil clock":                {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithClock(nil)}},
		"nil HTTP client":          {"https://idp.example", "https://idp.example/jwks", []fxa.Option{fxa.WithHTTPClient(nil)}},
		"plain http via localhost": {"https://idp.example", "http://localhost.example/jwks", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := fxa.NewVerifier(tc.issuer, tc.jwks, tc.opts...); err == nil || !strings.HasPrefix(err.Error(), "fxa: ") {
				t.Fatalf("err = %v, want an fxa: error", err)
			}
		})
	}
	_, err := fxa.NewVerifier("https://idp.example", "http://idp.example/v1/jwks")
	if !errors.Is(err, fxa.ErrInsecureJWKS) {
		t.Errorf("plain http: %v, want ErrInsecureJWKS", err)
	}
	for _, ok := range []string{"https://idp.example/v1/jwks", "http://127.0.0.1:9/v1/jwks", "http://[::1]:9/jwks",
		"http://localhost:9/jwks", "/etc/fxa/jwks.json", "jwks.json", "file:///etc/fxa/jwks.json"} {
		if _, err := fxa.NewVerifier("https://idp.example", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestErrorSentinelsAndTemporary(t *testing.T) {
	for code, sentinel := range sentinels {
		err := error(&fxa.Error{Code: code, Detail: "d"})
		if !errors.Is(err, sentinel) {
			t.Errorf("%s does not match its sentinel", code)
		}
		for other, s := range sentinels {
			if other != code && errors.Is(err, s) {
				t.Errorf("%s matches the sentinel of %s", code, other)
			}
		}
		if got := err.(*fxa.Error).Temporary(); got != (code == fxa.CodeJWKSUnavailable) {
			t.Errorf("%s: Temporary() = %v", code, got)
		}
		if !strings.Contains(err.Error(), string(code)) {
			t.Errorf("%s: message %q lacks the code", code, err)
		}
	}
	if len(sentinels) != 14 {
		t.Errorf("%d codes tested; a new code needs its sentinel here", len(sentinels))
	}
	if fxa.CodeOf(errors.New("x")) != "" {
		t.Error("CodeOf of a foreign error is not empty")
	}
}

// The claims JSON the provider writes is what FxA's tokens hold, by name.
func TestMintedClaimNames(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t, devidp.Token{Generation: ptr(int64(3)), Email: "a@b.example"})
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iss", "sub", "aud", "client_id", "scope", "iat", "exp", "jti", "fxa-generation", "email"} {
		if _, ok := m[name]; !ok {
			t.Errorf("claim %q missing from %v", name, m)
		}
	}
}

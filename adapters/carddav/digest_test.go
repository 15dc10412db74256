package carddav

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The worked examples of RFC 7616 section 3.9.1.
func TestDigestResponseRFC7616(t *testing.T) {
	ch := digestChallenge{realm: "http-auth@example.org", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", qop: "auth"}
	const cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	for alg, want := range map[string]string{
		"MD5":     "8ca523f5e9506fed4657c9700eebdbec",
		"SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
	} {
		ch.algorithm = alg
		if got := digestResponse(ch, "GET", "/dir/index.html", "Mufasa", "Circle of Life", "auth", "00000001", cnonce, nil); got != want {
			t.Errorf("%s: response %s, want %s", alg, got, want)
		}
	}
}

func TestSplitChallenges(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want []string // scheme and realm of each challenge
	}{
		"one digest":   {`Digest realm="a b", qop="auth,auth-int", nonce="n,1", algorithm=SHA-256`, []string{"Digest a b"}},
		"basic first":  {`Basic realm="x", Digest realm="y", nonce="z"`, []string{"Basic x", "Digest y"}},
		"escaped":      {`Digest realm="say \"hi\"", nonce=abc`, []string{`Digest say "hi"`}},
		"token68":      {`Negotiate YII=, Basic realm=r`, []string{"Negotiate ", "Basic r"}},
		"empty":        {``, nil},
		"scheme alone": {`Bearer`, []string{"Bearer "}},
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, c := range splitChallenges(tc.in) {
				got = append(got, c.scheme+" "+c.params["realm"])
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzSplitChallenges(f *testing.F) {
	f.Add(`Digest realm="a", nonce="b", qop="auth", algorithm=SHA-256, opaque="o", stale=true`)
	f.Add(`Basic realm="x", Digest realm="y", nonce="z"`)
	f.Add(`Negotiate YII=, Digest nonce="\"", qop=auth-int`)
	f.Fuzz(func(t *testing.T, v string) {
		d := &digestAuth{}
		if d.learn(http.Header{"Www-Authenticate": {v}}) {
			if _, err := d.authorization("PUT", "/a b/c.vcf", "user", "pw", []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// digestServer answers only requests carrying a valid Digest answer (its own computation, MD5 or SHA-256 as
// configured, qop=auth), marks a nonce stale after maxUses, and serves one vCard.
type digestServer struct {
	algorithm string
	maxUses   int
	mu        sync.Mutex
	nonce     int
	uses      int
	seenNC    map[string]bool
	basicSeen int
}

func (s *digestServer) hash(parts ...string) string {
	x := strings.Join(parts, ":")
	if s.algorithm == "SHA-256" {
		b := sha256.Sum256([]byte(x))
		return hex.EncodeToString(b[:])
	}
	b := md5.Sum([]byte(x))
	return hex.EncodeToString(b[:])
}

func (s *digestServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nonce := fmt.Sprintf("nonce-%d", s.nonce)
	challenge := func(stale bool) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Digest realm="contacts", qop="auth", nonce="%s", opaque="op", algorithm=%s, stale=%v`, nonce, s.algorithm, stale))
		w.WriteHeader(http.StatusUnauthorized)
	}
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(auth, "Basic ") {
		s.basicSeen++
	}
	cs := splitChallenges(auth)
	if len(cs) != 1 || cs[0].scheme != "Digest" {
		challenge(false)
		return
	}
	p := cs[0].params
	if p["nonce"] != nonce {
		challenge(true)
		return
	}
	if s.seenNC[p["nc"]+p["cnonce"]] {
		http.Error(w, "replayed", http.StatusBadRequest)
		return
	}
	s.seenNC[p["nc"]+p["cnonce"]] = true
	want := s.hash(s.hash(p["username"], p["realm"], "secret"), p["nonce"], p["nc"], p["cnonce"], p["qop"], s.hash(r.Method, p["uri"]))
	if p["response"] != want || p["uri"] != r.URL.RequestURI() || p["opaque"] != "op" {
		challenge(false)
		return
	}
	s.uses++
	if s.uses >= s.maxUses {
		s.nonce, s.uses = s.nonce+1, 0
	}
	w.Header().Set("Content-Type", "text/vcard")
	w.Header().Set("ETag", `"1"`)
	io.WriteString(w, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:d\r\nEND:VCARD\r\n")
}

func TestDigestLogin(t *testing.T) {
	for _, alg := range []string{"MD5", "SHA-256"} {
		t.Run(alg, func(t *testing.T) {
			ds := &digestServer{algorithm: alg, maxUses: 3, seenNC: map[string]bool{}}
			srv := httptest.NewServer(ds)
			defer srv.Close()
			ctx := context.Background()
			c, err := New(srv.URL+"/", WithBasicAuth("alice", "secret"))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 8 { // past two nonce changes
				if _, err := c.Get(ctx, fmt.Sprintf("/book/%d.vcf", i)); err != nil {
					t.Fatalf("GET %d: %v", i, err)
				}
			}
			if ds.basicSeen != 1 {
				t.Errorf("Basic sent %d times; after the first Digest challenge only Digest should go", ds.basicSeen)
			}
			bad, err := New(srv.URL+"/", WithBasicAuth("alice", "wrong"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bad.Get(ctx, "/book/x.vcf"); err == nil || !strings.Contains(err.Error(), "401") {
				t.Fatalf("wrong password: err = %v, want a 401", err)
			}
		})
	}
}

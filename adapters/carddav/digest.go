package carddav

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"
)

// digestAuth is HTTP Digest access authentication (RFC 7616) for servers that offer only that. The client
// sends Basic first (the default); once a 401 offers Digest and not Basic, the client answers every later
// request with Digest, counting nonce uses, and takes a fresh nonce when the server says the old one is stale.
type digestAuth struct {
	mu sync.Mutex
	ch *digestChallenge // nil until a server asked for Digest
	nc uint32           // requests sent with ch.nonce
}

// digestChallenge is one WWW-Authenticate: Digest challenge.
type digestChallenge struct {
	realm, nonce, opaque, algorithm, qop string
	stale                                bool
}

// digestAlgorithms lists the algorithms RFC 7616 section 6.1 registers, strongest first; a server may offer
// several challenges, one per algorithm, and the client takes the strongest it knows.
var digestAlgorithms = []string{"SHA-512-256", "SHA-512-256-sess", "SHA-256", "SHA-256-sess", "MD5", "MD5-sess"}

func digestHash(algorithm string) func() hash.Hash {
	switch strings.TrimSuffix(strings.ToUpper(algorithm), "-SESS") {
	case "SHA-512-256":
		return sha512.New512_256
	case "SHA-256":
		return sha256.New
	case "MD5", "":
		return md5.New
	}
	return nil
}

// active reports whether requests are answered with Digest.
func (d *digestAuth) active() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch != nil
}

// learn reads a 401's challenges. It reports whether the request should be sent again with Digest: the server
// offers Digest and not Basic (first time), or says the nonce used was stale. A 401 to a fresh Digest answer is
// a real refusal.
func (d *digestAuth) learn(h http.Header) bool {
	var best *digestChallenge
	basic := false
	rank := len(digestAlgorithms)
	for _, v := range h.Values("WWW-Authenticate") {
		for _, c := range splitChallenges(v) {
			scheme, params := c.scheme, c.params
			switch {
			case strings.EqualFold(scheme, "Basic"):
				basic = true
			case strings.EqualFold(scheme, "Digest"):
				ch := &digestChallenge{realm: params["realm"], nonce: params["nonce"], opaque: params["opaque"],
					algorithm: params["algorithm"], qop: params["qop"], stale: strings.EqualFold(params["stale"], "true")}
				if ch.nonce == "" || digestHash(ch.algorithm) == nil {
					continue
				}
				r := len(digestAlgorithms) - 1
				for i, a := range digestAlgorithms {
					if strings.EqualFold(a, ch.algorithm) {
						r = i
					}
				}
				if best == nil || r < rank {
					best, rank = ch, r
				}
			}
		}
	}
	if best == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.ch == nil && basic:
		return false // Basic was offered and refused: the credentials are wrong
	case d.ch != nil && !best.stale:
		return false
	}
	d.ch, d.nc = best, 0
	return true
}

// authorization is the Authorization header for one request.
func (d *digestAuth) authorization(method, uri, user, password string, body []byte) (string, error) {
	d.mu.Lock()
	ch := *d.ch
	d.nc++
	nc := fmt.Sprintf("%08x", d.nc)
	d.mu.Unlock()
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	cnonce := hex.EncodeToString(raw[:])
	qop := chooseQop(ch.qop)
	resp := digestResponse(ch, method, uri, user, password, qop, nc, cnonce, body)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%s, realm=%s, uri=%s, nonce=%s, response="%s"`,
		quote(user), quote(ch.realm), quote(uri), quote(ch.nonce), resp)
	if ch.algorithm != "" {
		fmt.Fprintf(&b, ", algorithm=%s", ch.algorithm)
	}
	if qop != "" {
		fmt.Fprintf(&b, `, qop=%s, nc=%s, cnonce="%s"`, qop, nc, cnonce)
	}
	if ch.opaque != "" {
		fmt.Fprintf(&b, ", opaque=%s", quote(ch.opaque))
	}
	return b.String(), nil
}

// chooseQop prefers "auth" and falls back to "auth-int"; "" for a server of RFC 2069's time without qop.
func chooseQop(offered string) string {
	var intOnly bool
	for _, q := range strings.Split(offered, ",") {
		switch strings.TrimSpace(q) {
		case "auth":
			return "auth"
		case "auth-int":
			intOnly = true
		}
	}
	if intOnly {
		return "auth-int"
	}
	return ""
}

// digestResponse computes the response value of RFC 7616 section 3.4.1.
func digestResponse(ch digestChallenge, method, uri, user, password, qop, nc, cnonce string, body []byte) string {
	newHash := digestHash(ch.algorithm)
	h := func(parts ...string) string {
		x := newHash()
		x.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(x.Sum(nil))
	}
	ha1 := h(user, ch.realm, password)
	if strings.HasSuffix(strings.ToUpper(ch.algorithm), "-SESS") {
		ha1 = h(ha1, ch.nonce, cnonce)
	}
	ha2 := h(method, uri)
	if qop == "auth-int" {
		x := newHash()
		x.Write(body)
		ha2 = h(method, uri, hex.EncodeToString(x.Sum(nil)))
	}
	if qop == "" {
		return h(ha1, ch.nonce, ha2)
	}
	return h(ha1, ch.nonce, nc, cnonce, qop, ha2)
}

// quote is a quoted-string (RFC 9110 section 5.6.4).
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// challenge is one auth-scheme with its parameters.
type challenge struct {
	scheme string
	params map[string]string
}

// splitChallenges parses a WWW-Authenticate value (RFC 9110 section 11.6.1), which may hold several
// challenges separated by commas, each "scheme param=value, param="quoted, value"".
func splitChallenges(v string) []challenge {
	var out []challenge
	s := v
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		i := strings.IndexAny(s, " \t,")
		if i < 0 {
			return append(out, challenge{scheme: s, params: map[string]string{}})
		}
		c := challenge{scheme: s[:i], params: map[string]string{}}
		s = s[i:]
		for {
			rest := strings.TrimLeft(s, " \t,")
			eq := strings.IndexByte(rest, '=')
			sp := strings.IndexAny(rest, " \t,")
			if eq <= 0 || (sp >= 0 && sp < eq) {
				s = rest // the next challenge's scheme (or a token68, skipped as a scheme)
				break
			}
			name := strings.ToLower(strings.TrimSpace(rest[:eq]))
			rest = strings.TrimLeft(rest[eq+1:], " \t")
			var val string
			if strings.HasPrefix(rest, `"`) {
				var b strings.Builder
				j := 1
				for ; j < len(rest) && rest[j] != '"'; j++ {
					if rest[j] == '\\' && j+1 < len(rest) {
						j++
					}
					b.WriteByte(rest[j])
				}
				val, rest = b.String(), rest[min(j+1, len(rest)):]
			} else {
				end := strings.IndexAny(rest, " \t,")
				if end < 0 {
					end = len(rest)
				}
				val, rest = rest[:end], rest[end:]
			}
			c.params[name] = val
			s = rest
			if strings.TrimLeft(s, " \t") == "" {
				break
			}
		}
		out = append(out, c)
	}
}

package carddavserver

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// etagOf is the strong entity tag of a body: a hash of its bytes, so equal bodies have equal tags and the tag
// never needs to be stored apart from what it describes.
func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
}

// conditions are a request's If-Match and If-None-Match headers (RFC 9110 sections 13.1.1 and 13.1.2).
type conditions struct {
	ifMatch, ifNoneMatch []string
	anyMatch, anyNone    bool
	hasMatch, hasNone    bool
}

// parseConditions reads the two headers; a header that is not a list of entity tags is a 400.
func parseConditions(h http.Header) (conditions, error) {
	var c conditions
	var err error
	if v := h.Values("If-Match"); len(v) > 0 {
		c.hasMatch = true
		if c.anyMatch, c.ifMatch, err = parseTagList(v); err != nil {
			return c, err
		}
	}
	if v := h.Values("If-None-Match"); len(v) > 0 {
		c.hasNone = true
		if c.anyNone, c.ifNoneMatch, err = parseTagList(v); err != nil {
			return c, err
		}
	}
	return c, nil
}

// parseTagList reads "*" or a comma-separated list of entity tags, each kept with its W/ prefix and quotes.
func parseTagList(values []string) (star bool, tags []string, err error) {
	s := strings.TrimSpace(strings.Join(values, ","))
	if s == "*" {
		return true, nil, nil
	}
	for s != "" {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		start := s
		weak := strings.HasPrefix(s, "W/")
		if weak {
			s = s[2:]
		}
		if !strings.HasPrefix(s, `"`) {
			return false, nil, failf(http.StatusBadRequest, "malformed entity tag in a condition header")
		}
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return false, nil, failf(http.StatusBadRequest, "unterminated entity tag in a condition header")
		}
		n := len(start) - len(s) + end + 2
		tags = append(tags, start[:n])
		s = strings.TrimLeft(start[n:], " \t")
		if s != "" && s[0] != ',' {
			return false, nil, failf(http.StatusBadRequest, "malformed entity tag list in a condition header")
		}
	}
	if len(tags) == 0 {
		return false, nil, failf(http.StatusBadRequest, "empty condition header")
	}
	return false, tags, nil
}

// check evaluates the conditions against the target's state (exists, with tag current) for a method that
// writes: it returns a 412 status error when they fail. For GET and HEAD a failed If-None-Match is 304.
func (c conditions) check(method string, exists bool, current string) error {
	if c.hasMatch {
		ok := exists && (c.anyMatch || containsTag(c.ifMatch, current, strongMatch))
		if !ok {
			return failf(http.StatusPreconditionFailed, "If-Match failed")
		}
	}
	if c.hasNone && exists && (c.anyNone || containsTag(c.ifNoneMatch, current, weakMatch)) {
		if method == http.MethodGet || method == http.MethodHead {
			return &statusError{status: http.StatusNotModified}
		}
		return failf(http.StatusPreconditionFailed, "If-None-Match failed")
	}
	return nil
}

func containsTag(list []string, current string, match func(a, b string) bool) bool {
	for _, t := range list {
		if match(t, current) {
			return true
		}
	}
	return false
}

// strongMatch is RFC 9110's strong comparison: neither tag weak, and the same bytes.
func strongMatch(a, b string) bool {
	return !strings.HasPrefix(a, "W/") && !strings.HasPrefix(b, "W/") && a == b
}

// weakMatch compares the opaque parts, ignoring W/.
func weakMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

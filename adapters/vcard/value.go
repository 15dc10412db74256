package vcard

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
)

// decodeValue turns the raw value bytes of a logical line into Value:
// quoted-printable decoded, base64 stripped of folding whitespace, text in
// a declared CHARSET converted to UTF-8.
func decodeValue(b []byte, h *header) (string, error) {
	switch {
	case h.base64:
		return string(bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, b)), nil
	case h.qp:
		// A value that starts on the next line keeps the fold's indent.
		b = qpDecode(bytes.TrimLeft(b, " \t"))
	}
	return decodeCharset(b, h.params.First("CHARSET"))
}

// decodeCharset converts b from charset to UTF-8. Text without a CHARSET
// that is not UTF-8 was written by a legacy client in its local code page;
// Windows-1252 (a superset of ISO-8859-1) is the likeliest and maps every
// byte, so nothing is lost. An unknown CHARSET is an error only when the
// bytes are not UTF-8 either.
func decodeCharset(b []byte, charset string) (string, error) {
	if charset == "" || isUTF8Name(charset) {
		if utf8.Valid(b) {
			return string(b), nil
		}
		out, err := charmap.Windows1252.NewDecoder().Bytes(b)
		return string(out), err
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		if utf8.Valid(b) {
			return string(b), nil
		}
		return "", fmt.Errorf("CHARSET=%s and the text is not UTF-8", charset)
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("CHARSET=%s: %w", charset, err)
	}
	return string(out), nil
}

func isUTF8Name(charset string) bool {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "utf-8", "utf8":
		return true
	}
	return false
}

// encodeCharset converts s to charset; ok is false when the charset is
// unknown or cannot represent s, and the caller then writes UTF-8.
func encodeCharset(s, charset string) (out []byte, ok bool) {
	if charset == "" || isUTF8Name(charset) {
		return []byte(s), true
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, false
	}
	out, err = enc.NewEncoder().Bytes([]byte(s))
	return out, err == nil
}

// qpDecode decodes quoted-printable (RFC 2045 §6.7) leniently: an '='
// not followed by two hex digits stays as it is.
func qpDecode(b []byte) []byte {
	if bytes.IndexByte(b, '=') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '=' && i+2 < len(b) {
			if hi, ok := unhex(b[i+1]); ok {
				if lo, ok := unhex(b[i+2]); ok {
					out = append(out, hi<<4|lo)
					i += 2
					continue
				}
			}
		}
		out = append(out, b[i])
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// qpEncode encodes b as quoted-printable with soft line breaks so that no
// line exceeds 76 octets; firstLen is what the line already holds.
func qpEncode(b []byte, firstLen int, eol string) []byte {
	const hexd = "0123456789ABCDEF"
	var out []byte
	lineLen := firstLen
	for i, c := range b {
		var tok []byte
		switch {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			tok = []byte("=0D")
		case (c == ' ' || c == '\t') && (i == 0 || i+1 == len(b) || b[i+1] == '\r' || b[i+1] == '\n'):
			// Readers strip white space at either end of a line.
			tok = []byte{'=', hexd[c>>4], hexd[c&15]}
		case c == '\t' || c == ' ' || c >= 33 && c <= 126 && c != '=':
			tok = []byte{c}
		default:
			tok = []byte{'=', hexd[c>>4], hexd[c&15]}
		}
		if lineLen+len(tok) > 75 {
			out = append(out, '=')
			out = append(out, eol...)
			lineLen = 0
		}
		if lineLen == 0 && (c == ' ' || c == '\t') {
			// A line starting with white space reads as a folded line.
			tok = []byte{'=', hexd[c>>4], hexd[c&15]}
		}
		out = append(out, tok...)
		lineLen += len(tok)
	}
	return out
}

package vcard

import (
	"bytes"
	"strings"
)

// header is the part of a logical line before the value: group, name and
// parameters, and where the ':' that starts the value is.
type header struct {
	group, name string // name upper-cased
	rawName     string // "group.name" as written
	params      Params
	colon       int // index of the value's ':' in the line, -1 if none
	qp, base64  bool
}

// parseHeader reads group, name and parameters. Quoted parameter values
// may hold ';' and ':'; a line whose quotes never close is read again with
// quotes taken literally, so one stray '"' costs nothing.
func parseHeader(text []byte) header {
	h := parseHeaderQuotes(text, true)
	if h.colon < 0 && bytes.IndexByte(text, '"') >= 0 {
		h = parseHeaderQuotes(text, false)
	}
	for _, prm := range h.params {
		if prm.Name != "ENCODING" {
			continue
		}
		for _, v := range prm.Values {
			switch strings.ToUpper(strings.TrimSpace(v)) {
			case "QUOTED-PRINTABLE":
				h.qp = true
			case "B", "BASE64":
				h.base64 = true
			}
		}
	}
	return h
}

func parseHeaderQuotes(text []byte, quotes bool) header {
	h := header{colon: -1}
	i := bytes.IndexAny(text, ";:")
	if i < 0 {
		i = len(text)
	}
	h.rawName = string(text[:i])
	name := h.rawName
	if g, n, ok := strings.Cut(name, "."); ok {
		h.group, name = g, n
	}
	h.name = strings.ToUpper(name)
	for i < len(text) && text[i] == ';' {
		j := i + 1
		inQuote := false
		for ; j < len(text); j++ {
			c := text[j]
			if c == '"' && quotes {
				inQuote = !inQuote
			} else if !inQuote && (c == ';' || c == ':') {
				break
			}
		}
		// An empty parameter (Evolution's "NOPARAM;:") carries nothing; the
		// original bytes keep it while the property is unmodified.
		if raw := string(text[i+1 : j]); strings.TrimSpace(raw) != "" {
			h.params = append(h.params, parseParam(raw))
		}
		i = j
	}
	if i < len(text) && text[i] == ':' {
		h.colon = i
	}
	return h
}

// validName accepts a property name, optionally with a group: letters,
// digits and '-' as the RFCs say, plus '_' and '/' that real exports use
// (KDE's X-messaging/aim-All).
func validName(b []byte) bool {
	if len(b) == 0 || b[0] == '.' || b[len(b)-1] == '.' {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '/' || c == '.') {
			return false
		}
	}
	return true
}

// knownProps are the property names of vCard 2.1, 3.0 and 4.0.
var knownProps = map[string]bool{
	"ADR": true, "AGENT": true, "ANNIVERSARY": true, "BDAY": true, "CALADRURI": true, "CALURI": true,
	"CATEGORIES": true, "CLASS": true, "CLIENTPIDMAP": true, "EMAIL": true, "FBURL": true, "FN": true,
	"GENDER": true, "GEO": true, "IMPP": true, "KEY": true, "KIND": true, "LABEL": true, "LANG": true,
	"LOGO": true, "MAILER": true, "MEMBER": true, "N": true, "NAME": true, "NICKNAME": true, "NOTE": true,
	"ORG": true, "PHOTO": true, "PRODID": true, "PROFILE": true, "RELATED": true, "REV": true, "ROLE": true,
	"SORT-STRING": true, "SOUND": true, "SOURCE": true, "TEL": true, "TITLE": true, "TZ": true, "UID": true,
	"URL": true, "VERSION": true, "XML": true,
}

func knownName(b []byte) bool {
	if _, n, ok := bytes.Cut(b, []byte(".")); ok {
		b = n
	}
	u := strings.ToUpper(string(b))
	return knownProps[u] || strings.HasPrefix(u, "X-")
}

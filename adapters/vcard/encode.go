package vcard

import (
	"strings"
	"unicode/utf8"
)

// maxLine is the line length RFC 6350 §3.2 asks writers to fold at.
const maxLine = 75

// appendTo writes the property: its original bytes while it is
// unmodified and not asked afresh, otherwise a fresh encoding ending in
// the property's own line ending (or the card's).
func (p *Property) appendTo(buf []byte, ver, cardEOL string, afresh bool) []byte {
	if !afresh && !p.modified() {
		return append(buf, p.raw...)
	}
	eol := p.eol
	if eol == "" {
		eol = cardEOL
	}
	if eol == "" {
		eol = "\r\n"
	}
	return append(buf, p.encode(ver, eol)...)
}

// encode writes one content line, folded, with its line ending.
func (p *Property) encode(ver, eol string) []byte {
	params := p.Params
	enc := strings.ToUpper(params.First("ENCODING"))
	b64 := enc == "B" || enc == "BASE64"
	qp := enc == "QUOTED-PRINTABLE"
	value := []byte(p.Value)
	if !b64 {
		text := p.Value
		if (strings.ContainsAny(text, "\r\n") || !isASCII(text)) && !qp {
			if ver == "2.1" {
				// 2.1 has no \n escape and 7-bit transport: line breaks and
				// non-ASCII text travel quoted-printable.
				params = params.clone()
				params.Add("ENCODING", "QUOTED-PRINTABLE")
				qp = true
			} else {
				text = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(text)
			}
		}
		if qp {
			text = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(text)
			text = strings.ReplaceAll(text, "\n", "\r\n")
		}
		charset := params.First("CHARSET")
		b, ok := encodeCharset(text, charset)
		switch {
		case !ok:
			params = params.clone()
			params.Set("CHARSET", "UTF-8")
			b = []byte(text)
		case ver == "2.1" && charset == "" && !isASCII(text):
			// 2.1 readers assume ASCII unless told otherwise.
			params = params.clone()
			params.Add("CHARSET", "UTF-8")
		}
		value = b
	}

	var sb strings.Builder
	sb.WriteString(p.spelledName())
	for i := range params {
		sb.WriteByte(';')
		params[i].encode(&sb)
	}
	sb.WriteByte(':')
	head := sb.String()

	var out []byte
	if qp {
		out = append([]byte(head), qpEncode(value, len(head), eol)...)
		return append(out, eol...)
	}
	out = fold(append([]byte(head), value...), eol)
	out = append(out, eol...)
	if b64 && ver == "2.1" {
		out = append(out, eol...) // 2.1 ends base64 data with a blank line
	}
	return out
}

// spelledName is "group.NAME" in the original spelling when the group and
// name are unchanged apart from case.
func (p *Property) spelledName() string {
	og, on, _ := strings.Cut(p.rawName, ".")
	if !strings.Contains(p.rawName, ".") {
		og, on = "", p.rawName
	}
	if p.rawName != "" && strings.EqualFold(og, p.Group) && strings.EqualFold(on, p.Name) {
		return p.rawName
	}
	if p.Group != "" {
		return p.Group + "." + p.Name
	}
	return p.Name
}

// fold cuts a line into pieces of at most maxLine octets, continuation
// pieces starting with a space, never inside a UTF-8 sequence when the
// line is UTF-8.
func fold(line []byte, eol string) []byte {
	if len(line) <= maxLine {
		return line
	}
	isUTF8 := utf8.Valid(line)
	out := make([]byte, 0, len(line)+len(line)/maxLine*(len(eol)+1))
	limit := maxLine
	for len(line) > limit {
		cut := limit
		for isUTF8 && cut > 1 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		out = append(out, line[:cut]...)
		out = append(out, eol...)
		out = append(out, ' ')
		line = line[cut:]
		limit = maxLine - 1
	}
	return append(out, line...)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

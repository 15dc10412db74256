package vcard

import "strings"

// vCard text escaping. RFC 2426 §5 and RFC 6350 §3.4 escape backslash,
// comma, semicolon and newline; vCard 2.1 escapes only the semicolon (and
// its readers accept \\), and carries newlines inside quoted-printable.

// escapeText escapes s for a property value of the given version.
func escapeText(s, ver string) string {
	if ver == "2.1" {
		return strings.NewReplacer(`\`, `\\`, ";", `\;`).Replace(s)
	}
	return strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// unescapeText reverses escapeText leniently: real-world writers escape
// characters that need no escape (Google's http\://, Evolution's \"), so
// any backslash pair other than \n stands for its second character. Line
// breaks carried raw (vCard 2.1 quoted-printable) come out as "\n".
func unescapeText(s, ver string) string {
	if !strings.ContainsAny(s, "\\\r") {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r':
			sb.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c != '\\' || i+1 == len(s):
			sb.WriteByte(c)
		case ver == "2.1":
			if n := s[i+1]; n == ';' || n == '\\' {
				sb.WriteByte(n)
				i++
			} else {
				sb.WriteByte(c)
			}
		default:
			i++
			if n := s[i]; n == 'n' || n == 'N' {
				sb.WriteByte('\n')
			} else {
				sb.WriteByte(n)
			}
		}
	}
	return sb.String()
}

// splitEscaped splits s on the separator bytes that no backslash escapes.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

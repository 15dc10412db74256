package vcard

import (
	"slices"
	"strings"
)

// Param is one parameter of a content line, in the order it was written.
//
// A vCard 2.1 bare parameter (TEL;CELL, PHOTO;BASE64) gets the name it stands
// for — ENCODING for encodings, VALUE for value locations, TYPE for the rest —
// so lookups treat TEL;CELL and TEL;TYPE=CELL alike; the original spelling
// comes back when the property is written out.
type Param struct {
	Name   string   // upper-cased
	Values []string // without quotes; a quoted value holding commas stays one value

	// raw is the parameter exactly as written (without the leading ';');
	// it is reused on encode while Name and Values still equal what was
	// parsed (oname, ovals), which keeps quoting, case and bare style.
	raw   string
	oname string
	ovals []string
}

// Params is the ordered parameter list of a property.
type Params []Param

// Get returns the values of every parameter called name (any case), in
// order, or nil.
func (ps Params) Get(name string) []string {
	var out []string
	for _, p := range ps {
		if strings.EqualFold(p.Name, name) {
			out = append(out, p.Values...)
		}
	}
	return out
}

// First returns the first value of the parameter called name, or "".
func (ps Params) First(name string) string {
	if v := ps.Get(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Types returns the TYPE values lower-cased, with quoted comma lists
// (TYPE="cell,home") split, duplicates removed, in order.
func (ps Params) Types() []string {
	var out []string
	for _, v := range ps.Get("TYPE") {
		for _, t := range strings.Split(v, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if t != "" && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// HasType reports whether t (any case) is among Types.
func (ps Params) HasType(t string) bool {
	return slices.Contains(ps.Types(), strings.ToLower(t))
}

// Set replaces every parameter called name by one carrying values, at the
// position of the first one (or at the end).
func (ps *Params) Set(name string, values ...string) {
	name = strings.ToUpper(name)
	at := -1
	out := (*ps)[:0:0]
	for _, p := range *ps {
		if p.Name == name {
			if at < 0 {
				at = len(out)
				out = append(out, Param{Name: name, Values: slices.Clone(values)})
			}
			continue
		}
		out = append(out, p)
	}
	if at < 0 {
		out = append(out, Param{Name: name, Values: slices.Clone(values)})
	}
	*ps = out
}

// Add appends a parameter.
func (ps *Params) Add(name string, values ...string) {
	*ps = append(*ps, Param{Name: strings.ToUpper(name), Values: slices.Clone(values)})
}

// Del removes every parameter called name.
func (ps *Params) Del(name string) {
	*ps = slices.DeleteFunc(slices.Clone(*ps), func(p Param) bool { return strings.EqualFold(p.Name, name) })
}

func (ps Params) clone() Params {
	if ps == nil {
		return nil
	}
	out := make(Params, len(ps))
	for i, p := range ps {
		out[i] = p
		out[i].Values = slices.Clone(p.Values)
	}
	return out
}

// unchanged reports whether p still holds what was parsed from raw.
func (p *Param) unchanged() bool {
	return p.raw != "" && p.Name == p.oname && slices.Equal(p.Values, p.ovals)
}

// encode writes the parameter without its leading ';'.
func (p *Param) encode(sb *strings.Builder) {
	if p.unchanged() {
		sb.WriteString(p.raw)
		return
	}
	sb.WriteString(p.Name)
	if len(p.Values) == 0 {
		return
	}
	sb.WriteByte('=')
	for i, v := range p.Values {
		if i > 0 {
			sb.WriteByte(',')
		}
		writeParamValue(sb, v)
	}
}

// writeParamValue quotes a value that holds a separator and turns the
// characters a parameter cannot hold into RFC 6868 caret escapes.
func writeParamValue(sb *strings.Builder, v string) {
	needQuote := strings.ContainsAny(v, ",;:")
	if strings.ContainsAny(v, "\"\r\n^") {
		v = strings.NewReplacer("^", "^^", "\"", "^'", "\r\n", "^n", "\n", "^n", "\r", "^n").Replace(v)
	}
	if needQuote {
		sb.WriteByte('"')
		sb.WriteString(v)
		sb.WriteByte('"')
		return
	}
	sb.WriteString(v)
}

// bareName is the parameter name a vCard 2.1 bare parameter value implies.
func bareName(v string) string {
	switch strings.ToUpper(v) {
	case "7BIT", "8BIT", "QUOTED-PRINTABLE", "BASE64", "B":
		return "ENCODING"
	case "INLINE", "URL", "CONTENT-ID", "CID":
		return "VALUE"
	}
	return "TYPE"
}

// parseParam reads one parameter from its raw text (no leading ';').
func parseParam(raw string) Param {
	p := Param{raw: raw}
	name, vals, hasEq := strings.Cut(raw, "=")
	name = strings.TrimSpace(name)
	if !hasEq {
		p.Name = bareName(name)
		p.Values = []string{name}
	} else {
		p.Name = strings.ToUpper(name)
		p.Values = splitParamValues(vals)
	}
	p.oname = p.Name
	p.ovals = slices.Clone(p.Values)
	return p
}

// splitParamValues splits a,"b,c",d on the commas outside quotes, drops
// the quotes and decodes RFC 6868 caret escapes (^n, ^', ^^). The raw text is
// kept apart, so decoding never changes what an unmodified card writes.
func splitParamValues(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			out = append(out, cur.String())
			cur.Reset()
		case c == '^' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'N' || s[i+1] == '\'' || s[i+1] == '^'):
			i++
			switch s[i] {
			case 'n', 'N':
				cur.WriteByte('\n')
			case '\'':
				cur.WriteByte('"')
			default:
				cur.WriteByte('^')
			}
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

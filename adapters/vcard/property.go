package vcard

import (
	"slices"
	"sort"
	"strings"
)

// Property is one content line of a card (possibly folded over several
// physical lines).
//
// The exported fields are the decoded view; the exact original bytes are
// kept beside them. A property is "modified" as soon as its exported fields
// differ from what was parsed — whether through the helpers or by assigning
// the fields directly — and only then is it encoded afresh.
type Property struct {
	Group  string // e.g. "item1" ("" if none), as written
	Name   string // upper-cased
	Params Params
	// Value is the value text after unfolding, after quoted-printable and
	// CHARSET decoding to UTF-8, still vCard-escaped (structured values keep
	// their ';' and ',' separators). Base64 values have their folding
	// whitespace removed.
	Value string

	raw  []byte // exact bytes incl. folding and line ending; nil when new
	lead []byte // blank lines, comments and nested cards written before it
	eol  string // line ending of the original last line
	ver  string // effective version of the owning card, for escaping
	line int    // 1-based input line, 0 when new

	// What was parsed, to notice edits made through the exported fields,
	// and the original spelling of group and name.
	oGroup, oName, oValue string
	oParams               Params
	rawName               string
	noColon               bool // written without ':' (Evolution's bare "FN")
	// dangling: the raw value ends in a quoted-printable soft line break
	// with nothing after it, which would swallow a line written after it.
	dangling bool
}

// NewProperty returns a property that is not yet in any card.
func NewProperty(group, name, value string, params ...Param) *Property {
	return &Property{Group: group, Name: strings.ToUpper(name), Value: value, Params: params}
}

// Raw returns the property's exact original bytes (including folding and
// the line ending), or nil when the property is new or modified.
func (p *Property) Raw() []byte {
	if p.modified() {
		return nil
	}
	return p.raw
}

// Line is the 1-based input line the property starts on, 0 for a property
// created in memory.
func (p *Property) Line() int { return p.line }

func (p *Property) modified() bool {
	if p.raw == nil || p.Group != p.oGroup || p.Name != p.oName || p.Value != p.oValue {
		return true
	}
	return !slices.EqualFunc(p.Params, p.oParams, func(a, b Param) bool {
		return a.Name == b.Name && slices.Equal(a.Values, b.Values)
	})
}

// Text returns the value unescaped, with line breaks as "\n".
func (p *Property) Text() string { return unescapeText(p.Value, p.ver) }

// SetText sets the value to s, escaped for the card's version.
func (p *Property) SetText(s string) { p.Value = escapeText(s, p.ver) }

// Components splits a structured value (N, ADR, ORG, GENDER …) on the
// unescaped ';' and unescapes each component.
func (p *Property) Components() []string {
	parts := splitEscaped(p.Value, ';')
	for i, s := range parts {
		parts[i] = unescapeText(s, p.ver)
	}
	return parts
}

// SetComponents sets a structured value from unescaped components.
func (p *Property) SetComponents(parts []string) {
	esc := make([]string, len(parts))
	for i, s := range parts {
		esc[i] = escapeText(s, p.ver)
	}
	p.Value = strings.Join(esc, ";")
}

// List splits a comma-separated value (CATEGORIES, NICKNAME, one component
// of N) on the unescaped ',' and unescapes each item.
func (p *Property) List() []string { return splitList(p.Value, p.ver) }

func splitList(v, ver string) []string {
	if v == "" {
		return nil
	}
	parts := splitEscaped(v, ',')
	for i, s := range parts {
		parts[i] = unescapeText(s, ver)
	}
	return parts
}

// Canonical returns a normalized text for comparing two properties
// semantically: same group, name, parameter set and value give the same
// text whatever the folding, line endings, case of names, parameter order,
// TYPE spelling (TEL;CELL, TYPE=cell, TYPE="cell,voice") or transfer
// encoding (quoted-printable, CHARSET) of the original.
func (p *Property) Canonical() string {
	var ps []string
	for _, prm := range p.Params {
		name := strings.ToUpper(prm.Name)
		switch {
		case name == "CHARSET":
			continue
		case name == "ENCODING":
			enc := strings.ToUpper(strings.Join(prm.Values, ","))
			if enc != "B" && enc != "BASE64" {
				continue // the value is already decoded
			}
			ps = append(ps, "ENCODING=B")
			continue
		case name == "TYPE":
			for _, t := range (Params{prm}).Types() {
				ps = append(ps, "TYPE="+t)
			}
			continue
		}
		ps = append(ps, name+"="+strings.Join(prm.Values, ","))
	}
	sort.Strings(ps)
	ps = slices.Compact(ps)
	var sb strings.Builder
	if p.Group != "" {
		sb.WriteString(strings.ToLower(p.Group))
		sb.WriteByte('.')
	}
	sb.WriteString(strings.ToUpper(p.Name))
	for _, s := range ps {
		sb.WriteByte(';')
		sb.WriteString(s)
	}
	sb.WriteByte(':')
	sb.WriteString(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(p.Value))
	return sb.String()
}

// clone copies the property; the original bytes are shared (never written).
func (p *Property) clone() *Property {
	q := *p
	q.Params = p.Params.clone()
	q.oParams = p.oParams.clone()
	return &q
}

// snapshot records the current exported fields as "what was parsed".
func (p *Property) snapshot() {
	p.oGroup, p.oName, p.oValue = p.Group, p.Name, p.Value
	p.oParams = p.Params.clone()
}

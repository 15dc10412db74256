package vcard

import (
	"slices"
	"strings"

	"github.com/contactsync/contactsync/changelog/contact"
)

// Views of list items: how one property reads as one item of a
// mozContact list, and how a property is patched to say another item.

func textList(name string, field func(*contact.MozContact) *[]string) listField[string] {
	return listField[string]{names: []string{name}, write: fixed(name), field: field,
		view:  (*Property).Text,
		patch: func(p *Property, old, v string) { p.SetText(v) },
		eq:    func(a, b string) bool { return a == b }}
}

func typedList(name string, field func(*contact.MozContact) *[]contact.Field) listField[contact.Field] {
	return listField[contact.Field]{names: []string{name}, write: fixed(name), field: field,
		view: func(p *Property) contact.Field {
			types, pref := typesOf(p)
			return contact.Field{Type: types, Pref: pref, Value: p.Text()}
		},
		patch: func(p *Property, old, v contact.Field) {
			if old.Value != v.Value {
				p.SetText(v.Value)
			}
			if !sameTypes(old.Type, old.Pref, v.Type, v.Pref) {
				setTypes(p, v.Type, v.Pref)
			}
		},
		eq: func(a, b contact.Field) bool {
			return a.Value == b.Value && sameTypes(a.Type, a.Pref, b.Type, b.Pref)
		}}
}

// typesOf reads TYPE (bare 2.1 parameters included) lower-cased, with
// "pref" and the 4.0 PREF parameter turned into the pref flag.
func typesOf(p *Property) (types []string, pref bool) {
	for _, t := range p.Params.Types() {
		if t == "pref" {
			pref = true
			continue
		}
		types = append(types, t)
	}
	if len(p.Params.Get("PREF")) > 0 {
		pref = true
	}
	return types, pref
}

func cleanTypes(types []string) []string {
	var out []string
	for _, t := range types {
		for _, s := range strings.Split(t, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if s != "" && s != "pref" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func sameTypes(a []string, aPref bool, b []string, bPref bool) bool {
	if aPref != bPref || slices.Contains(a, "pref") != slices.Contains(b, "pref") {
		return false
	}
	x, y := cleanTypes(a), cleanTypes(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// setTypes writes types the way the card's version spells them: bare
// parameters in 2.1 (TEL;CELL;PREF), TYPE=…,pref in 3.0, TYPE=… and PREF=1
// in 4.0 (RFC 6350 §5.3).
func setTypes(p *Property, types []string, pref bool) {
	p.Params.Del("TYPE")
	p.Params.Del("PREF")
	ts := cleanTypes(types)
	if slices.Contains(types, "pref") {
		pref = true
	}
	switch p.ver {
	case "4.0":
		if len(ts) > 0 {
			p.Params.Add("TYPE", ts...)
		}
		if pref {
			p.Params.Add("PREF", "1")
		}
	case "2.1":
		if pref {
			ts = append(ts, "pref")
		}
		for _, t := range ts {
			p.Params = append(p.Params, typeParam21(strings.ToUpper(t)))
		}
	default:
		if pref {
			ts = append(ts, "pref")
		}
		if len(ts) > 0 {
			p.Params.Add("TYPE", ts...)
		}
	}
}

// typeParam21 is a vCard 2.1 bare type parameter when the value can be one.
func typeParam21(v string) Param {
	if strings.ContainsAny(v, ";:=\", \t") || bareName(v) != "TYPE" {
		return Param{Name: "TYPE", Values: []string{v}}
	}
	return Param{Name: "TYPE", Values: []string{v}, raw: v, oname: "TYPE", ovals: []string{v}}
}

func telView(p *Property) contact.TelField {
	types, pref := typesOf(p)
	v := p.Text()
	if len(v) >= 4 && strings.EqualFold(v[:4], "tel:") {
		v = v[4:]
	}
	return contact.TelField{Type: types, Pref: pref, Value: v, Carrier: p.Params.First("X-CARRIER")}
}

// telPatch keeps a tel: URI a URI (RFC 6350 §6.4.1 VALUE=uri).
func telPatch(p *Property, old, v contact.TelField) {
	if old.Value != v.Value {
		if t := p.Text(); len(t) >= 4 && strings.EqualFold(t[:4], "tel:") {
			p.SetText(t[:4] + v.Value)
		} else {
			p.SetText(v.Value)
		}
	}
	if old.Carrier != v.Carrier {
		if v.Carrier == "" {
			p.Params.Del("X-CARRIER")
		} else {
			p.Params.Set("X-CARRIER", v.Carrier)
		}
	}
	if !sameTypes(old.Type, old.Pref, v.Type, v.Pref) {
		setTypes(p, v.Type, v.Pref)
	}
}

// ADR components (RFC 6350 §6.3.1): post office box, extended address,
// street, locality, region, postal code, country. The mozContact address
// has no place for the first two; they stay as they are.
func adrView(p *Property) contact.Address {
	c := p.Components()
	c = append(c, make([]string, max(0, 7-len(c)))...)
	types, pref := typesOf(p)
	return contact.Address{Type: types, Pref: pref, StreetAddress: c[2], Locality: c[3], Region: c[4],
		PostalCode: c[5], CountryName: c[6]}
}

func adrParts(a contact.Address) [5]string {
	return [5]string{a.StreetAddress, a.Locality, a.Region, a.PostalCode, a.CountryName}
}

func adrPatch(p *Property, old, v contact.Address) {
	o, n := adrParts(old), adrParts(v)
	for i := range n {
		if o[i] != n[i] {
			setComponent(p, i+2, n[i])
		}
	}
	if len(splitEscaped(p.Value, ';')) < 7 {
		setComponent(p, 6, "") // pads to the seven components
	}
	if !sameTypes(old.Type, old.Pref, v.Type, v.Pref) {
		setTypes(p, v.Type, v.Pref)
	}
}

// setComponent replaces one component of a structured value; the others
// keep their original escaping.
func setComponent(p *Property, i int, v string) {
	parts := splitEscaped(p.Value, ';')
	for len(parts) <= i {
		parts = append(parts, "")
	}
	parts[i] = escapeText(v, p.ver)
	p.Value = strings.Join(parts, ";")
}

// mediaList maps PHOTO or KEY to data: URLs (inline data) or URLs.
func mediaList(name, prefix string, field func(*contact.MozContact) *[]string) listField[string] {
	return listField[string]{names: []string{name}, write: fixed(name), field: field,
		view:  func(p *Property) string { return mediaView(p, prefix) },
		patch: func(p *Property, old, v string) { mediaPatch(p, prefix, v) },
		eq:    func(a, b string) bool { return a == b }}
}

func isInline(p *Property) bool {
	enc := strings.ToUpper(p.Params.First("ENCODING"))
	return enc == "B" || enc == "BASE64"
}

// mediaView gives inline data (2.1 and 3.0 ENCODING=b) as a data: URL and
// a URI (4.0, VALUE=uri) as it is.
func mediaView(p *Property, prefix string) string {
	if !isInline(p) {
		return p.Value
	}
	mt := p.Params.First("MEDIATYPE")
	if t := p.Params.First("TYPE"); mt == "" && t != "" {
		mt = strings.ToLower(t)
		if !strings.Contains(mt, "/") {
			mt = prefix + mt
		}
	}
	return "data:" + mt + ";base64," + p.Value
}

func mediaPatch(p *Property, prefix, v string) {
	for _, n := range []string{"ENCODING", "TYPE", "VALUE", "MEDIATYPE"} {
		p.Params.Del(n)
	}
	v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
	mt, data, ok := parseDataURL(v)
	switch {
	case ok && p.ver != "4.0":
		enc := "b"
		if p.ver == "2.1" {
			enc = "BASE64"
		}
		p.Params.Add("ENCODING", enc)
		if short := strings.TrimPrefix(mt, prefix); short != mt && !strings.Contains(short, "/") {
			p.Params.Add("TYPE", strings.ToUpper(short))
		} else if mt != "" {
			p.Params.Add("TYPE", mt)
		}
		p.Value = data
	case p.ver == "3.0":
		p.Params.Add("VALUE", "uri")
		p.Value = v
	case p.ver == "2.1":
		p.Params.Add("VALUE", "URL")
		p.Value = v
	default:
		p.Value = v
	}
}

// parseDataURL splits a base64 data: URL (RFC 2397) into media type and
// data.
func parseDataURL(v string) (mediaType, data string, ok bool) {
	rest, found := strings.CutPrefix(v, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	mediaType, found = strings.CutSuffix(meta, ";base64")
	if !found || strings.Contains(mediaType, ";") {
		return "", "", false
	}
	return strings.ToLower(mediaType), data, true
}

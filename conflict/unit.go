package conflict

import (
	"slices"
	"strings"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// unit is what the merge moves and compares: one ungrouped property, or
// every property of one group (item1.TEL with item1.X-ABLabel), which
// travel together.
type unit struct {
	props []*vcard.Property // members in card order
	main  *vcard.Property   // the member the unit is about (TEL, not its label)
	class string            // main's name; decides how instances merge
	group string            // group as written, "" when ungrouped
	value string            // main's value, normalized: the identity of an instance
	pid   string            // main's PID parameter (RFC 6350 §7), "" when none
	param string            // main's parameters, normalized
	other string            // the other members, normalized, group left out
	key   string            // class, value, parameters and other members: equal keys, equal content
	first int               // index in its view's props of the first member
	last  int               // and of the last member
	idx   int               // index in its view's units
}

// rest is everything but the value: parameters and other members.
func (u *unit) rest() string { return u.param + "\x00" + u.other }

// lowerGroup is the group as compared: group names are case-insensitive.
func (u *unit) lowerGroup() string { return strings.ToLower(u.group) }

// newUnit builds a unit from its members (one property, or a group).
func newUnit(props []*vcard.Property) *unit {
	u := &unit{props: props, main: mainOf(props), group: props[0].Group}
	u.class = u.main.Name
	u.value = normValue(u.main.Value)
	u.param = paramKey(u.main.Params)
	u.pid = u.main.Params.First("PID")
	if len(props) > 1 {
		others := make([]string, 0, len(props)-1)
		for _, p := range props {
			if p != u.main {
				others = append(others, p.Name+";"+paramKey(p.Params)+":"+normValue(p.Value))
			}
		}
		slices.Sort(others)
		u.other = strings.Join(others, "\x01")
	}
	u.key = u.class + "\x00" + u.value + "\x00" + u.param + "\x00" + u.other
	return u
}

// mainOf picks the member a group is about: the first by name that is not
// a label, so item2.ADR with item2.X-ABADR is an ADR whatever the order
// the members were written in.
func mainOf(props []*vcard.Property) *vcard.Property {
	main := props[0]
	for _, p := range props[1:] {
		if isLabel(main.Name) && !isLabel(p.Name) || isLabel(main.Name) == isLabel(p.Name) && p.Name < main.Name {
			main = p
		}
	}
	return main
}

func isLabel(name string) bool { return name == "X-ABLABEL" }

// normValue makes two spellings of one value equal: line breaks written
// raw (a decoded quoted-printable value) or as \n or \N, and needless
// escapes such as Google's http\:// all count the same. Escaped separators
// (\; \, \\) stay escaped, so structured values keep their components.
func normValue(s string) string {
	if !strings.ContainsAny(s, "\\\r\n") {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\n':
			if c == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			sb.WriteString(`\n`)
		case c == '\\' && i+1 < len(s):
			i++
			switch n := s[i]; n {
			case ';', ',', '\\':
				sb.WriteByte('\\')
				sb.WriteByte(n)
			case 'n', 'N':
				sb.WriteString(`\n`)
			default:
				sb.WriteByte(n)
			}
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// paramKey normalizes a parameter list the way vcard.Property.Canonical
// does (order, case and TYPE spelling do not count; transfer encodings are
// gone from the decoded value), without the group and split from the value,
// which the merge needs apart.
func paramKey(ps vcard.Params) string {
	if len(ps) == 0 {
		return ""
	}
	keys := make([]string, 0, len(ps))
	for _, prm := range ps {
		switch prm.Name {
		case "CHARSET":
			continue
		case "ENCODING":
			if isBase64(prm.Values) {
				keys = append(keys, "ENCODING=B")
			}
			continue
		case "TYPE":
			for _, t := range (vcard.Params{prm}).Types() {
				keys = append(keys, "TYPE="+t)
			}
			continue
		case "VALUE":
			keys = append(keys, "VALUE="+strings.ToLower(strings.Join(prm.Values, ",")))
			continue
		}
		keys = append(keys, prm.Name+"="+strings.Join(prm.Values, ","))
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), ";")
}

// view is one version of the card cut into units.
type view struct {
	card  *vcard.Card
	props []*vcard.Property // what is merged: the card's properties, or a subset for a made-up base
	owner []int             // props[i] belongs to units[owner[i]]
	units []*unit           // in the order of their first member
	// byClass lists the units of each class in order.
	byClass map[string][]*unit
	// match is, for a side, the index of the base unit units[i] stands
	// for, or -1 for a unit the side added.
	match []int
}

func newView(card *vcard.Card, props []*vcard.Property) *view {
	v := &view{card: card, props: props, owner: make([]int, len(props))}
	var members [][]*vcard.Property
	var groups map[string]int // lower-case group -> index in members
	for i, p := range props {
		if p.Group == "" {
			v.owner[i] = len(members)
			members = append(members, []*vcard.Property{p})
			continue
		}
		g := strings.ToLower(p.Group)
		at, ok := groups[g]
		if !ok {
			if groups == nil {
				groups = make(map[string]int)
			}
			at = len(members)
			groups[g] = at
			members = append(members, nil)
		}
		v.owner[i] = at
		members[at] = append(members[at], p)
	}
	v.units = make([]*unit, len(members))
	v.byClass = make(map[string][]*unit, len(members))
	for i, m := range members {
		u := newUnit(m)
		u.idx, u.first = i, -1
		v.units[i] = u
		v.byClass[u.class] = append(v.byClass[u.class], u)
	}
	for i, o := range v.owner {
		if u := v.units[o]; u.first < 0 {
			u.first = i
		}
		v.units[o].last = i
	}
	return v
}

// sameContent reports whether two views hold the same units in the same
// order, whatever their folding, line endings, escaping or parameter order.
// With skipMeta, VERSION, REV, PRODID and UID do not count.
func sameContent(a, b *view, skipMeta bool) bool {
	ua, ub := a.units, b.units
	if skipMeta {
		ua, ub = withoutMeta(ua), withoutMeta(ub)
	}
	return sameUnits(ua, ub)
}

func withoutMeta(us []*unit) []*unit {
	return slices.DeleteFunc(slices.Clone(us), func(u *unit) bool { return metaClasses[u.class] })
}

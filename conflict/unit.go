package conflict

import (
	"cmp"
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
	key   unitKey           // equal keys, equal content
	first int               // index in its view's props of the first member
	last  int               // and of the last member
	idx   int               // index in its view's units
	// emitted is set once the merged card holds the unit.
	emitted bool
}

// unitKey is a unit's content without its group: class, value,
// parameters and other members, all normalized.
type unitKey struct{ class, value, param, other string }

// compare orders keys field by field, the same way on every device.
func (k unitKey) compare(o unitKey) int {
	return cmp.Or(strings.Compare(k.class, o.class), strings.Compare(k.value, o.value),
		strings.Compare(k.param, o.param), strings.Compare(k.other, o.other))
}

// rest is everything but the value: parameters and other members.
func (u *unit) rest() string { return u.param + "\x00" + u.other }

// lowerGroup is the group as compared: group names are case-insensitive.
func (u *unit) lowerGroup() string { return strings.ToLower(u.group) }

// newUnit builds a unit from its members (one property, or a group).
func newUnit(props []*vcard.Property) *unit {
	u := new(unit)
	u.init(props)
	return u
}

func (u *unit) init(props []*vcard.Property) {
	u.props, u.main, u.group = props, mainOf(props), props[0].Group
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
	u.key = unitKey{u.class, u.value, u.param, u.other}
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
// which the merge needs apart. It runs for every property of every version,
// so it builds the key in one allocation.
func paramKey(ps vcard.Params) string {
	if len(ps) == 0 {
		return ""
	}
	var buf [8]paramItem
	items := buf[:0]
	for _, prm := range ps {
		switch prm.Name {
		case "CHARSET":
		case "ENCODING":
			if isBase64(prm.Values) {
				items = append(items, paramItem{"ENCODING", "B", false})
			}
		case "TYPE":
			for _, v := range prm.Values {
				for t := range strings.SplitSeq(v, ",") {
					if t = strings.TrimSpace(t); t != "" {
						items = append(items, paramItem{"TYPE", t, true})
					}
				}
			}
		case "VALUE":
			items = append(items, paramItem{"VALUE", strings.Join(prm.Values, ","), true})
		default:
			items = append(items, paramItem{prm.Name, strings.Join(prm.Values, ","), false})
		}
	}
	slices.SortFunc(items, paramItem.compare)
	items = slices.CompactFunc(items, func(a, b paramItem) bool { return a.compare(b) == 0 })
	n := 0
	for _, it := range items {
		n += len(it.name) + len(it.value) + 2
	}
	var sb strings.Builder
	sb.Grow(n)
	for i, it := range items {
		if i > 0 {
			sb.WriteByte(';')
		}
		sb.WriteString(it.name)
		sb.WriteByte('=')
		for j := 0; j < len(it.value); j++ {
			c := it.value[j]
			if it.fold && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// paramItem is one normalized parameter value; fold: its case does not count.
type paramItem struct {
	name, value string
	fold        bool
}

func (a paramItem) compare(b paramItem) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	for i := 0; i < len(a.value) && i < len(b.value); i++ {
		x, y := a.value[i], b.value[i]
		if a.fold && 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if b.fold && 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(a.value), len(b.value))
}

// propKey is one property's content with its group, compared the way
// units are: it matches a line of a Conflict against the card it came
// from, whatever the transfer encoding or escaping either was written in.
func propKey(p *vcard.Property) string {
	return strings.ToLower(p.Group) + "." + p.Name + ";" + paramKey(p.Params) + ":" + normValue(p.Value)
}

type span struct{ lo, hi int }

// byClass lists the units of one class in order.
func (v *view) byClass(class string) []*unit {
	sp := v.classes[class]
	return v.sorted[sp.lo:sp.hi]
}

// view is one version of the card cut into units.
type view struct {
	card  *vcard.Card
	props []*vcard.Property // what is merged: the card's properties, or a subset for a made-up base
	owner []int             // props[i] belongs to units[owner[i]]
	units []*unit           // in the order of their first member
	// classes spans each class's units in sorted, which holds the units
	// ordered by class, then position.
	classes map[string]span
	sorted  []*unit
	// match is, for a side, the index of the base unit units[i] stands
	// for, or -1 for a unit the side added.
	match []int
}

func newView(card *vcard.Card, props []*vcard.Property) *view {
	v := &view{card: card, props: props, owner: make([]int, len(props))}
	// members[i] are the properties of unit i; an ungrouped property's is a
	// one-element window on props, which costs nothing.
	members := make([][]*vcard.Property, 0, len(props))
	var groups map[string]int // lower-case group -> index in members
	for i, p := range props {
		if p.Group == "" {
			v.owner[i] = len(members)
			members = append(members, props[i:i+1:i+1])
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
	us := make([]unit, len(members))
	ptrs := make([]*unit, 2*len(members))
	v.units, v.sorted = ptrs[:len(members)], ptrs[len(members):]
	for i, m := range members {
		u := &us[i]
		u.init(m)
		u.idx, u.first = i, -1
		v.units[i] = u
	}
	copy(v.sorted, v.units)
	slices.SortStableFunc(v.sorted, func(a, b *unit) int { return strings.Compare(a.class, b.class) })
	v.classes = make(map[string]span, len(members))
	for lo := 0; lo < len(v.sorted); {
		hi := lo + 1
		for hi < len(v.sorted) && v.sorted[hi].class == v.sorted[lo].class {
			hi++
		}
		v.classes[v.sorted[lo].class] = span{lo, hi}
		lo = hi
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

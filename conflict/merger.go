package conflict

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// card builds the merged card on the base's frame (BEGIN and END lines,
// line ending, filler before END) with copies of the merged properties,
// so that it shares no mutable memory with the inputs. Copying the
// properties keeps their original bytes; Card.Clone would also copy the
// base's parse record, which the merged card does not need.
func (m *merger) card(props []*vcard.Property) *vcard.Card {
	out := *m.b.card
	copies := make([]vcard.Property, len(props))
	out.Props = make([]*vcard.Property, len(props))
	for i, p := range props {
		copies[i] = *p
		if p.Params != nil {
			copies[i].Params = make(vcard.Params, len(p.Params))
			for j, prm := range p.Params {
				copies[i].Params[j] = prm
				copies[i].Params[j].Values = slices.Clone(prm.Values)
			}
		}
		out.Props[i] = &copies[i]
	}
	if len(out.Nested) > 0 {
		out.Nested = make([]*vcard.Card, len(m.b.card.Nested))
		for i, n := range m.b.card.Nested {
			out.Nested[i] = n.Clone()
		}
	}
	return &out
}

// merger runs one three-way merge where both sides changed something.
type merger struct {
	uid        string
	b, l, r    *view
	lrev, rrev time.Time
	// fate[i] is what replaces base unit i: itself when kept, one or two
	// units when edited, nothing when removed.
	fate []outcome
	// adds[a+1] are the units added after base unit a (a = -1: at the start).
	adds [][]addition
	// decisions are recorded as units and written out as Conflicts once
	// the card is laid out, since laying out may rename a group.
	decisions []decision
}

type decision struct {
	kind Kind
	w, l *unit // winner (in the card) and loser (nil for a deletion)
	lost Side
}

// addition is a unit (or two, for one both sides added differently) that
// is not in the base.
type addition struct {
	units outcome
	from  Side // Local or Remote; "" when both sides added it
	order int  // index in its side, to keep that side's order
}

func newMerger(b, l, r *view) *merger {
	m := &merger{
		uid: l.card.UID(), b: b, l: l, r: r,
		lrev: revOf(l.card), rrev: revOf(r.card),
		fate: make([]outcome, len(b.units)),
		adds: make([][]addition, len(b.units)+1),
	}
	for _, v := range []*view{l, r} {
		v.match = make([]int, len(v.units))
		for i := range v.match {
			v.match[i] = -1
		}
	}
	return m
}

func (m *merger) run() Result {
	modes := make(map[string]mode, len(m.b.classes)+4)
	for _, v := range []*view{m.b, m.l, m.r} {
		for class := range v.classes {
			if _, ok := modes[class]; ok {
				continue
			}
			bs, ls, rs := m.b.byClass(class), m.l.byClass(class), m.r.byClass(class)
			md := modeOf(class, len(bs), len(ls), len(rs))
			modes[class] = md
			match(md, bs, ls, m.l)
			match(md, bs, rs, m.r)
		}
	}
	la, ra := anchors(m.l), anchors(m.r)
	lOf, rOf := inverse(m.l, len(m.b.units)), inverse(m.r, len(m.b.units))
	for class, md := range modes {
		for _, bu := range m.b.byClass(class) {
			m.fate[bu.idx] = m.resolve(md, bu, unitAt(m.l, lOf[bu.idx]), unitAt(m.r, rOf[bu.idx]))
		}
		m.added(md, m.l.byClass(class), m.r.byClass(class), la, ra)
	}
	units, props := m.emit()
	renamed := renameClashes(units, props)

	return Result{
		Card:        m.card(props),
		Conflicts:   m.conflicts(renamed),
		WriteLocal:  !sameUnits(units, m.l.units),
		WriteRemote: !sameUnits(units, m.r.units),
	}
}

// match pairs each unit of a side with the base unit it stands for.
// A single value pairs with the base's whatever it became. Instances of a
// set pair in stages, each only among what earlier stages left: identical
// content; the same value in the same group, then the same value anywhere
// (its parameters or label changed); the same PID
// (RFC 6350 §7); the same group (Apple's item1); the same parameters and
// label (its value was edited). What stays unpaired was removed (base) or
// added (side).
func match(md mode, bs, ss []*unit, side *view) {
	if md != multi {
		if len(bs) == 1 && len(ss) == 1 {
			side.match[ss[0].idx] = bs[0].idx
		}
		return
	}
	used := make([]bool, len(bs))
	for _, same := range matchStages {
		for _, s := range ss {
			if side.match[s.idx] >= 0 {
				continue
			}
			for i, b := range bs {
				if !used[i] && same(b, s) {
					used[i] = true
					side.match[s.idx] = b.idx
					break
				}
			}
		}
	}
}

var matchStages = []func(b, s *unit) bool{
	func(b, s *unit) bool { return b.key == s.key },
	func(b, s *unit) bool { return b.value == s.value && strings.EqualFold(b.group, s.group) },
	func(b, s *unit) bool { return b.value == s.value },
	func(b, s *unit) bool { return b.pid != "" && b.pid == s.pid },
	func(b, s *unit) bool { return b.group != "" && strings.EqualFold(b.group, s.group) },
	func(b, s *unit) bool { return b.param == s.param && b.other == s.other },
}

// anchors gives, for each unit of a side, the base unit it follows: the
// nearest unit before it in that side that stands for a base unit. An added
// unit is placed after its anchor, so it lands where its side put it.
func anchors(v *view) []int {
	out := make([]int, len(v.units))
	last := -1
	for i := range v.units {
		out[i] = last
		if v.match[i] >= 0 {
			last = v.match[i]
		}
	}
	return out
}

// inverse maps each base unit to the index of the side unit standing for
// it, -1 when the side removed it.
func inverse(v *view, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	for i, b := range v.match {
		if b >= 0 {
			out[b] = i
		}
	}
	return out
}

func unitAt(v *view, i int) *unit {
	if i < 0 {
		return nil
	}
	return v.units[i]
}

// added merges the units of one class that the sides added: the same
// addition on both sides (or, for a set, the same value) is one addition.
func (m *merger) added(md mode, ls, rs []*unit, la, ra []int) {
	ladd := slices.DeleteFunc(slices.Clone(ls), func(u *unit) bool { return m.l.match[u.idx] >= 0 })
	radd := slices.DeleteFunc(slices.Clone(rs), func(u *unit) bool { return m.r.match[u.idx] >= 0 })
	pair := func(lu, ru *unit) {
		at := min(la[lu.idx], ra[ru.idx])
		if o := m.resolve(md, nil, lu, ru); o.n > 0 {
			m.adds[at+1] = append(m.adds[at+1], addition{units: o})
		}
	}
	if md != multi {
		if len(ladd) == 1 && len(radd) == 1 {
			pair(ladd[0], radd[0])
			ladd, radd = nil, nil
		}
	} else {
		for _, same := range []func(a, b *unit) bool{
			func(a, b *unit) bool { return a.key == b.key },
			func(a, b *unit) bool { return a.value == b.value },
		} {
			for i := 0; i < len(ladd); i++ {
				if j := slices.IndexFunc(radd, func(ru *unit) bool { return same(ladd[i], ru) }); j >= 0 {
					pair(ladd[i], radd[j])
					ladd = slices.Delete(ladd, i, i+1)
					radd = slices.Delete(radd, j, j+1)
					i--
				}
			}
		}
	}
	for _, u := range ladd {
		m.adds[la[u.idx]+1] = append(m.adds[la[u.idx]+1], addition{units: one(u), from: LocalSide, order: u.idx})
	}
	for _, u := range radd {
		m.adds[ra[u.idx]+1] = append(m.adds[ra[u.idx]+1], addition{units: one(u), from: RemoteSide, order: u.idx})
	}
}

// resolve merges one instance: bu is its base version (nil when both sides
// added it), lu and ru what each side made of it (nil: removed, or not
// added).
func (m *merger) resolve(md mode, bu, lu, ru *unit) outcome {
	lc, rc := changed(bu, lu), changed(bu, ru)
	switch {
	case !lc && !rc:
		return one(bu)
	case !rc:
		return one(lu)
	case !lc:
		return one(ru)
	case lu == nil && ru == nil:
		return outcome{}
	case md == list:
		return m.mergeList(bu, lu, ru)
	case lu == nil || ru == nil:
		// Edit beats delete.
		kept, lost := ru, LocalSide
		if ru == nil {
			kept, lost = lu, RemoteSide
		}
		if md != meta {
			m.record(KindDelete, kept, nil, lost)
		}
		return one(kept)
	case lu.key == ru.key:
		// The same change on both sides.
		return one(lesser(lu, ru))
	case valueClash(bu, lu, ru):
		if md == multi {
			// Two different values typed for one instance: a set keeps both.
			return outcome{u: [2]*unit{lesser(lu, ru), greater(lu, ru)}, n: 2}
		}
		w, l, lost := m.winner(lu, ru)
		if md != meta {
			m.record(KindEdit, w, l, lost)
		}
		return one(w)
	}
	return m.combine(md, bu, lu, ru)
}

func changed(bu, su *unit) bool {
	if bu == nil || su == nil {
		return bu != su
	}
	return bu.key != su.key
}

// outcome is what an instance becomes: nothing, one unit, or two (a set
// keeping both values typed for one instance).
type outcome struct {
	u [2]*unit
	n int
}

func one(u *unit) outcome {
	if u == nil {
		return outcome{}
	}
	return outcome{u: [2]*unit{u}, n: 1}
}

func (o *outcome) units() []*unit { return o.u[:o.n] }

// valueClash reports whether both sides changed the value itself, each to
// something else.
func valueClash(bu, lu, ru *unit) bool {
	bv := ""
	if bu != nil {
		bv = bu.value
	}
	return lu.value != ru.value && lu.value != bv && ru.value != bv
}

// combine merges an instance field by field: its value, its parameters,
// and each other member of its group (a label) take the side that changed
// them. A field both sides changed differently takes the winner's version,
// and the loser's whole instance is recorded.
func (m *merger) combine(md mode, bu, lu, ru *unit) outcome {
	w, l, lost := m.winner(lu, ru)
	clash := false
	choose := func(b, lv, rv string) string {
		switch {
		case lv == rv || rv == b:
			return lv
		case lv == b:
			return rv
		}
		clash = true
		if w == lu {
			return lv
		}
		return rv
	}
	var bu0 unit
	if bu != nil {
		bu0 = *bu
	}
	// Candidates in an order that does not depend on which side is local.
	cands := [2]struct {
		u       *unit
		members map[string]string
	}{{u: lesser(lu, ru)}, {u: greater(lu, ru)}}
	for i := range cands {
		cands[i].members = members(cands[i].u)
	}
	bm, lm, rm := members(bu), members(lu), members(ru)

	value := choose(bu0.value, lu.value, ru.value)
	param := choose(bu0.param, lu.param, ru.param)
	// The main property: one side's own when it has both chosen fields.
	var main *vcard.Property
	var from *unit
	for _, c := range cands {
		if c.u.value == value && c.u.param == param {
			main, from = c.u.main, c.u
			break
		}
	}
	if main == nil {
		// The value from one side, the parameters from the other.
		vu, pu := cands[0].u, cands[0].u
		if vu.value != value {
			vu = cands[1].u
		}
		if pu.param != param {
			pu = cands[1].u
		}
		main, from = vcard.NewProperty(vu.group, vu.main.Name, vu.main.Value, pu.main.Params...), vu
	}

	// The other members, name by name.
	var names []string
	for _, ms := range []map[string]string{bm, lm, rm} {
		for n := range ms {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	source := make(map[string]*unit, len(names))
	for _, n := range names {
		want := choose(bm[n], lm[n], rm[n])
		for _, c := range cands {
			if c.members[n] == want {
				source[n] = c.u
				break
			}
		}
	}

	// Lay the members out in the order of the unit the main property came
	// from, then what it lacks; all in one group.
	group := from.group
	for _, n := range names {
		if group == "" && source[n] != nil && len(source[n].props) > 1 {
			group = source[n].group
		}
	}
	props := make([]*vcard.Property, 0, len(from.props)+1)
	done := make(map[string]bool, len(names))
	put := func(n string) {
		if done[n] {
			return
		}
		done[n] = true
		if u := source[n]; u != nil {
			for _, p := range u.props {
				if p != u.main && p.Name == n {
					props = append(props, regroup(p, group))
				}
			}
		}
	}
	for _, p := range from.props {
		if p == from.main {
			props = append(props, regroup(main, group))
		} else {
			put(p.Name)
		}
	}
	for _, n := range names {
		put(n)
	}
	u := newUnit(props)
	for _, c := range cands {
		if u.key == c.u.key && strings.EqualFold(u.group, c.u.group) {
			u = c.u // keep that side's bytes
			break
		}
	}
	if clash && md != meta {
		m.record(KindEdit, u, l, lost)
	}
	return one(u)
}

// members maps each member name of a unit other than the main property to
// its normalized content.
func members(u *unit) map[string]string {
	if u == nil || len(u.props) == 1 {
		return nil
	}
	out := make(map[string]string, len(u.props)-1)
	for _, p := range u.props {
		if p == u.main {
			continue
		}
		k := paramKey(p.Params) + ":" + normValue(p.Value)
		if prev, ok := out[p.Name]; ok {
			k = prev + "\x01" + k
		}
		out[p.Name] = k
	}
	return out
}

// regroup returns p in group g: p itself when it is already there.
func regroup(p *vcard.Property, g string) *vcard.Property {
	if p.Group == g {
		return p
	}
	return vcard.NewProperty(g, p.Name, p.Value, p.Params...)
}

// winner decides between two different versions of one instance the same
// way on every device: the side whose card has the later REV wins; with
// equal REVs (or none), the greater content, then the greater bytes. For
// VERSION, the higher version wins.
func (m *merger) winner(lu, ru *unit) (w, l *unit, lost Side) {
	var lw bool
	switch {
	case lu.class == "VERSION" && lu.value != ru.value:
		lw = lu.value > ru.value
	case !m.lrev.Equal(m.rrev):
		lw = m.lrev.After(m.rrev)
	default:
		lw = !unitLess(lu, ru)
	}
	if lw {
		return lu, ru, RemoteSide
	}
	return ru, lu, LocalSide
}

// compareUnits orders units by content, then by bytes; it never depends
// on which side a unit came from.
func compareUnits(a, b *unit) int {
	if c := a.key.compare(b.key); c != 0 {
		return c
	}
	return compareBytes(a, b)
}

func unitLess(a, b *unit) bool { return compareUnits(a, b) < 0 }

// compareBytes orders units of equal content by the bytes they write,
// blank lines and comments before them included, so that two units compare
// equal only when either gives the same output.
func compareBytes(a, b *unit) int {
	if c := cmp.Compare(strings.ToLower(a.group), strings.ToLower(b.group)); c != 0 {
		return c
	}
	for i := range min(len(a.props), len(b.props)) {
		if c := bytes.Compare(written(a.props[i]), written(b.props[i])); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.props), len(b.props))
}

// written is what p adds to a card's bytes: the blank lines or comments
// kept before it, then its own bytes (encoded afresh when it has none).
func written(p *vcard.Property) []byte {
	c := vcard.Card{Props: []*vcard.Property{p}}
	return c.Bytes()
}

func lesser(a, b *unit) *unit {
	if unitLess(b, a) {
		return b
	}
	return a
}

func greater(a, b *unit) *unit {
	if unitLess(b, a) {
		return a
	}
	return b
}

// record keeps a decision: w is in the merged card, l (nil for a deletion)
// lost, and it came from side lost.
func (m *merger) record(kind Kind, w, l *unit, lost Side) {
	m.decisions = append(m.decisions, decision{kind, w, l, lost})
}

// conflicts writes the decisions out, with the winners as the card holds
// them, in the order of compareConflicts.
func (m *merger) conflicts(renamed map[*unit]*unit) []Decision {
	if len(m.decisions) == 0 {
		return nil
	}
	out := make([]Decision, len(m.decisions))
	for i, d := range m.decisions {
		w := d.w
		if r := renamed[w]; r != nil {
			w = r
		}
		at := m.rrev
		if d.lost == RemoteSide {
			at = m.lrev
		}
		out[i] = Decision{UID: m.uid, Property: w.class, Group: w.group, Kind: d.kind,
			Winner: lines(w), Loser: lines(d.l), Side: d.lost, At: at}
		out[i].ID = conflictID(&out[i])
	}
	slices.SortFunc(out, compareConflicts)
	return out
}

// mergeList merges a comma-separated list (CATEGORIES, NICKNAME) item by
// item: an item stays unless a side removed it, and every item a side
// added is in. Its parameters merge like a single value.
func (m *merger) mergeList(bu, lu, ru *unit) outcome {
	bi, li, ri := items(bu), items(lu), items(ru)
	var out []string
	for _, it := range bi {
		if slices.Contains(li, it) && slices.Contains(ri, it) {
			out = append(out, it)
		}
	}
	ladd := slices.DeleteFunc(slices.Clone(li), func(s string) bool { return slices.Contains(bi, s) })
	radd := slices.DeleteFunc(slices.Clone(ri), func(s string) bool { return slices.Contains(bi, s) })
	switch {
	case len(ladd) == 0:
		out = append(out, radd...)
	case len(radd) == 0:
		out = append(out, ladd...)
	default:
		// Both sides added: an order that does not depend on the sides.
		both := append(ladd, radd...)
		slices.Sort(both)
		out = append(out, slices.Compact(both)...)
	}
	if len(out) == 0 {
		return outcome{}
	}

	// Parameters and group members come from the side that changed them.
	src, clash := lu, false
	var l *unit
	var lost Side
	switch {
	case lu == nil:
		src = ru
	case ru == nil:
	default:
		var brest string
		if bu != nil {
			brest = bu.rest()
		}
		switch lr, rr := lu.rest(), ru.rest(); {
		case lr == rr:
			src = lesser(lu, ru)
		case lr == brest:
			src = ru
		case rr != brest:
			clash = true
			src, l, lost = m.winner(lu, ru)
		}
	}
	u := src
	if !slices.Equal(items(src), out) {
		main := vcard.NewProperty(src.main.Group, src.main.Name, joinList(out), src.main.Params...)
		props := slices.Clone(src.props)
		props[slices.Index(props, src.main)] = main
		u = newUnit(props)
	}
	if clash {
		m.record(KindEdit, u, l, lost)
	}
	return one(u)
}

// items are the non-empty entries of a list value, trimmed, each once.
func items(u *unit) []string {
	if u == nil {
		return nil
	}
	var out []string
	for _, it := range u.main.List() {
		if it = strings.TrimSpace(it); it != "" && !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out
}

// listEscaper escapes one list item for a vCard 3.0/4.0 value (RFC 6350
// §3.4): vcard.Property.SetText escapes a whole text, not list items.
var listEscaper = strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

func joinList(items []string) string {
	esc := make([]string, len(items))
	for i, it := range items {
		esc[i] = listEscaper.Replace(it)
	}
	return strings.Join(esc, ",")
}

// emit lays the merged card out: base order for what the base had (an
// edited instance takes its base's place), each addition after its anchor.
// It returns the units in order of first appearance and the properties.
func (m *merger) emit() ([]*unit, []*vcard.Property) {
	units := make([]*unit, 0, len(m.b.units)+4)
	props := make([]*vcard.Property, 0, len(m.b.props)+4)
	put := func(u *unit, ps ...*vcard.Property) {
		if !u.emitted {
			u.emitted = true
			units = append(units, u)
		}
		props = append(props, ps...)
	}
	putAdds := func(anchor int) {
		as := m.adds[anchor+1]
		if len(as) == 0 {
			return
		}
		if mixed(as) {
			slices.SortStableFunc(as, func(a, b addition) int { return compareUnits(a.units.u[0], b.units.u[0]) })
		} else {
			slices.SortStableFunc(as, func(a, b addition) int { return cmp.Compare(a.order, b.order) })
		}
		for _, a := range as {
			for _, u := range a.units.units() {
				put(u, u.props...)
			}
		}
	}
	putAdds(-1)
	for i, p := range m.b.props {
		bu := m.b.units[m.b.owner[i]]
		switch f := &m.fate[bu.idx]; {
		case f.n == 1 && f.u[0] == bu:
			put(bu, p) // kept: each member in its own place
		case i == bu.first:
			for _, u := range f.units() {
				put(u, u.props...)
			}
		}
		if i == bu.last {
			putAdds(bu.idx)
		}
	}
	return units, props
}

// mixed reports whether additions at one place come from both sides, and
// so need an order that does not depend on the sides.
func mixed(as []addition) bool {
	for _, a := range as {
		if a.from == "" || a.from != as[0].from {
			return true
		}
	}
	return false
}

// renameClashes gives a fresh group name to a unit whose group another
// unit already uses (two sides each added an item3): properties of one
// group would otherwise fuse. It updates units and props in place and
// returns the renamed units by their old selves.
func renameClashes(units []*unit, props []*vcard.Property) map[*unit]*unit {
	var used map[string]bool
	var owner map[string]*unit
	var renamed map[*vcard.Property]*vcard.Property
	var out map[*unit]*unit
	for i, u := range units {
		if u.group == "" {
			continue
		}
		if used == nil {
			used, owner = make(map[string]bool), make(map[string]*unit)
			for _, v := range units {
				used[v.lowerGroup()] = true
			}
		}
		g := u.lowerGroup()
		if owner[g] == nil {
			owner[g] = u
			continue
		}
		n := 1
		for used["item"+strconv.Itoa(n)] {
			n++
		}
		name := "item" + strconv.Itoa(n)
		used[name] = true
		if renamed == nil {
			renamed = make(map[*vcard.Property]*vcard.Property)
		}
		ps := make([]*vcard.Property, len(u.props))
		for j, p := range u.props {
			ps[j] = regroup(p, name)
			renamed[p] = ps[j]
		}
		if out == nil {
			out = make(map[*unit]*unit)
		}
		out[u] = newUnit(ps)
		units[i] = out[u]
		owner[name] = units[i]
	}
	for i, p := range props {
		if q, ok := renamed[p]; ok {
			props[i] = q
		}
	}
	return out
}

// sameUnits reports whether the merged units hold what a side holds.
func sameUnits(a, b []*unit) bool {
	return slices.EqualFunc(a, b, func(x, y *unit) bool {
		return x.key == y.key && strings.EqualFold(x.group, y.group)
	})
}

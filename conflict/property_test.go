package conflict_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/conflict"
)

// Small pools, so that two sides often type the same thing, touch the same
// property, or add the same value.
var (
	pFN     = []string{"Ann Lee", "Bob Stone", "Cleo Park", "Dan O'Neil"}
	pN      = []string{"Lee;Ann;;;", "Stone;Bob;J.;Dr.;", "Park;Cleo;;;"}
	pORG    = []string{"Acme", "Acme\\; Labs", "Initech"}
	pTITLE  = []string{"Engineer", "Manager"}
	pNOTE   = []string{"hi", "call back", "line one\\nline two", strings.Repeat("a long note that will be folded ", 3)}
	pBDAY   = []string{"19800102", "1990-03-04"}
	pX      = []string{"alpha", "beta"}
	pTEL    = []string{"+1 555 0100", "+1 555 0101", "+1 555 0102", "+1 555 0103", "+1 555 0104"}
	pEMAIL  = []string{"ann@example.org", "bob@example.org", "work@example.com"}
	pTYPE   = []string{"cell", "home", "work", "voice"}
	pLABEL  = []string{"Mobile", "Work", "_$!<Home>!$_", "Other"}
	pCAT    = []string{"friends", "work", "family", "gym"}
	pREV    = []string{"20240101T000000Z", "20240102T000000Z", "2024-01-03T00:00:00Z", "20240104T120000Z"}
	singles = map[string][]string{"FN": pFN, "N": pN, "ORG": pORG, "TITLE": pTITLE, "NOTE": pNOTE, "BDAY": pBDAY, "X-CUSTOM": pX}
)

const testUID = "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"

// genCard draws a contact written as a vCard 3.0 or 4.0 text with the
// shapes real clients write: types, Apple groups with labels, categories,
// folded lines, CRLF or LF, stray blank lines.
func genCard(t *rapid.T) *vcard.Card {
	version := rapid.SampledFrom([]string{"3.0", "4.0"}).Draw(t, "version")
	lines := []string{"BEGIN:VCARD", "VERSION:" + version, "UID:" + testUID}
	for _, name := range []string{"FN", "N", "ORG", "TITLE", "NOTE", "BDAY", "X-CUSTOM"} {
		if name == "FN" || rapid.Bool().Draw(t, "has "+name) {
			lines = append(lines, name+":"+rapid.SampledFrom(singles[name]).Draw(t, name))
		}
	}
	tels := rapid.Permutation(pTEL).Draw(t, "tels")[:rapid.IntRange(0, 3).Draw(t, "ntel")]
	for _, v := range tels {
		lines = append(lines, "TEL;TYPE="+rapid.SampledFrom(pTYPE).Draw(t, "type")+":"+v)
	}
	emails := rapid.Permutation(pEMAIL).Draw(t, "emails")[:rapid.IntRange(0, 2).Draw(t, "nemail")]
	for _, v := range emails {
		lines = append(lines, "EMAIL:"+v)
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "ngroup") {
		g := fmt.Sprintf("item%d", i+1)
		lines = append(lines, g+".TEL:"+rapid.SampledFrom(pTEL).Draw(t, "gtel"),
			g+".X-ABLabel:"+rapid.SampledFrom(pLABEL).Draw(t, "label"))
	}
	if rapid.Bool().Draw(t, "has CATEGORIES") {
		cats := rapid.Permutation(pCAT).Draw(t, "cats")[:rapid.IntRange(1, 3).Draw(t, "ncat")]
		lines = append(lines, "CATEGORIES:"+strings.Join(cats, ","))
	}
	if rapid.Bool().Draw(t, "has REV") {
		lines = append(lines, "REV:"+rapid.SampledFrom(pREV).Draw(t, "rev"))
	}
	lines = append(lines, "END:VCARD")
	eol := rapid.SampledFrom([]string{"\r\n", "\n"}).Draw(t, "eol")
	var sb strings.Builder
	for i, l := range lines {
		// Some exports leave blank lines or comments inside a card; the
		// reader keeps them with the property that follows.
		if i > 1 && i < len(lines)-1 {
			sb.WriteString(rapid.SampledFrom([]string{"", "", "", "", eol, "# comment" + eol}).Draw(t, "filler"))
		}
		sb.WriteString(foldLine(l, eol))
		sb.WriteString(eol)
	}
	c, err := parseOne([]byte(sb.String()))
	if err != nil {
		t.Fatalf("generated card does not parse: %v\n%s", err, sb.String())
	}
	return c
}

// foldLine folds at 75 octets like RFC 6350 §3.2 (the pools are ASCII).
func foldLine(l, eol string) string {
	var sb strings.Builder
	for len(l) > 75 {
		sb.WriteString(l[:75] + eol + " ")
		l = l[75:]
	}
	sb.WriteString(l)
	return sb.String()
}

// edit is one change a user or a client makes to a card in place.
type edit struct {
	name string
	do   func(t *rapid.T, c *vcard.Card)
}

var edits = []edit{
	{"set single", func(t *rapid.T, c *vcard.Card) {
		name := rapid.SampledFrom([]string{"FN", "N", "ORG", "TITLE", "NOTE", "BDAY", "X-CUSTOM"}).Draw(t, "single")
		v := rapid.SampledFrom(singles[name]).Draw(t, "value")
		if p := c.Get(name); p != nil {
			p.Value = v
		} else {
			c.Add(vcard.NewProperty("", name, v))
		}
	}},
	{"remove", func(t *rapid.T, c *vcard.Card) {
		var ps []*vcard.Property
		for _, p := range c.Props {
			if p.Name != "VERSION" && p.Name != "UID" {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			return
		}
		p := rapid.SampledFrom(ps).Draw(t, "victim")
		if p.Group != "" && rapid.Bool().Draw(t, "whole group") {
			for _, q := range slices.Clone(c.Props) {
				if strings.EqualFold(q.Group, p.Group) {
					c.Remove(q)
				}
			}
			return
		}
		c.Remove(p)
	}},
	{"add tel", func(t *rapid.T, c *vcard.Card) {
		c.Add(vcard.NewProperty("", "TEL", rapid.SampledFrom(pTEL).Draw(t, "tel"),
			vcard.Param{Name: "TYPE", Values: []string{rapid.SampledFrom(pTYPE).Draw(t, "type")}}))
	}},
	{"add email", func(t *rapid.T, c *vcard.Card) {
		c.Add(vcard.NewProperty("", "EMAIL", rapid.SampledFrom(pEMAIL).Draw(t, "email")))
	}},
	{"edit value", func(t *rapid.T, c *vcard.Card) {
		ps := append(c.All("TEL"), c.All("EMAIL")...)
		if len(ps) == 0 {
			return
		}
		p := rapid.SampledFrom(ps).Draw(t, "edited")
		pool := pTEL
		if p.Name == "EMAIL" {
			pool = pEMAIL
		}
		p.Value = rapid.SampledFrom(pool).Draw(t, "new value")
	}},
	{"edit type", func(t *rapid.T, c *vcard.Card) {
		ps := c.All("TEL")
		if len(ps) == 0 {
			return
		}
		p := rapid.SampledFrom(ps).Draw(t, "retyped")
		p.Params.Set("TYPE", rapid.SampledFrom(pTYPE).Draw(t, "new type"))
	}},
	{"add group", func(t *rapid.T, c *vcard.Card) {
		n := 1
		for slices.ContainsFunc(c.Props, func(p *vcard.Property) bool { return strings.EqualFold(p.Group, fmt.Sprintf("item%d", n)) }) {
			n++
		}
		g := fmt.Sprintf("item%d", n)
		c.Insert(len(c.Props), vcard.NewProperty(g, "TEL", rapid.SampledFrom(pTEL).Draw(t, "gtel")))
		c.Insert(len(c.Props), vcard.NewProperty(g, "X-ABLABEL", rapid.SampledFrom(pLABEL).Draw(t, "glabel")))
	}},
	{"edit label", func(t *rapid.T, c *vcard.Card) {
		ps := c.All("X-ABLABEL")
		if len(ps) == 0 {
			return
		}
		rapid.SampledFrom(ps).Draw(t, "relabeled").Value = rapid.SampledFrom(pLABEL).Draw(t, "new label")
	}},
	{"categories", func(t *rapid.T, c *vcard.Card) {
		item := rapid.SampledFrom(pCAT).Draw(t, "category")
		p := c.Get("CATEGORIES")
		if p == nil {
			c.Add(vcard.NewProperty("", "CATEGORIES", item))
			return
		}
		items := p.List()
		if i := slices.Index(items, item); i >= 0 {
			items = slices.Delete(items, i, i+1)
		} else {
			items = append(items, item)
		}
		if len(items) == 0 {
			c.Remove(p)
			return
		}
		p.Value = strings.Join(items, ",")
	}},
	{"rev", func(t *rapid.T, c *vcard.Card) {
		c.Set("REV", rapid.SampledFrom(pREV).Draw(t, "new rev"))
	}},
}

// genEdited applies a random edit script to a copy of c. The copy goes
// through bytes, as a card does between a device and a server.
func genEdited(t *rapid.T, c *vcard.Card, label string) *vcard.Card {
	d := c.Clone()
	for range rapid.IntRange(0, 4).Draw(t, label+" edits") {
		e := rapid.SampledFrom(edits).Draw(t, label+" edit")
		e.do(t, d)
	}
	out, err := parseOne(d.Bytes())
	if err != nil {
		t.Fatalf("edited card does not parse: %v\n%s", err, d.Bytes())
	}
	return out
}

func mustMerge(t *rapid.T, b, l, r *vcard.Card) conflict.Result {
	res, err := conflict.Merge(b, l, r)
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	return res
}

// TestMergeSymmetric: Merge(b, x, y) and Merge(b, y, x) give the same bytes
// and the same conflicts, with the sides exchanged; the same merge run again
// gives the same result; with or without a base, nothing typed is lost.
func TestMergeSymmetric(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genCard(t)
		x, y := genEdited(t, b, "x"), genEdited(t, b, "y")
		base := b
		if rapid.Bool().Draw(t, "no base") {
			base = nil
		}
		xy, yx := mustMerge(t, base, x, y), mustMerge(t, base, y, x)
		// Map iteration order changes from run to run: the same inputs must
		// still give the same result.
		for range 3 {
			again := mustMerge(t, base, x, y)
			if !sameBytes(again.Card, xy.Card) || !slices.Equal(again.Conflicts, xy.Conflicts) {
				t.Fatalf("the same merge gave two results:\n%s\n---\n%s", bytesOf(xy.Card), bytesOf(again.Card))
			}
		}
		checkNothingLost(t, base, x, y, xy)
		if !sameBytes(xy.Card, yx.Card) {
			t.Fatalf("Merge(b,x,y) != Merge(b,y,x)\nxy:\n%s\nyx:\n%s", bytesOf(xy.Card), bytesOf(yx.Card))
		}
		if !slices.Equal(xy.Conflicts, swapped(yx.Conflicts)) {
			t.Fatalf("conflicts differ\nxy: %+v\nyx: %+v", xy.Conflicts, yx.Conflicts)
		}
		if xy.WriteLocal != yx.WriteRemote || xy.WriteRemote != yx.WriteLocal {
			t.Fatalf("write flags not swapped: xy %v/%v, yx %v/%v", xy.WriteLocal, xy.WriteRemote, yx.WriteLocal, yx.WriteRemote)
		}
		// The output is a card that reads back to the same bytes.
		again, err := parseOne(xy.Card.Bytes())
		if err != nil {
			t.Fatalf("merged card does not parse: %v\n%s", err, xy.Card.Bytes())
		}
		if again.UID() != testUID || string(again.Bytes()) != string(xy.Card.Bytes()) {
			t.Fatalf("merged card does not read back: uid %q\n%s", again.UID(), xy.Card.Bytes())
		}
	})
}

// TestMergeIdempotent: merging a change with nothing, or with itself, gives
// that change. Compared by bytes: the side that changed comes back byte for
// byte. A copy that differs only in line endings and folding is the same
// contact: compared by content.
func TestMergeIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genCard(t)
		x := genEdited(t, b, "x")
		for name, got := range map[string]*vcard.Card{
			"Merge(b,x,x)": mustMerge(t, b, x, x).Card,
			"Merge(b,b,x)": mustMerge(t, b, b, x).Card,
			"Merge(b,x,b)": mustMerge(t, b, x, b).Card,
			"Merge(-,x,x)": mustMerge(t, nil, x, x).Card,
		} {
			if !sameBytes(got, x) {
				t.Fatalf("%s != x\nx:\n%s\ngot:\n%s", name, x.Bytes(), bytesOf(got))
			}
		}
		if res := mustMerge(t, b, x, x); len(res.Conflicts) > 0 || res.WriteLocal || res.WriteRemote {
			t.Fatalf("Merge(b,x,x) reports work: %+v", res)
		}
		// x written by another client: LF instead of CRLF or back, unfolded.
		other := strings.ReplaceAll(strings.ReplaceAll(string(x.Bytes()), "\r\n ", ""), "\n ", "")
		if strings.Contains(other, "\r\n") {
			other = strings.ReplaceAll(other, "\r\n", "\n")
		} else {
			other = strings.ReplaceAll(other, "\n", "\r\n")
		}
		x2, err := parseOne([]byte(other))
		if err != nil {
			t.Fatal(err)
		}
		res := mustMerge(t, b, x, x2)
		if !slices.Equal(canonical(res.Card), canonical(x)) || res.WriteLocal || res.WriteRemote || len(res.Conflicts) > 0 {
			t.Fatalf("Merge(b,x,x') is not x: %+v\n%s", res, bytesOf(res.Card))
		}
	})
}

// pair is a property as a user sees it: name and unescaped value.
type pair struct{ name, text string }

func pairs(props []*vcard.Property) map[pair]int {
	out := make(map[pair]int)
	for _, p := range props {
		switch p.Name {
		case "VERSION", "REV", "PRODID", "UID":
		case "CATEGORIES":
			for _, it := range p.List() {
				out[pair{"CATEGORIES item", strings.TrimSpace(it)}]++
			}
		default:
			out[pair{p.Name, p.Text()}]++
		}
	}
	return out
}

// TestMergeLosesNothing: every value, label and category a side typed is in
// the merged card or in a conflict's loser; every value one side removed
// while the other left it alone is gone.
func TestMergeLosesNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genCard(t)
		x, y := genEdited(t, b, "x"), genEdited(t, b, "y")
		checkNothingLost(t, b, x, y, mustMerge(t, b, x, y))
	})
}

// checkNothingLost checks one merge of two cards (neither deleted) against
// the rules on typed values, removals and recorded winners.
func checkNothingLost(t *rapid.T, b, x, y *vcard.Card, res conflict.Result) {
	if x == nil || y == nil || res.Card == nil {
		return // whole-card deletions: TestMergeDeletion's business
	}
	got := pairs(res.Card.Props)
	lost := pairs(loserProps(res.Conflicts))
	var bp map[pair]int
	if b != nil {
		bp = pairs(b.Props)
	}
	for _, side := range []*vcard.Card{x, y} {
		for p := range pairs(side.Props) {
			if bp[p] == 0 && got[p] == 0 && lost[p] == 0 {
				t.Fatalf("%s %q typed on one side is lost\nbase:\n%s\nx:\n%s\ny:\n%s\nmerged:\n%s\nconflicts: %+v",
					p.name, p.text, bytesOf(b), x.Bytes(), y.Bytes(), res.Card.Bytes(), res.Conflicts)
			}
		}
	}
	// Removals: an ungrouped property one side dropped entirely and the
	// other side kept as it was is gone from the result.
	for _, sides := range [][2]*vcard.Card{{x, y}, {y, x}} {
		s, o := sides[0], sides[1]
		if b == nil {
			break
		}
		sp := pairs(s.Props)
		for _, bprop := range b.Props {
			p := pair{bprop.Name, bprop.Text()}
			if bprop.Group != "" || bprop.Name == "CATEGORIES" || bp[p] == 0 || sp[p] > 0 {
				continue
			}
			if !unchangedIn(o, b, p) {
				continue
			}
			if got[p] > 0 {
				t.Fatalf("%s %q removed on one side and untouched on the other is still there\nbase:\n%s\nremoved in:\n%s\nother:\n%s\nmerged:\n%s",
					p.name, p.text, b.Bytes(), s.Bytes(), o.Bytes(), res.Card.Bytes())
			}
		}
	}
	// Every conflict's winner is in the card.
	for _, c := range res.Conflicts {
		for _, line := range strings.Split(c.Winner, "\n") {
			if c.Property != "" && !slices.ContainsFunc(res.Card.Props, func(p *vcard.Property) bool { return sameLine(p, line) }) {
				t.Fatalf("conflict winner %q not in the merged card\n%s", line, res.Card.Bytes())
			}
		}
	}
}

// unchangedIn reports whether every property of card o carrying p is an
// ungrouped property written exactly as in base, as many times.
func unchangedIn(o, base *vcard.Card, p pair) bool {
	var oc, bc []string
	for _, q := range o.Props {
		if q.Name == p.name && q.Text() == p.text {
			if q.Group != "" {
				return false
			}
			oc = append(oc, q.Canonical())
		}
	}
	for _, q := range base.Props {
		if q.Name == p.name && q.Text() == p.text {
			bc = append(bc, q.Canonical())
		}
	}
	slices.Sort(oc)
	slices.Sort(bc)
	return slices.Equal(oc, bc)
}

// sameLine reports whether p reads as the content line s.
func sameLine(p *vcard.Property, s string) bool {
	c, err := parseOne([]byte("BEGIN:VCARD\r\n" + s + "\r\nEND:VCARD\r\n"))
	return err == nil && len(c.Props) == 1 && c.Props[0].Canonical() == p.Canonical()
}

// device is a replica of one contact that syncs with a server: base is the
// server version it last agreed with (nil once both agree it is deleted).
type device struct{ base, local *vcard.Card }

// syncWith merges the device's version with the server's, as the engine's
// worker does, checking the merge loses nothing. Like the worker, it writes
// the result only where WriteLocal or WriteRemote say the content changed:
// rewriting a card whose bytes alone differ could loop forever against a
// server that reformats what it stores.
func (d *device) syncWith(t *rapid.T, server **vcard.Card) {
	res := mustMerge(t, d.base, d.local, *server)
	checkNothingLost(t, d.base, d.local, *server, res)
	clone := func(c *vcard.Card) *vcard.Card {
		if c == nil {
			return nil
		}
		return c.Clone()
	}
	if res.WriteRemote {
		*server = clone(res.Card)
	}
	if res.WriteLocal {
		d.local = clone(res.Card)
	}
	d.base = clone(res.Card)
	if !slices.Equal(units(d.local), units(*server)) {
		t.Fatalf("after a sync, device and server differ\ndevice:\n%s\nserver:\n%s\nresult: %+v", bytesOf(d.local), bytesOf(*server), res)
	}
}

// TestMergeConverges: the engine's topology. Three devices each keep the
// server version they last synced as their base; they edit, delete and sync
// in a random order, each merge checked as in TestMergeLosesNothing. After
// every device has synced twice more, all devices and the server hold the
// same contact (same properties, groups counted where they start; the
// bytes of two equal contacts may differ and need no rewrite).
func TestMergeConverges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		server := genCard(t)
		devs := []*device{{server, server.Clone()}, {server, server.Clone()}, {server, server.Clone()}}
		for range rapid.IntRange(1, 15).Draw(t, "steps") {
			d := devs[rapid.IntRange(0, 2).Draw(t, "device")]
			switch action := rapid.IntRange(0, 9).Draw(t, "action"); {
			case action == 0 && d.local != nil:
				d.local = nil
			case action < 6 && d.local != nil:
				d.local = genEdited(t, d.local, "device")
			default:
				d.syncWith(t, &server)
			}
		}
		settle(t, devs, &server)
	})
}

func settle(t *rapid.T, devs []*device, server **vcard.Card) {
	for range 2 {
		for _, d := range devs {
			d.syncWith(t, server)
		}
	}
	for i, d := range devs {
		if !slices.Equal(units(d.local), units(*server)) {
			t.Fatalf("device %d differs from the server:\n%s\nserver:\n%s", i, bytesOf(d.local), bytesOf(*server))
		}
	}
}

// TestMergeArrivalOrder: three devices edit the same contact concurrently
// and reach the server in each of the six possible orders; in every order
// all of them end with the server's contact.
func TestMergeArrivalOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genCard(t)
		edited := []*vcard.Card{genEdited(t, b, "first"), genEdited(t, b, "second"), genEdited(t, b, "third")}
		for _, order := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
			server := b
			devs := make([]*device, 3)
			for i := range devs {
				devs[i] = &device{b, edited[i]}
			}
			for _, i := range order {
				devs[i].syncWith(t, &server)
			}
			settle(t, devs, &server)
		}
	})
}

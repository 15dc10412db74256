package vcard

import (
	"slices"
	"strings"

	"github.com/contactsync/contactsync/changelog/contact"
)

// mapper maps one mozContact field to the properties it is a view of.
// read and apply use the same view function, so a contact read from a
// card and applied back unchanged touches nothing.
type mapper interface {
	read(c *Card, ct *contact.MozContact)
	apply(c *Card, ct *contact.MozContact)
}

// listField maps a list field (tel, email, note …) to properties, one item
// per property.
type listField[T any] struct {
	names []string                       // properties read, in card order
	write func(ver string) string        // name of a property written anew
	field func(*contact.MozContact) *[]T // the contact's list
	view  func(p *Property) T            // what a property says
	patch func(p *Property, old, v T)    // make p say v, touching only what differs from old
	eq    func(a, b T) bool              // same item as far as the contact can tell
}

func (l listField[T]) props(c *Card) []*Property {
	var out []*Property
	for _, p := range c.Props {
		if slices.ContainsFunc(l.names, func(n string) bool { return strings.EqualFold(n, p.Name) }) {
			out = append(out, p)
		}
	}
	return out
}

func (l listField[T]) read(c *Card, ct *contact.MozContact) {
	dst := l.field(ct)
	for _, p := range l.props(c) {
		*dst = append(*dst, l.view(p))
	}
}

// apply makes the card's properties say what the contact's list says.
// Items the card already has keep their property untouched; a changed item
// patches a property that lost its item; the rest are added after their
// neighbour in the list or removed. If the contact reorders items, the
// properties swap places among the slots they held.
func (l listField[T]) apply(c *Card, ct *contact.MozContact) {
	props := l.props(c)
	want := *l.field(ct)
	have := make([]T, len(props))
	for i, p := range props {
		have[i] = l.view(p)
	}
	if slices.EqualFunc(have, want, l.eq) {
		return
	}
	match := make([]int, len(want))
	used := make([]bool, len(props))
	for i, w := range want {
		match[i] = -1
		for j := range have {
			if !used[j] && l.eq(have[j], w) {
				match[i], used[j] = j, true
				break
			}
		}
	}
	j := 0
	for i, w := range want {
		if match[i] >= 0 {
			continue
		}
		for j < len(props) && used[j] {
			j++
		}
		if j == len(props) {
			break
		}
		l.patch(props[j], have[j], w)
		match[i], used[j] = j, true
	}
	for j, p := range props {
		if !used[j] {
			c.removeWithLabels(p)
		}
	}

	var kept, order []*Property
	for j, p := range props {
		if used[j] {
			kept = append(kept, p)
		}
	}
	for _, m := range match {
		if m >= 0 {
			order = append(order, props[m])
		}
	}
	if !slices.Equal(kept, order) {
		var slots []int
		for i, p := range c.Props {
			if slices.Contains(kept, p) {
				slots = append(slots, i)
			}
		}
		for k, i := range slots {
			c.Props[i] = order[k]
		}
	}

	var prev *Property
	for i, w := range want {
		if match[i] >= 0 {
			prev = props[match[i]]
			continue
		}
		p := &Property{Name: l.write(c.version()), ver: c.version()}
		l.patch(p, l.view(p), w)
		switch {
		case prev != nil:
			c.Insert(slices.Index(c.Props, prev)+1, p)
		case len(order) > 0:
			c.Insert(slices.Index(c.Props, order[0]), p)
		default:
			c.Add(p)
		}
		prev = p
	}
}

// removeWithLabels removes p and, when p was grouped, the Apple label
// properties (item1.X-ABLabel …) that described it alone.
func (c *Card) removeWithLabels(p *Property) {
	c.Remove(p)
	if p.Group == "" {
		return
	}
	var rest []*Property
	for _, q := range c.Props {
		if strings.EqualFold(q.Group, p.Group) {
			rest = append(rest, q)
		}
	}
	for _, q := range rest {
		if q.Name != "X-ABLABEL" && q.Name != "X-ABADR" {
			return
		}
	}
	for _, q := range rest {
		c.Remove(q)
	}
}

// fixed returns a write function that always gives name.
func fixed(name string) func(string) string { return func(string) string { return name } }

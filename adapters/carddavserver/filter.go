package carddavserver

import (
	"net/http"
	"strings"

	"github.com/contactsync/contactsync/adapters/vcard"
	"golang.org/x/text/cases"
)

// filter is the CARDDAV:filter of an addressbook-query (RFC 6352 section 10.5): prop-filters combined with
// anyof (the default) or allof. No prop-filter matches every card.
type filter struct {
	allof bool
	props []propFilter
}

type propFilter struct {
	name         string // upper-cased property name
	allof        bool
	isNotDefined bool
	texts        []textMatch
	params       []paramFilter
}

type paramFilter struct {
	name         string
	isNotDefined bool
	text         *textMatch
}

type textMatch struct {
	value     string // folded for the collation
	collation string
	matchType string
	negate    bool
}

func unsupportedFilter(format string, args ...any) *statusError {
	return precondition(http.StatusForbidden, nsCardDAV, "supported-filter", format, args...)
}

func parseQuery(root *node, lim requestLimits) (*queryRequest, error) {
	props, err := parseProps(root, lim)
	if err != nil {
		return nil, err
	}
	req := &queryRequest{props: props}
	f := root.child(nsCardDAV, "filter")
	if f == nil {
		return nil, badXML("addressbook-query without CARDDAV:filter")
	}
	if req.filter.allof, err = testAttr(f); err != nil {
		return nil, err
	}
	// Every element of the filter is a test of every vCard of the address book, so their number is bounded
	// before any is parsed.
	if n := countFilters(f); n > lim.queryFilters {
		return nil, tooMuch("too-many-filters", "%d prop-filter, param-filter and text-match elements; at most %d", n, lim.queryFilters)
	}
	for _, c := range f.children {
		if !c.is(nsCardDAV, "prop-filter") {
			return nil, unsupportedFilter("filter element %s", describe(c.name))
		}
		pf, err := parsePropFilter(c)
		if err != nil {
			return nil, err
		}
		req.filter.props = append(req.filter.props, pf)
	}
	if req.limit, err = parseLimit(root.child(nsCardDAV, "limit"), nsCardDAV); err != nil {
		return nil, err
	}
	return req, nil
}

// countFilters counts the prop-filter, param-filter and text-match elements below n.
func countFilters(n *node) int {
	count := 0
	for _, c := range n.children {
		if c.name.Space == nsCardDAV && (c.name.Local == "prop-filter" || c.name.Local == "param-filter" || c.name.Local == "text-match") {
			count++
		}
		count += countFilters(c)
	}
	return count
}

func testAttr(n *node) (allof bool, err error) {
	switch v, _ := n.attr("test"); v {
	case "", "anyof":
		return false, nil
	case "allof":
		return true, nil
	}
	return false, badXML("test must be anyof or allof")
}

func parsePropFilter(n *node) (propFilter, error) {
	name, ok := n.attr("name")
	if !ok || name == "" {
		return propFilter{}, badXML("prop-filter without a name")
	}
	pf := propFilter{name: strings.ToUpper(name)}
	var err error
	if pf.allof, err = testAttr(n); err != nil {
		return pf, err
	}
	for _, c := range n.children {
		switch {
		case c.is(nsCardDAV, "is-not-defined"):
			pf.isNotDefined = true
		case c.is(nsCardDAV, "text-match"):
			tm, err := parseTextMatch(c)
			if err != nil {
				return pf, err
			}
			pf.texts = append(pf.texts, tm)
		case c.is(nsCardDAV, "param-filter"):
			pn, ok := c.attr("name")
			if !ok || pn == "" {
				return pf, badXML("param-filter without a name")
			}
			prm := paramFilter{name: strings.ToUpper(pn)}
			prm.isNotDefined = c.child(nsCardDAV, "is-not-defined") != nil
			if t := c.child(nsCardDAV, "text-match"); t != nil {
				tm, err := parseTextMatch(t)
				if err != nil {
					return pf, err
				}
				prm.text = &tm
			}
			pf.params = append(pf.params, prm)
		default:
			return pf, unsupportedFilter("prop-filter element %s", describe(c.name))
		}
	}
	return pf, nil
}

var caseFold = cases.Fold()

func parseTextMatch(n *node) (textMatch, error) {
	tm := textMatch{collation: "i;unicode-casemap", matchType: "contains"}
	if v, ok := n.attr("collation"); ok {
		tm.collation = v
	}
	if v, ok := n.attr("match-type"); ok {
		tm.matchType = v
	}
	switch v, _ := n.attr("negate-condition"); v {
	case "", "no":
	case "yes":
		tm.negate = true
	default:
		return tm, badXML("negate-condition must be yes or no")
	}
	switch tm.matchType {
	case "equals", "contains", "starts-with", "ends-with":
	default:
		return tm, badXML("unknown match-type %q", clip(tm.matchType))
	}
	switch tm.collation {
	case "i;octet", "i;ascii-casemap", "i;unicode-casemap":
	default:
		return tm, precondition(http.StatusForbidden, nsCardDAV, "supported-collation", "collation %q", clip(tm.collation))
	}
	tm.value = tm.fold(string(n.text))
	return tm, nil
}

func (tm textMatch) fold(s string) string {
	switch tm.collation {
	case "i;ascii-casemap":
		return asciiLower(s)
	case "i;unicode-casemap":
		return caseFold.String(s)
	}
	return s
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func (tm textMatch) matches(s string) bool {
	s = tm.fold(s)
	var ok bool
	switch tm.matchType {
	case "equals":
		ok = s == tm.value
	case "starts-with":
		ok = strings.HasPrefix(s, tm.value)
	case "ends-with":
		ok = strings.HasSuffix(s, tm.value)
	default:
		ok = strings.Contains(s, tm.value)
	}
	return ok != tm.negate
}

// uidLookup returns the UID to look up in the index when the filter is exactly "UID equals this, byte for
// byte": the one query that needs no scan.
func (f filter) uidLookup() (string, bool) {
	if len(f.props) != 1 {
		return "", false
	}
	pf := f.props[0]
	if pf.name != "UID" || pf.isNotDefined || len(pf.params) != 0 || len(pf.texts) != 1 {
		return "", false
	}
	tm := pf.texts[0]
	if tm.matchType != "equals" || tm.negate || tm.collation != "i;octet" {
		return "", false
	}
	return tm.value, true
}

// uidOnly reports whether the filter looks at nothing but UIDs, which the members table holds, so no vCard
// needs to be read to apply it.
func (f filter) uidOnly() bool {
	for _, pf := range f.props {
		if pf.name != "UID" || len(pf.params) != 0 {
			return false
		}
	}
	return true
}

// matchUID applies a uidOnly filter to a member's UID.
func (f filter) matchUID(uid string) bool {
	return f.combine(func(pf propFilter) bool {
		return pf.matchValues([]string{uid}, nil)
	})
}

// matchCard applies the filter to a parsed vCard.
func (f filter) matchCard(card *vcard.Card) bool {
	return f.combine(func(pf propFilter) bool {
		props := card.All(pf.name)
		values := make([]string, len(props))
		for i, p := range props {
			values[i] = p.Text()
		}
		return pf.matchValues(values, props)
	})
}

func (f filter) combine(test func(propFilter) bool) bool {
	if len(f.props) == 0 {
		return true
	}
	for _, pf := range f.props {
		if test(pf) != f.allof {
			return !f.allof
		}
	}
	return f.allof
}

// matchValues applies one prop-filter to the values of the properties it names (props, when given, are the
// properties themselves, for the param-filters).
func (pf propFilter) matchValues(values []string, props []*vcard.Property) bool {
	if pf.isNotDefined {
		return len(values) == 0
	}
	if len(values) == 0 {
		return false
	}
	if len(pf.texts) == 0 && len(pf.params) == 0 {
		return true
	}
	tests := make([]func() bool, 0, len(pf.texts)+len(pf.params))
	for _, tm := range pf.texts {
		tests = append(tests, func() bool {
			for _, v := range values {
				if tm.matches(v) {
					return true
				}
			}
			return false
		})
	}
	for _, prm := range pf.params {
		tests = append(tests, func() bool { return prm.matchAny(props) })
	}
	for _, t := range tests {
		if t() != pf.allof {
			return !pf.allof
		}
	}
	return pf.allof
}

func (prm paramFilter) matchAny(props []*vcard.Property) bool {
	for _, p := range props {
		vals := p.Params.Get(prm.name)
		switch {
		case prm.isNotDefined:
			if len(vals) == 0 {
				return true
			}
		case len(vals) == 0:
		case prm.text == nil:
			return true
		default:
			for _, v := range vals {
				if prm.text.matches(v) {
					return true
				}
			}
		}
	}
	return false
}

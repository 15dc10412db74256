package vcard

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// physLine is one physical line: content data[start:end], line ending
// data[end:next].
type physLine struct{ start, end, next int }

// splitLines cuts data into physical lines. CRLF, LF, CR alone and the
// CR CR LF that some iOS exports write each end one line.
func splitLines(data []byte) []physLine {
	lines := make([]physLine, 0, bytes.Count(data, []byte("\n"))+1)
	start := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			lines = append(lines, physLine{start, i, i + 1})
			start = i + 1
		case '\r':
			next := i + 1
			if next < len(data) && data[next] == '\n' {
				next++
			} else if next+1 < len(data) && data[next] == '\r' && data[next+1] == '\n' {
				next += 2
			}
			lines = append(lines, physLine{start, i, next})
			start = next
			i = next - 1
		}
	}
	if start < len(data) {
		lines = append(lines, physLine{start, len(data), len(data)})
	}
	return lines
}

var bom = []byte("\xef\xbb\xbf")

// eolString is a line ending as a string, without allocating for the usual ones.
func eolString(b []byte) string {
	switch string(b) {
	case "\r\n":
		return "\r\n"
	case "\n":
		return "\n"
	case "":
		return ""
	}
	return string(b)
}

// segKind says how a physical line joins the logical line before it.
type segKind uint8

const (
	segFirst  segKind = iota
	segFold           // starts with space or tab (RFC 6350 §3.2)
	segQP             // follows a quoted-printable soft line break ("=" at end)
	segBase64         // vCard 2.1 base64 data written without indentation
	segStray          // a line that is no property: a value broken by a raw newline
)

type segment struct {
	line int
	kind segKind
}

// parser reads a whole input; it keeps going after an unreadable card so
// that one bad card costs only itself.
type parser struct {
	data   []byte
	lines  []physLine
	i      int // next line to read
	cardNo int
	open   int // cards begun and not yet ended, for recovery
	errs   []error
	// spans and props are reused from card to card (a nested card, read while its outer card holds them,
	// takes fresh ones); slab hands out Property structs a block at a time.
	spans []propSpan
	props []*Property
	slab  []Property
}

// newProperty returns a zeroed Property from the current block. A block is shared by the cards parsed
// from it and stays alive while any of its properties does.
func (p *parser) newProperty() *Property {
	if len(p.slab) == cap(p.slab) {
		// No more properties can follow than lines do: a one-card parse takes a small block.
		p.slab = make([]Property, 0, max(1, min(256, len(p.lines)-p.i)))
	}
	p.slab = p.slab[:len(p.slab)+1]
	return &p.slab[len(p.slab)-1]
}

// Parse reads every vCard in data.
//
// It returns the cards it could read, in order, even when err is not nil;
// err then joins one *ParseError per card or stretch of input that could
// not be read, naming the card and the line. Bytes between cards (blank
// lines, a byte order mark, comments) belong to no card.
func Parse(data []byte) ([]*Card, error) {
	p := &parser{data: data, lines: splitLines(data)}
	var cards []*Card
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		content := p.content(l)
		switch {
		case isFiller(content):
			p.i++
		case isBegin(content):
			p.cardNo++
			from := p.i
			c, err := p.card(p.cardNo)
			if err != nil {
				p.errs = append(p.errs, err)
				p.recover(from, err)
				continue
			}
			cards = append(cards, c)
		case isEnd(content):
			p.fail(0, p.i, ErrStrayEnd, "%s", quote(content))
			p.i++
		default:
			p.fail(0, p.i, ErrOutsideCard, "%s", quote(content))
			for p.i++; p.i < len(p.lines); p.i++ {
				if c := p.content(p.lines[p.i]); isBegin(c) || isFiller(c) {
					break
				}
			}
		}
	}
	return cards, errors.Join(p.errs...)
}

// recover moves past a card that failed. A card without END may have
// swallowed the cards after it as "nested" ones: read those again as
// top-level cards. Any other failure skips to the END that closes the
// top-level card, counting the nested cards still open.
func (p *parser) recover(from int, err error) {
	open := p.open
	p.open = 0
	if errors.Is(err, ErrNoEnd) {
		for j := from + 1; j < len(p.lines); j++ {
			if isBegin(p.content(p.lines[j])) {
				p.i = j
				return
			}
		}
		p.i = len(p.lines)
		return
	}
	for ; open > 0 && p.i < len(p.lines); p.i++ {
		switch c := p.content(p.lines[p.i]); {
		case isBegin(c):
			open++
		case isEnd(c):
			open--
		}
	}
}

func (p *parser) fail(card, line int, sentinel error, format string, args ...any) *ParseError {
	e := &ParseError{Card: card, Line: line + 1, Msg: fmt.Sprintf(format, args...), Err: sentinel}
	if card == 0 {
		p.errs = append(p.errs, e)
	}
	return e
}

// content is a line's text, without a leading byte order mark.
func (p *parser) content(l physLine) []byte {
	return bytes.TrimPrefix(p.data[l.start:l.end], bom)
}

// propSpan is where a property lies in the input while its card is read.
type propSpan struct {
	start, end int // raw bytes data[start:end]
	segs       []segment
	mayBreak   int8 // 0 unknown, 1 yes, -1 no: whether stray lines may continue it
	// hdr is the header read from exactly segs (as gather left them), when hdrOK.
	hdr   header
	hdrOK bool
}

// header returns the header of the property's unescaped text, reading it once.
func (p *parser) header(s *propSpan) header {
	if !s.hdrOK {
		s.hdr, s.hdrOK = parseHeader(p.join(s.segs, "", false)), true
	}
	return s.hdr
}

// card reads one card starting at the BEGIN:VCARD line p.i.
func (p *parser) card(cardNo int) (*Card, error) {
	bl := p.lines[p.i]
	start := bl.start
	if bytes.HasPrefix(p.data[bl.start:bl.end], bom) {
		start += len(bom)
	}
	c := &Card{Line: p.i + 1, begin: p.data[start:bl.next], eol: eolString(p.data[bl.end:bl.next])}
	spans, props := p.spans[:0], p.props[:0]
	p.spans, p.props = nil, nil // a nested card takes its own
	defer func() { p.spans, p.props = spans[:0], props[:0] }()
	fill := bl.next // start of the filler before the next property
	p.i++
	p.open++
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		content := p.data[l.start:l.end]
		switch {
		case isEnd(content):
			c.tail = p.data[fill:l.start]
			c.end = p.data[l.start:l.next]
			c.src = p.data[start:l.next:l.next]
			p.i++
			p.open--
			c.Props = append(make([]*Property, 0, len(props)), props...)
			if err := p.decode(c, spans, cardNo); err != nil {
				return nil, err
			}
			return c, nil
		case isBegin(content):
			nested, err := p.card(cardNo)
			if err != nil {
				return nil, err
			}
			c.Nested = append(c.Nested, nested)
		case isFiller(content):
			p.i++
		case p.startsProperty(content):
			line := p.i
			segs, h, hOK := p.gather()
			end := p.lines[segs[len(segs)-1].line].next
			prop := p.newProperty()
			prop.lead, prop.line = p.data[fill:l.start], line+1
			props = append(props, prop)
			spans = append(spans, propSpan{start: l.start, end: end, segs: segs, hdr: h, hdrOK: hOK})
			fill = end
		case len(spans) > 0 && spans[len(spans)-1].end == l.start && p.mayBreak(&spans[len(spans)-1]):
			// A text value broken by a raw newline (Android's ADR with "\\"
			// continuations, LABELs with literal line breaks): the line
			// belongs to the property right above it.
			s := &spans[len(spans)-1]
			s.segs = append(s.segs, segment{p.i, segStray})
			s.hdrOK = false // read again from the lines it now has
			s.end = l.next
			fill = l.next
			p.i++
		default:
			return nil, &ParseError{Card: cardNo, Line: p.i + 1, Msg: quote(content), Err: ErrSyntax}
		}
	}
	return nil, &ParseError{Card: cardNo, Line: c.Line, Msg: "input truncated?", Err: ErrNoEnd}
}

// startsProperty tells a property line from a line that continues a broken
// value: the name must be a valid name, followed by a colon somewhere, or
// be a name vCard knows (Evolution writes a bare "FN"), or be folded.
func (p *parser) startsProperty(content []byte) bool {
	i := bytes.IndexAny(content, ";:")
	if i < 0 {
		i = len(content)
	}
	name := content[:i]
	if !validName(name) {
		return false
	}
	if bytes.IndexByte(content[i:], ':') >= 0 || knownName(name) {
		return true
	}
	if p.i+1 < len(p.lines) {
		next := p.lines[p.i+1]
		return next.end > next.start && (p.data[next.start] == ' ' || p.data[next.start] == '\t')
	}
	return false
}

// mayContinue lists the properties whose values writers are known to break with raw newlines (Android's ADR
// with "\\" continuations, LABELs and NOTEs with literal line breaks), so a stray line after one of them is more
// of its value. After any other property a stray line is an error naming it: gluing it onto FN or TEL would
// quietly change what the card says.
var mayContinue = map[string]bool{"ADR": true, "LABEL": true, "NOTE": true}

// mayBreak reports whether a stray line may continue the property in s.
func (p *parser) mayBreak(s *propSpan) bool {
	if s.mayBreak == 0 {
		s.mayBreak = -1
		if h := p.header(s); h.colon >= 0 && !h.base64 && (mayContinue[h.name] || strings.HasPrefix(h.name, "X-")) {
			s.mayBreak = 1
		}
	}
	return s.mayBreak > 0
}

// gather reads the property starting at line p.i with its continuation
// lines and leaves p.i after them.
func (p *parser) gather() (segs []segment, h header, hOK bool) {
	segs = []segment{{p.i, segFirst}}
	hAt := 0 // len(segs) when h was read, 0 before
	for p.i++; p.i < len(p.lines); p.i++ {
		l := p.lines[p.i]
		content := p.data[l.start:l.end]
		if len(content) > 0 && (content[0] == ' ' || content[0] == '\t') {
			segs = append(segs, segment{p.i, segFold})
			continue
		}
		if isEnd(content) || isBegin(content) {
			break
		}
		if hAt == 0 {
			h, hAt = parseHeader(p.join(segs, "", false)), len(segs)
		}
		prev := p.lines[segs[len(segs)-1].line]
		if h.qp && h.colon >= 0 && bytes.HasSuffix(p.data[prev.start:prev.end], []byte("=")) {
			segs = append(segs, segment{p.i, segQP})
			continue
		}
		if h.base64 && isBase64Line(content) {
			segs = append(segs, segment{p.i, segBase64})
			continue
		}
		break
	}
	return segs, h, hAt == len(segs)
}

// join builds the logical line from its segments. With qp set, the soft
// line break "=" before a continuation in the value is dropped.
func (p *parser) join(segs []segment, ver string, qp bool) []byte {
	if len(segs) == 1 && segs[0].kind == segFirst {
		// One line, as most are: its bytes as they are (callers only read them).
		l := p.lines[segs[0].line]
		return p.data[l.start:l.end:l.end]
	}
	var out []byte
	var breaks []int // where each continuation joins: len(out) before it
	for _, s := range segs {
		l := p.lines[s.line]
		content := p.data[l.start:l.end]
		if s.kind == segQP || s.kind == segFold {
			breaks = append(breaks, len(out))
		}
		switch s.kind {
		case segFold:
			content = content[1:]
		case segStray:
			// A trailing backslash was the writer's continuation mark.
			out = bytes.TrimSuffix(out, []byte(`\`))
			if ver == "2.1" {
				out = append(out, '\r', '\n') // 2.1 has no \n escape
			} else {
				out = append(out, '\\', 'n')
			}
		}
		out = append(out, content...)
	}
	if !qp || len(breaks) == 0 {
		return out
	}
	colon := parseHeader(out).colon
	if colon < 0 {
		return out
	}
	drop := map[int]bool{}
	for _, b := range breaks {
		if b-1 > colon && out[b-1] == '=' {
			drop[b-1] = true
		}
	}
	if len(drop) == 0 {
		return out
	}
	kept := make([]byte, 0, len(out))
	for i, c := range out {
		if !drop[i] {
			kept = append(kept, c)
		}
	}
	return kept
}

// decode fills in the properties of a card once all its lines are known:
// the version (which may come last) decides how values are unescaped.
func (p *parser) decode(c *Card, spans []propSpan, cardNo int) error {
	ver := ""
	for i := range spans {
		if h := p.header(&spans[i]); ver == "" && h.name == "VERSION" && h.colon >= 0 {
			ver = string(bytes.TrimSpace(p.join(spans[i].segs, "", false)[h.colon+1:]))
		}
	}
	c.ver = effectiveVersion(ver, spans)
	for i := range spans {
		s := &spans[i]
		h := s.hdr
		prop := c.Props[i]
		text := p.join(s.segs, c.ver, h.qp)
		if h.qp {
			h = parseHeader(text)
		}
		prop.Group, prop.Name, prop.rawName, prop.Params = h.group, h.name, h.rawName, h.params
		prop.raw = p.data[s.start:s.end]
		last := p.lines[s.segs[len(s.segs)-1].line]
		prop.eol = eolString(p.data[last.end:last.next])
		prop.dangling = s.hdr.qp && bytes.HasSuffix(p.data[last.start:last.end], []byte("="))
		prop.ver = c.ver
		if h.colon < 0 {
			prop.noColon = true
		} else {
			v, err := decodeValue(text[h.colon+1:], &h)
			if err != nil {
				return &ParseError{Card: cardNo, Line: prop.line, Msg: fmt.Sprintf("%s: %v", h.name, err), Err: ErrCharset}
			}
			prop.Value = v
		}
		prop.snapshot()
	}
	c.parsed = append(make([]*Property, 0, len(c.Props)), c.Props...)
	return nil
}

// effectiveVersion is the version whose escaping rules apply: the declared
// one, or for a card without VERSION, 2.1 when it uses 2.1-only syntax.
func effectiveVersion(declared string, spans []propSpan) string {
	switch declared {
	case "2.1", "3.0", "4.0":
		return declared
	}
	for i := range spans {
		h := &spans[i].hdr
		if h.qp {
			return "2.1"
		}
		for _, prm := range h.params {
			if prm.raw != "" && !strings.Contains(prm.raw, "=") {
				return "2.1"
			}
		}
	}
	return "3.0"
}

func quote(b []byte) string {
	const max = 60
	if len(b) > max {
		return fmt.Sprintf("%q…", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

func isFiller(content []byte) bool {
	t := bytes.TrimSpace(bytes.TrimPrefix(content, bom))
	return len(t) == 0 || t[0] == '#'
}

func isBegin(content []byte) bool { return isMarker(content, "BEGIN") }
func isEnd(content []byte) bool   { return isMarker(content, "END") }

// isMarker matches BEGIN:VCARD / END:VCARD in any case, with stray spaces.
func isMarker(content []byte, marker string) bool {
	name, value, ok := bytes.Cut(bytes.TrimPrefix(content, bom), []byte(":"))
	return ok && bytes.EqualFold(bytes.TrimSpace(name), []byte(marker)) &&
		bytes.EqualFold(bytes.TrimSpace(value), []byte("VCARD"))
}

func isBase64Line(content []byte) bool {
	if len(content) == 0 {
		return false
	}
	for _, c := range content {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

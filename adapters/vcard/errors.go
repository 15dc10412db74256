package vcard

import (
	"errors"
	"fmt"
)

// Sentinel errors. A *ParseError wraps one of them, so callers can sort
// rejected input with errors.Is without matching message text.
var (
	// ErrOutsideCard: a content line that is not inside BEGIN:VCARD/END:VCARD.
	ErrOutsideCard = errors.New("content outside BEGIN:VCARD ... END:VCARD")
	// ErrNoEnd: a card whose END:VCARD never comes (truncated input).
	ErrNoEnd = errors.New("no END:VCARD")
	// ErrStrayEnd: END:VCARD without a BEGIN:VCARD before it.
	ErrStrayEnd = errors.New("END:VCARD without BEGIN:VCARD")
	// ErrSyntax: a line inside a card that is neither a property, a
	// continuation of one, a blank line nor a comment.
	ErrSyntax = errors.New("not a vCard content line")
	// ErrCharset: a CHARSET the reader does not know, on bytes that are not
	// UTF-8 either, so the text cannot be decoded without guessing.
	ErrCharset = errors.New("unknown charset")
	// ErrNotOneCard: FromContact was given a vcard text that is not exactly
	// one card.
	ErrNotOneCard = errors.New("not exactly one vCard")
	// errNil: a nil card or contact passed to a conversion, a programming
	// error rather than bad input.
	errNil = errors.New("vcard: nil card or contact")
)

// ParseError names the card and line of input that could not be read.
type ParseError struct {
	// Card is the 1-based index of the card in the input (counting
	// top-level BEGIN:VCARD lines), or 0 for bytes outside every card.
	Card int
	// Line is the 1-based line number of the offending line.
	Line int
	// Msg adds detail to Err, such as the start of the offending line.
	Msg string
	// Err is one of the sentinel errors of this package.
	Err error
}

func (e *ParseError) Error() string {
	where := fmt.Sprintf("vcard: card %d, line %d", e.Card, e.Line)
	if e.Card == 0 {
		where = fmt.Sprintf("vcard: line %d", e.Line)
	}
	if e.Msg == "" {
		return fmt.Sprintf("%s: %v", where, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", where, e.Err, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Truncated reports whether the error comes from input that ends in the
// middle of a card, the case where reading more bytes (for example the rest
// of a download) could make it readable.
func (e *ParseError) Truncated() bool { return errors.Is(e.Err, ErrNoEnd) }

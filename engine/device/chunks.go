package device

import (
	"bytes"
	"context"
	"errors"
	"runtime"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// A chunk is a run of whole top-level cards cut from a .vcf file, with what came before it, so that errors from
// parsing it alone can name the card and line of the whole file.
type chunk struct {
	data                     []byte
	cardsBefore, linesBefore int
}

// splitCards cuts data before a top-level BEGIN:VCARD line every n cards, so the pieces can be parsed on every
// core while earlier ones are written. It cuts only where the parser's view is certain to be the same piece by
// piece as whole: between a card's END:VCARD and the next top-level BEGIN:VCARD, in a file whose lines all end in
// LF or CRLF (a file with CR-only line ends stays whole). It also returns the number of top-level cards.
func splitCards(data []byte, n int) ([]chunk, int) {
	for i, b := range data {
		if b == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			return []chunk{{data: data}}, bytes.Count(data, []byte("\r")) // a rough count for the progress bar
		}
	}
	var (
		out              []chunk
		start, lines     int
		startCards, seen int
		depth            int
	)
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		line := bytes.TrimSpace(data[pos:next])
		switch {
		case bytes.EqualFold(line, []byte("BEGIN:VCARD")):
			if depth == 0 {
				if seen-startCards >= n {
					out = append(out, chunk{data: data[start:pos], cardsBefore: startCards, linesBefore: lines - countLines(data[start:pos])})
					start, startCards = pos, seen
				}
				seen++
			}
			depth++
		case bytes.EqualFold(line, []byte("END:VCARD")) && depth > 0:
			depth--
		}
		if end >= 0 {
			lines++
		}
		pos = next
	}
	out = append(out, chunk{data: data[start:], cardsBefore: startCards, linesBefore: lines - countLines(data[start:])})
	return out, seen
}

func countLines(b []byte) int { return bytes.Count(b, []byte("\n")) }

// parsedChunk is the outcome of parsing one chunk: its cards and one error per card it could not read.
type parsedChunk struct {
	cards []*vcard.Card
	errs  []error
}

// chunkParser parses chunks on up to GOMAXPROCS goroutines, at most ahead chunks beyond the one the caller
// takes next, so a file of any size never sits parsed in memory at once.
type chunkParser struct {
	results []chan parsedChunk
	window  chan struct{} // a slot per chunk parsing or parsed and not yet taken
	next    int
}

// parseChunks starts parsing chunks in order. Closing done stops starting new parses; parses under way finish
// into their buffered channels, so no goroutine is left blocked.
func parseChunks(chunks []chunk, ahead int, done <-chan struct{}) *chunkParser {
	p := &chunkParser{results: make([]chan parsedChunk, len(chunks)), window: make(chan struct{}, max(1, ahead))}
	for i := range p.results {
		p.results[i] = make(chan parsedChunk, 1)
	}
	cores := make(chan struct{}, runtime.GOMAXPROCS(0))
	go func() {
		for i, ch := range chunks {
			for _, sem := range []chan struct{}{p.window, cores} {
				select {
				case sem <- struct{}{}:
				case <-done:
					return
				}
			}
			go func() {
				defer func() { <-cores }()
				cards, err := vcard.Parse(ch.data)
				shiftLines(cards, ch.linesBefore)
				errs := parseErrors(err)
				for _, e := range errs {
					var pe *vcard.ParseError
					if errors.As(e, &pe) {
						pe.Line += ch.linesBefore
						if pe.Card > 0 {
							pe.Card += ch.cardsBefore
						}
					}
				}
				p.results[i] <- parsedChunk{cards: cards, errs: errs}
			}()
		}
	}()
	return p
}

// take returns the next chunk's result, in order, and lets one more chunk start; false when none is left.
func (p *chunkParser) take(ctx context.Context) (parsedChunk, bool, error) {
	if p.next == len(p.results) {
		return parsedChunk{}, false, nil
	}
	select {
	case r := <-p.results[p.next]:
		p.next++
		<-p.window
		return r, true, nil
	case <-ctx.Done():
		return parsedChunk{}, false, ctx.Err()
	}
}

// shiftLines makes the line numbers of cards parsed from a chunk count from the start of the whole file.
func shiftLines(cards []*vcard.Card, by int) {
	for _, c := range cards {
		if c.Line > 0 {
			c.Line += by
		}
		shiftLines(c.Nested, by)
	}
}

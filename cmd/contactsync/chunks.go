package main

import (
	"bytes"
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

// parseChunks parses the chunks on up to GOMAXPROCS goroutines and returns one channel per chunk, in order,
// each receiving that chunk's result. Closing done stops starting new parses; parses under way finish into
// their buffered channels, so no goroutine is left blocked.
func parseChunks(chunks []chunk, done <-chan struct{}) []chan parsedChunk {
	results := make([]chan parsedChunk, len(chunks))
	for i := range results {
		results[i] = make(chan parsedChunk, 1)
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	go func() {
		for i, ch := range chunks {
			select {
			case sem <- struct{}{}:
			case <-done:
				return
			}
			go func() {
				defer func() { <-sem }()
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
				results[i] <- parsedChunk{cards: cards, errs: errs}
			}()
		}
	}()
	return results
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

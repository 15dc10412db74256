package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/bench"
)

// TestParseInChunksMatchesWholeFile checks that parsing a file in pieces, as import does, gives the very cards
// and errors (card numbers and lines of the whole file) that parsing it whole gives, for every piece size.
func TestParseInChunksMatchesWholeFile(t *testing.T) {
	inputs := map[string][]byte{
		"synthetic book": bench.AddressBook(3, 25),
		"errors between good cards": []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nEND:VCARD\r\n" +
			"junk outside\r\n" +
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:b\r\nBROKEN LINE\r\nEND:VCARD\r\n" +
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c\r\nFN:no end\r\n" +
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:d\r\nEND:VCARD\r\n"),
		"nested 2.1": []byte("BEGIN:VCARD\nVERSION:2.1\nN:A\nBEGIN:VCARD\nVERSION:2.1\nN:B\nEND:VCARD\nEND:VCARD\nBEGIN:VCARD\nVERSION:2.1\nN:C\nEND:VCARD\n"),
		"cr only":    []byte("BEGIN:VCARD\rVERSION:3.0\rUID:x\rEND:VCARD\rBEGIN:VCARD\rVERSION:3.0\rUID:y\rEND:VCARD\r"),
	}
	for _, dir := range corpusDirs(t) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.vcf"))
		for _, f := range files {
			inputs[filepath.Base(f)] = mustRead(t, f)
		}
	}
	for name, data := range inputs {
		wantCards, wantErr := vcard.Parse(data)
		want := describe(wantCards, parseErrors(wantErr))
		for _, n := range []int{1, 2, 3, 7, 1000} {
			chunks, _ := splitCards(data, n)
			var got []parsedChunk
			done := make(chan struct{})
			for _, r := range parseChunks(chunks, done) {
				got = append(got, <-r)
			}
			close(done)
			var cards []*vcard.Card
			var errs []error
			for _, g := range got {
				cards = append(cards, g.cards...)
				errs = append(errs, g.errs...)
			}
			if d := describe(cards, errs); d != want {
				t.Errorf("%s in pieces of %d cards:\n got %s\nwant %s", name, n, d, want)
			}
		}
	}
}

func describe(cards []*vcard.Card, errs []error) string {
	var b bytes.Buffer
	for _, c := range cards {
		fmt.Fprintf(&b, "[line %d %q]", c.Line, c.Bytes())
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "{%v}", e)
	}
	return b.String()
}

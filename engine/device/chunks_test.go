package device

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/adapters/vcard/synthetic"
)

// TestParseInChunksMatchesWholeFile checks that parsing a file in pieces, as import does, gives the very cards
// and errors (card numbers and lines of the whole file) that parsing it whole gives, for every piece size.
func TestParseInChunksMatchesWholeFile(t *testing.T) {
	inputs := map[string][]byte{
		"synthetic book": synthetic.AddressBook(3, 25),
		"errors between good cards": []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nEND:VCARD\r\n" +
			"junk outside\r\n" +
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:b\r\nBROKEN LINE\r\nEND:VCARD\r\n" +
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c\r\nFN:no end\r\n" +
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:d\r\nEND:VCARD\r\n"),
		"nested 2.1": []byte("BEGIN:VCARD\nVERSION:2.1\nN:A\nBEGIN:VCARD\nVERSION:2.1\nN:B\nEND:VCARD\nEND:VCARD\nBEGIN:VCARD\nVERSION:2.1\nN:C\nEND:VCARD\n"),
		"cr only":    []byte("BEGIN:VCARD\rVERSION:3.0\rUID:x\rEND:VCARD\rBEGIN:VCARD\rVERSION:3.0\rUID:y\rEND:VCARD\r"),
	}
	// The vCards shipped in testdata, and the shared corpus beside the repository when it is there.
	for _, dir := range []string{"../../testdata/vcards/valid", "../../testdata/vcards/quirky", "../../../shared/corpus/vcards/valid", "../../../shared/corpus/vcards/quirky"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.vcf"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inputs[filepath.Base(f)] = data
		}
	}
	if len(inputs) < 5 {
		t.Fatal("no corpus file found in ../../testdata/vcards")
	}
	for name, data := range inputs {
		wantCards, wantErr := vcard.Parse(data)
		want := describe(wantCards, parseErrors(wantErr))
		for _, n := range []int{1, 2, 3, 7, 1000} {
			chunks, _ := splitCards(data, n)
			var got []parsedChunk
			done := make(chan struct{})
			parsed := parseChunks(chunks, 2, done)
			for {
				r, ok, err := parsed.take(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				got = append(got, r)
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

// The parse runs at most `ahead` chunks beyond what the import took, so a large file is never parsed whole
// into memory while the batches commit.
func TestParseChunksStaysAhead(t *testing.T) {
	var data []byte
	for i := range 40 {
		data = append(data, fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u%d\r\nFN:N %d\r\nEND:VCARD\r\n", i, i)...)
	}
	chunks, _ := splitCards(data, 2)
	done := make(chan struct{})
	defer close(done)
	p := parseChunks(chunks, 3, done)
	filled := func() int {
		n := 0
		for _, r := range p.results {
			n += len(r)
		}
		return n
	}
	waitFor := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for filled() < want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // room for a parse the window should not have let start
		if got := filled(); got != want {
			t.Fatalf("%d chunks parsed and not taken; want %d", got, want)
		}
	}
	waitFor(3)
	for range 2 {
		if _, ok, err := p.take(context.Background()); !ok || err != nil {
			t.Fatalf("take: %v, %v", ok, err)
		}
	}
	waitFor(3)
}

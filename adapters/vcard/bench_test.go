package vcard

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	govcard "github.com/emersion/go-vcard"
)

// benchCards returns every fixture card that go-vcard can decode and
// encode too, so that both sides of the comparison do the same work.
func benchCards(b *testing.B) (cards [][]byte, size int64) {
	err := filepath.WalkDir(filepath.Join("..", "..", "testdata", "vcards"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".vcf") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		parsed, _ := Parse(data)
		for _, c := range parsed {
			raw := c.Bytes()
			gc, err := govcard.NewDecoder(bytes.NewReader(raw)).Decode()
			if err != nil || govcard.NewEncoder(&bytes.Buffer{}).Encode(gc) != nil {
				continue
			}
			cards = append(cards, raw)
			size += int64(len(raw))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(cards) == 0 {
		b.Fatal("no cards")
	}
	return cards, size
}

// BenchmarkDecodeEncode compares this package's lossless decode and encode
// (and the full path through the contact model) with go-vcard's lossy
// decode and encode of the same cards.
func BenchmarkDecodeEncode(b *testing.B) {
	cards, size := benchCards(b)
	b.Logf("%d cards, %d bytes", len(cards), size)
	b.Run("lossless", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, data := range cards {
				cs, err := Parse(data)
				if err != nil || len(cs) != 1 {
					b.Fatal(err)
				}
				if out := cs[0].Bytes(); len(out) != len(data) {
					b.Fatal("not byte-identical")
				}
			}
		}
	})
	b.Run("contact", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, data := range cards {
				cs, err := Parse(data)
				if err != nil {
					b.Fatal(err)
				}
				ct, err := ToContact(cs[0])
				if err != nil {
					b.Fatal(err)
				}
				if err := Apply(cs[0], ct); err != nil {
					b.Fatal(err)
				}
				_ = cs[0].Bytes()
			}
		}
	})
	b.Run("govcard", func(b *testing.B) {
		b.SetBytes(size)
		var buf bytes.Buffer
		for b.Loop() {
			for _, data := range cards {
				c, err := govcard.NewDecoder(bytes.NewReader(data)).Decode()
				if err != nil {
					b.Fatal(err)
				}
				buf.Reset()
				if err := govcard.NewEncoder(&buf).Encode(c); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

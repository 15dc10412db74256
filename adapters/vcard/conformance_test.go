package vcard

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDirs are the vCard collections the conformance tests read: the
// copies shipped in the repository always, and the whole shared corpus
// when it sits beside the repository.
func corpusDirs(t testing.TB) []string {
	dirs := []string{filepath.Join("..", "..", "testdata", "vcards")}
	shared := filepath.Join("..", "..", "..", "shared", "corpus", "vcards")
	if _, err := os.Stat(shared); err == nil {
		dirs = append(dirs, shared)
	} else {
		t.Logf("shared corpus not found at %s: testing the repository copies only", shared)
	}
	return dirs
}

// corpusFiles maps a path to the file's bytes, for every .vcf under
// corpusDirs; a shared-corpus file whose repository copy is identical is
// read once.
func corpusFiles(t testing.TB) map[string][]byte {
	files := map[string][]byte{}
	seen := map[string]bool{}
	for _, dir := range corpusDirs(t) {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".vcf") {
				return err
			}
			data, err := os.ReadFile(path)
			if key := filepath.Base(path) + "\x00" + string(data); !seen[key] {
				seen[key] = true
				files[path] = data
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) == 0 {
		t.Fatal("no corpus files found")
	}
	return files
}

// unreadable lists the corpus files that hold input no reader can take
// as a card, with the error each must give. Every other file must parse
// without error.
var unreadable = map[string]error{
	"eds__libebook-vcard-7.vcf": ErrOutsideCard, // no BEGIN:VCARD at all
	"eds__libebook-vcard-8.vcf": ErrNoEnd,       // no END:VCARD
	"eds__libebook-vcard-9.vcf": ErrSyntax,      // truncated inside END: a stray "E" after a TEL, named by its line
	"khard__unparsable.vcf":     ErrNoEnd,       // truncated, no END:VCARD
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestConformanceCorpus(t *testing.T) {
	files := corpusFiles(t)
	var nCards, nIdentical, nFiles int
	for _, path := range sortedKeys(files) {
		data := files[path]
		nFiles++
		cards, err := Parse(data)
		want := unreadable[filepath.Base(path)]
		switch {
		case err != nil && want == nil:
			t.Errorf("%s: %v", path, err)
		case err == nil && want != nil:
			t.Errorf("%s: parsed without error, want %v", path, want)
		case err != nil:
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, want) || pe.Line == 0 {
				t.Errorf("%s: error %v, want a *ParseError with a line wrapping %v", path, err, want)
			}
			t.Logf("unreadable as expected: %s: %v", filepath.Base(path), err)
		}
		// Each card reproduces its slice of the input; what lies between
		// the cards is filler (or, in a file with errors, the bad part).
		rest := data
		for i, c := range cards {
			nCards++
			b := c.Bytes()
			at := bytes.Index(rest, b)
			if at < 0 {
				t.Errorf("%s: card %d (line %d): Bytes() is not a slice of the input", path, i+1, c.Line)
				continue
			}
			nIdentical++
			if err == nil && !isFillerOnly(rest[:at]) {
				t.Errorf("%s: card %d: bytes before it are not filler: %q", path, i+1, rest[:at])
			}
			rest = rest[at+len(b):]
		}
		if err == nil && !isFillerOnly(rest) {
			t.Errorf("%s: bytes after the last card are not filler: %q", path, rest)
		}
	}
	t.Logf("%d files, %d cards, %d byte-identical", nFiles, nCards, nIdentical)
	if nIdentical != nCards {
		t.Errorf("%d of %d cards are not byte-identical", nCards-nIdentical, nCards)
	}
}

// isFillerOnly reports whether b holds only what may sit between cards:
// blank lines, a byte order mark, comment lines.
func isFillerOnly(b []byte) bool {
	for _, l := range splitLines(b) {
		if !isFiller(b[l.start:l.end]) {
			return false
		}
	}
	return true
}

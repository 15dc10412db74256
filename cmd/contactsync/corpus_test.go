package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/engine/device"
)

// corpusDirs are the vCard collections the round trip runs on: the permissively licensed copies shipped in
// testdata/vcards, and the whole shared corpus when it is present beside the repository.
func corpusDirs(t *testing.T) []string {
	dirs := []string{"../../testdata/vcards/valid", "../../testdata/vcards/quirky"}
	for _, d := range []string{"../../../shared/corpus/vcards/valid", "../../../shared/corpus/vcards/quirky"} {
		if _, err := os.Stat(d); err == nil {
			dirs = append(dirs, d)
		} else if os.Getenv("CI") != "" {
			t.Logf("shared corpus %s not present; running on testdata/vcards only", d)
		}
	}
	return dirs
}

// TestCorpusImportExport imports every corpus file into a fresh store with the CLI, exports it, and checks that
// every card the parser could read comes back byte for byte. Cards that cannot be read are named with the reason;
// in valid/ there must be none.
func TestCorpusImportExport(t *testing.T) {
	var files []string
	for _, dir := range corpusDirs(t) {
		matches, err := filepath.Glob(filepath.Join(dir, "*.vcf"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no corpus files found")
	}
	var cards, identical, rejected int
	for _, file := range files {
		data := mustRead(t, file)
		parsed, perr := vcard.Parse(data)
		for _, e := range parseErrors(perr) {
			rejected++
			t.Logf("cannot be read: %s: %v", filepath.Base(file), e)
			if strings.Contains(file, "/valid/") {
				t.Errorf("a card in valid/ was rejected: %s: %v", file, e)
			}
		}
		c := newCLI(t)
		_, _, _ = c.run("", "import", file) // a rejected card makes it fail; the rest is imported
		exported := []byte(c.ok("", "export"))
		if _, err := vcard.Parse(exported); err != nil && len(parseErrors(perr)) == 0 {
			t.Errorf("%s: export does not parse again: %v", file, err)
		}
		// Later cards with the same ID replace earlier ones; compare against the last of each.
		want := make(map[string][]byte)
		for _, p := range parsed {
			raw := p.Bytes()
			want[device.ContactID(p)] = raw
		}
		for id, w := range want {
			cards++
			stored, _, err := c.run("", "get", id)
			switch {
			case err != nil:
				t.Errorf("%s: card %s not in the store: %v", filepath.Base(file), id, err)
			case stored != string(w):
				t.Errorf("%s: card %s not byte-identical after import:\n got %q\nwant %q", filepath.Base(file), id, stored, w)
			case !bytes.Contains(exported, w):
				t.Errorf("%s: card %s not byte-identical in the export", filepath.Base(file), id)
			default:
				identical++
			}
		}
	}
	t.Logf("corpus round trip: %d files, %d cards, %d byte-identical, %d unreadable (named above)", len(files), cards, identical, rejected)
}

// parseErrors unpacks the joined errors vcard.Parse returns, one per card it could not read.
func parseErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

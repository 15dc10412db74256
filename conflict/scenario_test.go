package conflict_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/conflict"
)

var update = flag.Bool("update", false, "rewrite expected.vcf and expected-conflicts.json of every testdata/merge case from the merge")

// TestScenarios merges each case under testdata/merge: base.vcf, local.vcf
// and remote.vcf in, expected.vcf and expected-conflicts.json out, compared
// byte for byte. An empty .vcf stands for no card: no base, a side that
// deleted the contact, or a result where it stays deleted. Each case's
// README.md says which rule it shows and where its cards come from. Every
// case also runs with local and remote exchanged, which must give the same
// bytes and the same conflicts with their sides exchanged.
func TestScenarios(t *testing.T) {
	dirs := scenarioDirs(t)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
				t.Errorf("case has no README.md saying what it shows: %v", err)
			}
			base, local, remote := readCard(t, dir, "base.vcf"), readCard(t, dir, "local.vcf"), readCard(t, dir, "remote.vcf")
			if sameBytes(base, local) && sameBytes(base, remote) {
				t.Fatal("neither side differs from base.vcf: the case shows nothing")
			}
			res, err := conflict.Merge(base, local, remote)
			if err != nil {
				t.Fatalf("merge: %v", err)
			}
			got := cardBytes(res.Card)
			gotConflicts := conflictsJSON(t, res.Conflicts)
			if *update {
				writeFile(t, filepath.Join(dir, "expected.vcf"), got)
				writeFile(t, filepath.Join(dir, "expected-conflicts.json"), gotConflicts)
				return
			}
			want := readFile(t, filepath.Join(dir, "expected.vcf"))
			if !bytes.Equal(got, want) {
				t.Errorf("merged card differs from expected.vcf (run with -update to see the change in git diff)\ngot:\n%s\nwant:\n%s", got, want)
			}
			if want := readFile(t, filepath.Join(dir, "expected-conflicts.json")); !bytes.Equal(gotConflicts, want) {
				t.Errorf("conflicts differ from expected-conflicts.json\ngot:\n%s\nwant:\n%s", gotConflicts, want)
			}

			rev, err := conflict.Merge(base, remote, local)
			if err != nil {
				t.Fatalf("merge with sides exchanged: %v", err)
			}
			if !bytes.Equal(cardBytes(rev.Card), got) {
				t.Errorf("merge with sides exchanged gives other bytes:\n%s", cardBytes(rev.Card))
			}
			if !slices.Equal(swapped(rev.Conflicts), res.Conflicts) {
				t.Errorf("merge with sides exchanged gives other conflicts: %+v", rev.Conflicts)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readCard reads one card from a case file; an empty file is no card.
func readCard(t *testing.T, dir, name string) *vcard.Card {
	t.Helper()
	b := readFile(t, filepath.Join(dir, name))
	if len(b) == 0 {
		return nil
	}
	c, err := parseOne(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func cardBytes(c *vcard.Card) []byte {
	if c == nil {
		return []byte{}
	}
	return c.Bytes()
}

func conflictsJSON(t *testing.T, cs []conflict.Decision) []byte {
	t.Helper()
	if cs == nil {
		cs = []conflict.Decision{}
	}
	b, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

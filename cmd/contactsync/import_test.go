package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
)

const samplePath = "../../testdata/sample/addressbook.vcf"

func TestImportListExportSample(t *testing.T) {
	c := newCLI(t)
	out := c.ok("", "import", samplePath)
	if !strings.Contains(out, "imported 20, updated 0, unchanged 0, rejected 0") {
		t.Fatalf("import summary: %q", out)
	}
	list := c.ok("", "list")
	if n := strings.Count(list, "\n"); n != 20 {
		t.Fatalf("list printed %d lines, want 20:\n%s", n, list)
	}
	if !strings.Contains(list, "\tAda Lovelace\n") {
		t.Fatalf("list lacks Ada Lovelace:\n%s", list)
	}

	// Every card comes back byte for byte.
	exported := c.ok("", "export")
	want := cardsByUID(t, mustRead(t, samplePath))
	got := cardsByUID(t, []byte(exported))
	if len(got) != len(want) {
		t.Fatalf("export has %d cards, want %d", len(got), len(want))
	}
	for uid, w := range want {
		if !bytes.Equal(got[uid], w) {
			t.Errorf("card %s changed on export:\n got %q\nwant %q", uid, got[uid], w)
		}
	}

	// Importing again changes nothing and adds no revision.
	before := c.ok("", "changes", "--since", "0")
	if out := c.ok("", "import", samplePath); !strings.Contains(out, "imported 0, updated 0, unchanged 20") {
		t.Fatalf("second import summary: %q", out)
	}
	if after := c.ok("", "changes", "--since", "0"); after != before {
		t.Fatalf("a repeated import changed the log:\nbefore %s\nafter %s", before, after)
	}
}

func TestExportToFile(t *testing.T) {
	c := newCLI(t)
	c.ok("", "import", samplePath)
	dst := filepath.Join(t.TempDir(), "out.vcf")
	c.ok("", "export", "-o", dst)
	if got, want := cardsByUID(t, mustRead(t, dst)), cardsByUID(t, mustRead(t, samplePath)); len(got) != len(want) {
		t.Fatalf("exported file has %d cards, want %d", len(got), len(want))
	}
}

func TestImportRejectsWithReasonsAndKeepsTheRest(t *testing.T) {
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "mixed.vcf")
	data := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:good-1\r\nFN:Good One\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad-1\r\nFN:Never Ends\r\n" // no END:VCARD
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := c.run("", "import", file)
	if err == nil {
		t.Fatal("import of a file with an unreadable card succeeded")
	}
	if !strings.Contains(out, "imported 1,") || !strings.Contains(out, "rejected 1") {
		t.Fatalf("summary: %q", out)
	}
	if !strings.Contains(out, "mixed.vcf: ") || !strings.Contains(out, "line") {
		t.Fatalf("the rejection does not name the file and line: %q", out)
	}
	if got := c.ok("", "get", "good-1"); !strings.Contains(got, "FN:Good One") {
		t.Fatalf("good card not stored: %q", got)
	}
}

func TestImportCardWithoutUIDIsStableAndVerbatim(t *testing.T) {
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "nouid.vcf")
	card := "BEGIN:VCARD\nVERSION:3.0\nFN:No Uid\nEND:VCARD\n"
	if err := os.WriteFile(file, []byte(card), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "import", file)
	if out := c.ok("", "import", file); !strings.Contains(out, "unchanged 1") {
		t.Fatalf("re-import of a card without UID duplicated it: %q", out)
	}
	if got := c.ok("", "export"); got != card {
		t.Fatalf("export = %q, want the card verbatim %q", got, card)
	}
}

func TestAddGetUpdateRemove(t *testing.T) {
	c := newCLI(t)
	id := strings.TrimSpace(c.ok("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jane Roe\r\nTEL;TYPE=cell:+1 555 0101\r\nEND:VCARD\r\n", "add"))
	if len(id) != 36 {
		t.Fatalf("add printed %q, want a new UUID", id)
	}
	vcf := c.ok("", "get", id)
	if !strings.Contains(vcf, "UID:"+id) || !strings.Contains(vcf, "FN:Jane Roe") {
		t.Fatalf("get: %q", vcf)
	}

	var mc map[string]any
	if err := json.Unmarshal([]byte(c.ok("", "get", id, "--format", "json")), &mc); err != nil {
		t.Fatal(err)
	}
	if mc["id"] != id || mc["name"].([]any)[0] != "Jane Roe" {
		t.Fatalf("json: %v", mc)
	}

	// A JSON update touches only the field that changed.
	mc["name"] = []string{"Jane Q. Roe"}
	patch, _ := json.Marshal(mc)
	c.ok(string(patch), "update", id)
	after := c.ok("", "get", id)
	if !strings.Contains(after, "FN:Jane Q. Roe\r\n") || !strings.Contains(after, "TEL;TYPE=cell:+1 555 0101\r\n") {
		t.Fatalf("after JSON update: %q", after)
	}
	if strings.Replace(after, "FN:Jane Q. Roe", "FN:Jane Roe", 1) != vcf {
		t.Fatalf("JSON update changed more than FN:\nbefore %q\nafter  %q", vcf, after)
	}

	if _, _, err := c.run(strings.Replace(after, "UID:"+id, "UID:someone-else", 1), "update", id); err == nil || !strings.Contains(err.Error(), "cannot change") {
		t.Fatalf("update with another UID: %v", err)
	}
	if _, _, err := c.run(after, "add"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("add of an existing UID: %v", err)
	}

	c.ok("", "rm", id)
	if _, _, err := c.run("", "get", id); err == nil || !strings.Contains(err.Error(), "no contact with ID") {
		t.Fatalf("get after rm: %v", err)
	}
	if _, _, err := c.run("", "rm", id); err == nil {
		t.Fatal("rm of a missing contact succeeded")
	}

	changes := c.ok("", "changes", "--since", "0")
	if changes != "done\trev=3\n" {
		t.Fatalf("changes since 0 after add+update+rm = %q, want only done at 3 (the add and remove cancel out)", changes)
	}
	changes = c.ok("", "changes", "--since", "1")
	if !strings.HasPrefix(changes, "remove\t"+id+"\trev=3\tlocal\n") {
		t.Fatalf("changes since 1 = %q", changes)
	}
}

func TestAddFromJSON(t *testing.T) {
	c := newCLI(t)
	id := strings.TrimSpace(c.ok(`{"givenName":["Ana"],"familyName":["Lima"],"name":["Ana Lima"],"email":[{"type":["work"],"value":"ana@example.org"}]}`, "add"))
	card := c.ok("", "get", id)
	cards, err := vcard.Parse([]byte(card))
	if err != nil || len(cards) != 1 {
		t.Fatalf("stored card does not parse: %v\n%s", err, card)
	}
	if got := cards[0].Get("EMAIL"); got == nil || got.Text() != "ana@example.org" {
		t.Fatalf("EMAIL missing from %q", card)
	}
	if cards[0].UID() != id {
		t.Fatalf("UID %q, printed ID %q", cards[0].UID(), id)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cardsByUID splits a .vcf file into the exact bytes of each card, by UID.
func cardsByUID(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	cards, err := vcard.Parse(data)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	m := make(map[string][]byte, len(cards))
	for _, c := range cards {
		m[c.UID()] = c.Bytes()
	}
	return m
}

package conflict_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/conflict"
)

// mustCard reads one card written with LF; "" is no card.
func mustCard(t *testing.T, s string) *vcard.Card {
	t.Helper()
	if s == "" {
		return nil
	}
	c, err := parseOne([]byte(crlf(s)))
	if err != nil {
		t.Fatalf("%v:\n%s", err, s)
	}
	return c
}

const (
	cardA   = "BEGIN:VCARD\nVERSION:3.0\nUID:a\nFN:Ann\nNOTE:one\nREV:20240101T000000Z\nEND:VCARD\n"
	cardA2  = "BEGIN:VCARD\nVERSION:3.0\nUID:a\nFN:Ann\nNOTE:two\nREV:20240102T000000Z\nEND:VCARD\n"
	cardAre = "BEGIN:VCARD\nVERSION:3.0\nPRODID:-//Server//EN\nUID:a\nFN:Ann\nNOTE:one\nREV:20240105T000000Z\nEND:VCARD\n"
	cardB   = "BEGIN:VCARD\nVERSION:3.0\nUID:b\nFN:Bob\nEND:VCARD\n"
)

func TestMergeUIDMismatch(t *testing.T) {
	for _, tc := range []struct {
		name                string
		base, local, remote string
	}{
		{"local and remote", cardA, cardA, cardB},
		{"base and local", cardA, cardB, cardB},
		{"no base", "", cardA, cardB},
		{"remote deleted", cardA, cardB, ""},
		{"local deleted", cardB, "", cardA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := conflict.Merge(mustCard(t, tc.base), mustCard(t, tc.local), mustCard(t, tc.remote))
			if !errors.Is(err, conflict.ErrUIDMismatch) {
				t.Fatalf("err = %v, want ErrUIDMismatch", err)
			}
			if !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), `"b"`) {
				t.Errorf("error does not name both UIDs: %v", err)
			}
			if res.Card != nil {
				t.Errorf("a failed merge returned a card")
			}
		})
	}
}

// TestMergeWholeCard covers a contact that one side lacks: created on one
// side, deleted on one or both.
func TestMergeWholeCard(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		base, local, remote     string
		want                    string // "" for no card
		writeLocal, writeRemote bool
		conflict                conflict.Side // side of the one conflict expected, "" for none
	}{
		{name: "nothing anywhere"},
		{name: "created locally", local: cardA, want: cardA, writeRemote: true},
		{name: "created remotely", remote: cardA, want: cardA, writeLocal: true},
		{name: "deleted on both sides", base: cardA},
		{name: "deleted locally, unchanged remotely", base: cardA, remote: cardA, writeRemote: true},
		{name: "deleted remotely, unchanged locally", base: cardA, local: cardA, writeLocal: true},
		{name: "deleted locally, re-stamped remotely", base: cardA, remote: cardAre, writeRemote: true},
		{name: "deleted locally, edited remotely", base: cardA, remote: cardA2, want: cardA2, writeLocal: true, conflict: conflict.LocalSide},
		{name: "deleted remotely, edited locally", base: cardA, local: cardA2, want: cardA2, writeRemote: true, conflict: conflict.RemoteSide},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := conflict.Merge(mustCard(t, tc.base), mustCard(t, tc.local), mustCard(t, tc.remote))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := bytesOf(res.Card), bytesOf(mustCard(t, tc.want)); got != want {
				t.Errorf("card:\n%s\nwant:\n%s", got, want)
			}
			if res.WriteLocal != tc.writeLocal || res.WriteRemote != tc.writeRemote {
				t.Errorf("WriteLocal, WriteRemote = %v, %v; want %v, %v", res.WriteLocal, res.WriteRemote, tc.writeLocal, tc.writeRemote)
			}
			switch {
			case tc.conflict == "" && len(res.Conflicts) > 0:
				t.Errorf("unexpected conflicts: %+v", res.Conflicts)
			case tc.conflict != "":
				// The whole contact, named by its FN, at the REV of the edit.
				want := conflict.Decision{UID: "a", Kind: conflict.KindDelete, Winner: "FN:Ann", Side: tc.conflict,
					At: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
				if len(res.Conflicts) != 1 {
					t.Fatalf("conflicts: %+v, want one", res.Conflicts)
				}
				got := res.Conflicts[0]
				if len(got.ID) != 32 {
					t.Errorf("conflict ID %q is not 128 bits of hex", got.ID)
				}
				got.ID = ""
				if got != want {
					t.Errorf("conflict %+v, want %+v", got, want)
				}
			}
		})
	}
}

// TestMergeLeavesInputsAlone: the inputs come out as they went in, and the
// merged card can be edited without touching them.
func TestMergeLeavesInputsAlone(t *testing.T) {
	base := mustCard(t, "BEGIN:VCARD\nVERSION:3.0\nUID:a\nFN:Ann\nTEL;TYPE=CELL:1\nitem1.EMAIL;TYPE=HOME:a@x\nitem1.X-ABLabel:x\nEND:VCARD\n")
	local := mustCard(t, "BEGIN:VCARD\nVERSION:3.0\nUID:a\nFN:Ann L\nTEL;TYPE=CELL:1\nitem1.EMAIL;TYPE=HOME:a@x\nitem1.X-ABLabel:y\nEND:VCARD\n")
	remote := mustCard(t, "BEGIN:VCARD\nVERSION:3.0\nUID:a\nFN:Ann R\nTEL;TYPE=WORK:1\nitem1.EMAIL;TYPE=HOME:a@x\nitem1.X-ABLabel:x\nEND:VCARD\n")
	before := []string{bytesOf(base), bytesOf(local), bytesOf(remote)}
	for _, b := range []*vcard.Card{base, nil} {
		res, err := conflict.Merge(b, local, remote)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Card.Props {
			p.Value += "!"
			for i := range p.Params {
				p.Params[i].Values[0] += "!"
			}
		}
		if after := []string{bytesOf(base), bytesOf(local), bytesOf(remote)}; !slices.Equal(before, after) {
			t.Fatalf("inputs changed:\n%q\n%q", before, after)
		}
	}
}

// TestConflictJSON: a Conflict carries what a store keeps and a listing
// shows, under stable names.
func TestConflictJSON(t *testing.T) {
	res, err := conflict.Merge(mustCard(t, cardA), mustCard(t, cardA2),
		mustCard(t, strings.Replace(cardA, "NOTE:one", "NOTE:three", 1)))
	if err != nil || len(res.Conflicts) != 1 {
		t.Fatalf("want one conflict: %+v, %v", res.Conflicts, err)
	}
	b, err := json.Marshal(res.Conflicts[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"at", "id", "kind", "loser", "property", "side", "uid", "winner"}; !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, want %v (group is omitted when empty)", keys, want)
	}
	want := map[string]any{"uid": "a", "property": "NOTE", "kind": "edit", "winner": "NOTE:two",
		"loser": "NOTE:three", "side": "remote", "at": "2024-01-02T00:00:00Z"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	var back conflict.Decision
	if err := json.Unmarshal(b, &back); err != nil || back != res.Conflicts[0] {
		t.Errorf("JSON does not read back: %+v, %v", back, err)
	}
}

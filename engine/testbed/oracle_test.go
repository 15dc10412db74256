package testbed

import (
	"strings"
	"testing"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
)

// card builds a vCard for uid from content lines.
func card(t *testing.T, uid string, lines ...string) *vcard.Card {
	t.Helper()
	text := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCARD\r\n"
	cs, err := vcard.Parse([]byte(text))
	if err != nil || len(cs) != 1 {
		t.Fatalf("test card: %v", err)
	}
	return cs[0]
}

func serverWith(cards ...*vcard.Card) *state {
	st := newState("server")
	for _, c := range cards {
		st.cards[c.UID()] = c
		st.hrefs[c.UID()] = append(st.hrefs[c.UID()], "/ab/"+c.UID()+".vcf")
	}
	return st
}

func TestDiff(t *testing.T) {
	server := serverWith(card(t, "a", "FN:Ada", "EMAIL;TYPE=work:a@x", "NOTE:long note"))
	for _, tc := range []struct {
		name   string
		device []*vcard.Card
		want   string // "" for no problem, else a fragment of the problem
	}{
		{"same contact, other order, folding and TYPE spelling", []*vcard.Card{card(t, "a", "NOTE:long\r\n  note", "EMAIL;TYPE=WORK:a@x", "FN:Ada")}, ""},
		{"property differs", []*vcard.Card{card(t, "a", "FN:Ada", "EMAIL;TYPE=work:b@x", "NOTE:long note")}, "a@x"},
		{"missing on the device", nil, "on the server, not on the device"},
		{"extra on the device", []*vcard.Card{card(t, "a", "FN:Ada", "EMAIL;TYPE=work:a@x", "NOTE:long note"), card(t, "b", "FN:B")}, "on the device, not on the server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := newState("device-1")
			for _, c := range tc.device {
				dev.cards[c.UID()] = c
			}
			got := diff(server, dev, 10)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Fatalf("problems %v, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0].String(), tc.want) || got[0].Device != "device-1"):
				t.Fatalf("problems %v, want one on device-1 mentioning %q", got, tc.want)
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	a := card(t, "a", "FN:A", historyProp+":c1")
	b := card(t, "b", "FN:B", historyProp+":c1")
	server := serverWith(a, b)
	server.hrefs["a"] = append(server.hrefs["a"], "/ab/other.vcf")
	got := duplicates(server, []Edit{{Token: "c1", Contact: "a", Kind: Create}})
	if len(got) != 2 || !strings.Contains(got[0].Detail, "2 members hold this UID") || !strings.Contains(got[1].Detail, "one creation, 2 contacts") {
		t.Fatalf("problems %v, want the UID at two members and the creation in two contacts", got)
	}
}

func TestCheckEdits(t *testing.T) {
	create := Edit{Token: "c1", Device: "server", Contact: "a", Kind: Create}
	setB := Edit{Token: "e1", Device: "device-1", Contact: "a", Kind: Set, Property: "FN", Value: "fn e1", seen: []string{"c1"}}
	setC := Edit{Token: "e2", Device: "device-2", Contact: "a", Kind: Set, Property: "FN", Value: "fn e2", seen: []string{"c1"}}
	setAfter := Edit{Token: "e3", Device: "device-2", Contact: "a", Kind: Set, Property: "FN", Value: "fn e3", seen: []string{"c1", "e1"}}
	addMail := Edit{Token: "e4", Device: "device-1", Contact: "a", Kind: Add, Property: "EMAIL", Value: "e4@tb.example", seen: []string{"c1"}}
	rmMail := Edit{Token: "e5", Device: "device-2", Contact: "a", Kind: Remove, Property: "EMAIL", Value: "old@x", seen: []string{"c1"}}
	delAll := Edit{Token: "e6", Device: "device-1", Contact: "a", Kind: Delete, seen: []string{"c1", "e1"}}
	delSome := Edit{Token: "e7", Device: "device-1", Contact: "a", Kind: Delete, seen: []string{"c1"}}
	h := func(toks ...string) []string {
		var out []string
		for _, tok := range toks {
			out = append(out, historyProp+":"+tok)
		}
		return out
	}
	lines := func(a []string, b ...string) []string { return append(append([]string(nil), b...), a...) }
	loserE2 := changelog.Conflict{ID: "x", ContactID: "a", Property: "FN", Winner: "FN:fn e1", Loser: "FN:fn e2"}
	for _, tc := range []struct {
		name      string
		edits     []Edit
		final     *vcard.Card // nil: not on the server
		conflicts []changelog.Conflict
		want      string // "" for no problem, else the check and a fragment
	}{
		{"value set is there", []Edit{create, setB}, card(t, "a", lines(h("c1", "e1"), "FN:fn e1")...), nil, ""},
		{"value replaced by an edit that saw it", []Edit{create, setB, setAfter}, card(t, "a", lines(h("c1", "e1", "e3"), "FN:fn e3")...), nil, ""},
		{"concurrent value lost without a conflict", []Edit{create, setB, setC}, card(t, "a", lines(h("c1", "e1", "e2"), "FN:fn e1")...), nil, "lost-edit e2"},
		{"concurrent value lost with a conflict", []Edit{create, setB, setC}, card(t, "a", lines(h("c1", "e1", "e2"), "FN:fn e1")...), []changelog.Conflict{loserE2}, ""},
		{"edit not in the history", []Edit{create, setB}, card(t, "a", lines(h("c1"), "FN:fn e1")...), nil, "lost-edit e1"},
		{"value added is there", []Edit{create, addMail}, card(t, "a", lines(h("c1", "e4"), "FN:x", "EMAIL:e4@tb.example")...), nil, ""},
		{"value added is missing", []Edit{create, addMail}, card(t, "a", lines(h("c1", "e4"), "FN:x")...), nil, "lost-edit e4"},
		{"value removed is gone", []Edit{create, rmMail}, card(t, "a", lines(h("c1", "e5"), "FN:x")...), nil, ""},
		{"value removed came back", []Edit{create, rmMail}, card(t, "a", lines(h("c1", "e5"), "FN:x", "EMAIL:old@x")...), nil, "lost-edit e5"},
		{"delete that saw everything", []Edit{create, setB, delAll}, nil, nil, ""},
		{"delete that saw everything, contact back", []Edit{create, setB, delAll}, card(t, "a", lines(h("c1", "e1"), "FN:fn e1")...), nil, "deleted-contact-back e6"},
		{"edit beats a delete that did not see it", []Edit{create, setB, delSome}, card(t, "a", lines(h("c1", "e1"), "FN:fn e1")...), nil, ""},
		{"contact gone although an edit was unseen", []Edit{create, setB, delSome}, nil, nil, "lost-contact e1"},
		{"contact gone without any delete", []Edit{create}, nil, nil, "lost-contact c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cards []*vcard.Card
			if tc.final != nil {
				cards = append(cards, tc.final)
			}
			got := checkEdits(serverWith(cards...), tc.edits, map[string][]changelog.Conflict{"a": tc.conflicts})
			if tc.want == "" {
				if len(got) > 0 {
					t.Fatalf("problems %v, want none", got)
				}
				return
			}
			check, tok, _ := strings.Cut(tc.want, " ")
			if len(got) != 1 || got[0].Check != check || !strings.HasPrefix(got[0].Edit, tok+" ") {
				t.Fatalf("problems %v, want one %s naming edit %s", got, check, tok)
			}
		})
	}
	if got := checkEdits(serverWith(card(t, "z", "FN:Z")), nil, nil); len(got) != 1 || got[0].Check != "unknown-contact" {
		t.Fatalf("a contact nobody created: %v, want unknown-contact", got)
	}
}

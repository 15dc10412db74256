package vcard

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/changelog/contact"
)

func fixture(t *testing.T, name string) *Card {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "vcards", name))
	if err != nil {
		t.Fatal(err)
	}
	return parseOne(t, string(data))
}

func TestToContact(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    contact.MozContact
	}{
		{"vCard 4.0 with every property", "valid/py-vobject__vcard40_full.vcf", contact.MozContact{
			ID:              "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
			Updated:         time.Date(2023, 12, 15, 12, 0, 0, 0, time.UTC),
			Name:            []string{"Dr. John Q. Public, III", "John Q. Public"},
			HonorificPrefix: []string{"Dr."}, GivenName: []string{"John"}, AdditionalName: []string{"Quinlan"},
			FamilyName: []string{"Public"}, HonorificSuffix: []string{"III"},
			Nickname: []string{"Johnny", "JQP"},
			Email: []contact.Field{{Type: []string{"work"}, Value: "john.public@example.com"},
				{Type: []string{"home"}, Pref: true, Value: "johnny@personal.example.org"}},
			Tel: []contact.TelField{{Type: []string{"voice"}, Pref: true, Value: "+1-555-555-5555"},
				{Type: []string{"cell"}, Value: "+1-555-123-4567"}},
			Adr: []contact.Address{
				{Type: []string{"work"}, StreetAddress: "123 Main Street", Locality: "Any Town", Region: "CA", PostalCode: "91921-1234", CountryName: "U.S.A."},
				{Type: []string{"home"}, Pref: true, StreetAddress: "456 Oak Lane", Locality: "Somewhere", Region: "NY", PostalCode: "10001", CountryName: "U.S.A."}},
			URL:         []contact.Field{{Value: "http://www.example.com/~jqpublic"}},
			IMPP:        []contact.Field{{Pref: true, Value: "xmpp:john@jabber.example.com"}, {Value: "sip:john@voip.example.com"}},
			Org:         []string{"Example Corp."},
			JobTitle:    []string{"CEO"},
			Bday:        "19850415",
			Anniversary: "20100612",
			Note:        []string{"This is a note about John.\nHe likes vCards."},
			Category:    []string{"BUSINESS", "NETWORKING"},
			Photo:       []string{"http://www.example.com/pub/photos/jqpublic.gif"},
			Sex:         "male",
			Key:         []string{"http://www.example.com/keys/jqpublic.pgp"},
		}},
		{"vCard 3.0 Apple style: groups, inline photos", "quirky/sabre-vobject__VCardConverterTest-30to40-input.vcf", contact.MozContact{
			Name: []string{"Steve"},
			Tel:  []contact.TelField{{Type: []string{"home"}, Pref: true, Value: "+1 555 666 777"}, {Value: "+1 444 555 666"}},
			Photo: []string{"data:image/jpeg;base64,Zm9v", "data:image/gif;base64,Zm9v", "data:image/png;base64,Zm9v",
				"http://example.org/foo.png"},
		}},
		{"vCard 2.1 quoted-printable", "quirky/sabre-vobject__QuotedPrintableTest-compound.vcf", contact.MozContact{
			Name: []string{"John Doe"}, GivenName: []string{"John"}, FamilyName: []string{"Doe"},
			Adr: []contact.Address{{Type: []string{"work"}, StreetAddress: "Münster Str. 1", Locality: "Münster", PostalCode: "48143", CountryName: "Deutschland"}},
		}},
		{"Google 3.0 export", "quirky/ezvcard__gmail-single.vcf", contact.MozContact{
			Name: []string{"Greg Dartmouth"}, GivenName: []string{"Greg"}, FamilyName: []string{"Dartmouth"},
			PhoneticGivenName: []string{"Grregg"}, PhoneticFamilyName: []string{"Dart-mowth"}, Nickname: []string{"Gman"},
			Email: []contact.Field{{Type: []string{"internet"}, Value: "gdartmouth@hotmail.com"}},
			Tel:   []contact.TelField{{Type: []string{"cell"}, Value: "555 555 1111"}, {Value: "555 555 2222"}},
			Adr: []contact.Address{{Type: []string{"home"}, StreetAddress: "123 Home St\nHome City, HM 12345"},
				{StreetAddress: "321 Custom St", Locality: "Custom City", Region: "TX", PostalCode: "98765", CountryName: "USA"}},
			URL:      []contact.Field{{Value: "http://TheProfile.com"}},
			Org:      []string{"TheCompany"},
			JobTitle: []string{"TheJobTitle"},
			Bday:     "1960-09-10",
			Note:     []string{"This is GMail's note field.\nIt should be added as a NOTE type.\nACustomField: CustomField"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fixture(t, tt.fixture)
			got, err := ToContact(c)
			if err != nil {
				t.Fatal(err)
			}
			if !got.EqualFields(&tt.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("got\n%s\nwant\n%s", strings.Split(string(g), `"vcard"`)[0], w)
			}
		})
	}
}

func TestApplyEdits(t *testing.T) {
	tests := []struct {
		name string
		card string
		edit func(ct *contact.MozContact)
		want string
	}{
		{"removing a grouped TEL removes its label", appleCard,
			func(ct *contact.MozContact) { ct.Tel = append(ct.Tel[:1], ct.Tel[2:]...) },
			strings.Replace(appleCard, "item1.TEL:905-222-1234\r\nitem1.X-ABLabel:AssistantPhone\r\n", "", 1)},
		{"reordering swaps properties in place", appleCard,
			func(ct *contact.MozContact) { ct.Tel[0], ct.Tel[2] = ct.Tel[2], ct.Tel[0] },
			strings.NewReplacer("TEL;type=WORK;type=pref:905-777-1234", "TEL;TYPE=\"cell,voice\":905-555-1234",
				"TEL;TYPE=\"cell,voice\":905-555-1234", "TEL;type=WORK;type=pref:905-777-1234").Replace(appleCard)},
		{"pref moves as TYPE=pref in 3.0", appleCard,
			func(ct *contact.MozContact) { ct.Tel[0].Pref, ct.Tel[1].Pref = false, true },
			strings.NewReplacer("TEL;type=WORK;type=pref:", "TEL;TYPE=work:",
				"item1.TEL:", "item1.TEL;TYPE=pref:").Replace(appleCard)},
		{"pref is PREF=1 in 4.0", "BEGIN:VCARD\nVERSION:4.0\nEMAIL;TYPE=home:a@b\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Email[0].Pref = true },
			"BEGIN:VCARD\nVERSION:4.0\nEMAIL;TYPE=home;PREF=1:a@b\nEND:VCARD\n"},
		{"pref is a bare parameter in 2.1", "BEGIN:VCARD\r\nVERSION:2.1\r\nTEL;CELL:1\r\nEND:VCARD\r\n",
			func(ct *contact.MozContact) { ct.Tel[0].Pref = true },
			"BEGIN:VCARD\r\nVERSION:2.1\r\nTEL;CELL;PREF:1\r\nEND:VCARD\r\n"},
		{"given name change keeps other N components", appleCard,
			func(ct *contact.MozContact) { ct.GivenName = []string{"Jon"} },
			strings.Replace(appleCard, "N:Doe;John;", "N:Doe;Jon;", 1)},
		{"organization change keeps the unit", "BEGIN:VCARD\nVERSION:3.0\nORG:ACME;Sales\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Org[0] = "ACME, Inc." },
			"BEGIN:VCARD\nVERSION:3.0\nORG:ACME\\, Inc.;Sales\nEND:VCARD\n"},
		{"address change keeps the post office box", "BEGIN:VCARD\nVERSION:3.0\nADR:PO 1;;Main St;Town;;;\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Adr[0].Locality = "City" },
			"BEGIN:VCARD\nVERSION:3.0\nADR:PO 1;;Main St;City;;;\nEND:VCARD\n"},
		{"tel: URI stays a URI", "BEGIN:VCARD\nVERSION:4.0\nTEL;VALUE=uri:tel:+1-555\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Tel[0].Value = "+1-556" },
			"BEGIN:VCARD\nVERSION:4.0\nTEL;VALUE=uri:tel:+1-556\nEND:VCARD\n"},
		{"categories rewrite the first property", "BEGIN:VCARD\nVERSION:3.0\nCATEGORIES:a\nNOTE:x\nCATEGORIES:b\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Category = []string{"a", "b", "c,d"} },
			"BEGIN:VCARD\nVERSION:3.0\nCATEGORIES:a,b,c\\,d\nNOTE:x\nEND:VCARD\n"},
		{"gender in 4.0", "BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Sex, ct.GenderIdentity = "female", "woman" },
			"BEGIN:VCARD\nVERSION:4.0\nFN:A\nGENDER:F;woman\nEND:VCARD\n"},
		{"gender in 3.0", "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Sex = "female" },
			"BEGIN:VCARD\nVERSION:3.0\nFN:A\nX-GENDER:female\nEND:VCARD\n"},
		{"anniversary in 3.0", "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Anniversary = "2010-06-12" },
			"BEGIN:VCARD\nVERSION:3.0\nFN:A\nX-ANNIVERSARY:2010-06-12\nEND:VCARD\n"},
		{"photo in 3.0 is inline base64", "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Photo = []string{"data:image/png;base64,iVBORw0KGgo="} },
			"BEGIN:VCARD\nVERSION:3.0\nFN:A\nPHOTO;ENCODING=b;TYPE=PNG:iVBORw0KGgo=\nEND:VCARD\n"},
		{"photo in 4.0 stays a data: URL", "BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Photo = []string{"data:image/png;base64,iVBORw0KGgo="} },
			"BEGIN:VCARD\nVERSION:4.0\nFN:A\nPHOTO:data:image/png;base64,iVBORw0KGgo=\nEND:VCARD\n"},
		{"updated sets REV", "BEGIN:VCARD\nVERSION:4.0\nREV:20200101T000000Z\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.Updated = time.Date(2024, 2, 3, 4, 5, 6, 7, time.UTC) },
			"BEGIN:VCARD\nVERSION:4.0\nREV:20240203T040506Z\nEND:VCARD\n"},
		{"new ID sets UID", "BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\n",
			func(ct *contact.MozContact) { ct.ID = "abc" },
			"BEGIN:VCARD\nVERSION:4.0\nFN:A\nUID:abc\nEND:VCARD\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseOne(t, tt.card)
			ct, err := ToContact(c)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(ct)
			ct.Updated = ct.Updated.Truncate(time.Second) // REV holds seconds
			out, _, _ := applyAndReadBack(t, tt.name, c, ct)
			if got := string(out); got != tt.want {
				t.Errorf("diff:\n%s", lineDiff([]byte(tt.want), out))
			}
		})
	}
}

func TestFromContactNewCard(t *testing.T) {
	ct := &contact.MozContact{
		ID:        "4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
		GivenName: []string{"Zoë"}, FamilyName: []string{"Lee"},
		Email:    []contact.Field{{Type: []string{"work"}, Pref: true, Value: "zoe@example.com"}},
		Tel:      []contact.TelField{{Type: []string{"cell"}, Value: "+1 555 0100"}},
		Adr:      []contact.Address{{Type: []string{"home"}, StreetAddress: "1 Main St", Locality: "Springfield"}},
		Note:     []string{"A note long enough to be folded: " + strings.Repeat("lorem ipsum ", 6)},
		Sex:      "female",
		Category: []string{"friends"},
	}
	tests := []struct {
		version string
		want    string
	}{
		{"3.0", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\nFN:Zoë Lee\r\nN:Lee;Zoë;;;\r\n" +
			"EMAIL;TYPE=work,pref:zoe@example.com\r\nTEL;TYPE=cell:+1 555 0100\r\nADR;TYPE=home:;;1 Main St;Springfield;;;\r\n" +
			"NOTE:A note long enough to be folded: lorem ipsum lorem ipsum lorem ipsum l\r\n orem ipsum lorem ipsum lorem ipsum \r\n" +
			"CATEGORIES:friends\r\nX-GENDER:female\r\nEND:VCARD\r\n"},
		{"4.0", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\nFN:Zoë Lee\r\nN:Lee;Zoë;;;\r\n" +
			"EMAIL;TYPE=work;PREF=1:zoe@example.com\r\nTEL;TYPE=cell:+1 555 0100\r\nADR;TYPE=home:;;1 Main St;Springfield;;;\r\n" +
			"NOTE:A note long enough to be folded: lorem ipsum lorem ipsum lorem ipsum l\r\n orem ipsum lorem ipsum lorem ipsum \r\n" +
			"CATEGORIES:friends\r\nGENDER:F\r\nEND:VCARD\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			c, err := FromContact(ct, tt.version)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(c.Bytes()); got != tt.want {
				t.Errorf("diff:\n%s", lineDiff([]byte(tt.want), []byte(got)))
			}
			if len(ct.Name) != 0 {
				t.Error("FromContact changed its argument")
			}
		})
	}
}

func TestFromContactUsesItsVCard(t *testing.T) {
	c := parseOne(t, appleCard)
	ct, err := ToContact(c)
	if err != nil {
		t.Fatal(err)
	}
	ct.JobTitle = []string{"Boss"}
	got, err := FromContact(ct, "4.0")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(appleCard, "END:VCARD", "TITLE:Boss\r\nEND:VCARD", 1)
	if string(got.Bytes()) != want {
		t.Errorf("diff:\n%s", lineDiff([]byte(want), got.Bytes()))
	}

	ct.VCard = appleCard + appleCard
	if _, err := FromContact(ct, "4.0"); !errors.Is(err, ErrNotOneCard) {
		t.Errorf("two cards: error %v, want ErrNotOneCard", err)
	}
	ct.VCard = "BEGIN:VCARD\nFN:x\n"
	if _, err := FromContact(ct, "4.0"); !errors.Is(err, ErrNoEnd) {
		t.Errorf("truncated card: error %v, want ErrNoEnd", err)
	}
}

func TestFromContactNameless(t *testing.T) {
	c, err := FromContact(&contact.MozContact{Org: []string{"ACME"}}, "4.0")
	if err != nil {
		t.Fatal(err)
	}
	if fn := c.Get("FN"); fn == nil || fn.Text() != "ACME" {
		t.Errorf("FN = %v, want ACME", fn)
	}
	if len(c.UID()) != 36 {
		t.Errorf("UID %q is not a UUID", c.UID())
	}
}

func TestNilArguments(t *testing.T) {
	if _, err := ToContact(nil); err == nil {
		t.Error("ToContact(nil) gave no error")
	}
	if err := Apply(nil, &contact.MozContact{}); err == nil {
		t.Error("Apply(nil, ct) gave no error")
	}
	if _, err := FromContact(nil, "4.0"); err == nil {
		t.Error("FromContact(nil) gave no error")
	}
}

package contact

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func sample() *MozContact {
	return &MozContact{
		ID:         "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
		Updated:    time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC),
		Name:       []string{"Jane Q. Public"},
		GivenName:  []string{"Jane"},
		FamilyName: []string{"Public"},
		Email:      []Field{{Type: []string{"work"}, Pref: true, Value: "jane@example.com"}},
		Tel:        []TelField{{Type: []string{"cell"}, Value: "+1 555 0100", Carrier: "ACME"}},
		Adr:        []Address{{Type: []string{"home"}, StreetAddress: "1 Main St", Locality: "Springfield", CountryName: "USA"}},
		Bday:       "1985-04-12",
		Category:   []string{"friends", "a,b"},
		VCard:      "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jane Q. Public\r\nEND:VCARD\r\n",
	}
}

func TestJSONUsesMozContactNames(t *testing.T) {
	b, err := json.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"id":`, `"updated":"2024-05-01T10:00:00Z"`, `"givenName":["Jane"]`, `"familyName":`,
		`"email":[{"type":["work"],"pref":true,"value":"jane@example.com"}]`, `"carrier":"ACME"`,
		`"streetAddress":"1 Main St"`, `"countryName":"USA"`, `"bday":"1985-04-12"`, `"category":`, `"vcard":"BEGIN:VCARD`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
	for _, absent := range []string{`"published"`, `"photo"`, `"vcardBase64"`} {
		if strings.Contains(string(b), absent) {
			t.Errorf("JSON has empty field %s: %s", absent, b)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		vcard string
	}{
		{"utf8", "BEGIN:VCARD\r\nFN:Zoë\r\nEND:VCARD\r\n"},
		{"shift-jis bytes", "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=SHIFT_JIS:\x88\xc0\x93\xa1\r\nEND:VCARD\r\n"},
		{"latin1 byte", "BEGIN:VCARD\nFN:M\xfcller\nEND:VCARD\n"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sample()
			c.VCard = tt.vcard
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var got MozContact
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.VCard != tt.vcard {
				t.Errorf("vcard = %q, want %q", got.VCard, tt.vcard)
			}
			if !got.Equal(c) {
				t.Errorf("round trip changed the contact:\n got %+v\nwant %+v", got, *c)
			}
		})
	}
}

func TestCloneIsDeep(t *testing.T) {
	c := sample()
	d := c.Clone()
	d.Email[0].Type[0] = "home"
	d.GivenName[0] = "Joan"
	d.Adr[0].Type = append(d.Adr[0].Type, "pref")
	if c.Email[0].Type[0] != "work" || c.GivenName[0] != "Jane" || len(c.Adr[0].Type) != 1 {
		t.Errorf("editing the clone changed the original: %+v", c)
	}
	if c.EqualFields(d) {
		t.Error("EqualFields ignores a changed given name")
	}
}

func TestEqualFields(t *testing.T) {
	a, b := sample(), sample()
	b.VCard = "other"
	b.Updated = a.Updated.In(time.FixedZone("X", 3600))
	b.Nickname = []string{}
	if !a.EqualFields(b) {
		t.Error("EqualFields should ignore vcard, time zone and nil vs empty lists")
	}
	if a.Equal(b) {
		t.Error("Equal should compare the vcard text")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*MozContact)
		wantErr bool
	}{
		{"sample", func(*MozContact) {}, false},
		{"no year", func(c *MozContact) { c.Bday = "--04-12" }, false},
		{"basic format", func(c *MozContact) { c.Anniversary = "19850412" }, false},
		{"timestamp", func(c *MozContact) { c.Bday = "1985-04-12T10:00:00Z" }, false},
		{"words", func(c *MozContact) { c.Bday = "April 12" }, true},
		{"bad anniversary", func(c *MozContact) { c.Anniversary = "12/04/1985" }, true},
		{"latin1 in a field", func(c *MozContact) { c.Note = []string{"M\xfcller"} }, true},
		{"latin1 in vcard only", func(c *MozContact) { c.VCard = "FN:M\xfcller" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sample()
			tt.edit(c)
			err := c.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

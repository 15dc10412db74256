package carddav_test

import (
	"errors"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav"
)

func TestChoose(t *testing.T) {
	books := []carddav.AddressBook{
		{Href: "/dav/home/contacts/", URL: "https://dav.example.com/dav/home/contacts/", DisplayName: "Contacts"},
		{Href: "/dav/home/work/", URL: "https://dav.example.com/dav/home/work/", DisplayName: "Work"},
		{Href: "/dav/home/work2/", URL: "https://dav.example.com/dav/home/work2/", DisplayName: "Work"},
	}
	cases := []struct {
		name, which string
		books       []carddav.AddressBook
		want        string // Href, or "" for an error
	}{
		{"only book by default", "", books[:1], "/dav/home/contacts/"},
		{"several books need a choice", "", books, ""},
		{"display name", "Contacts", books, "/dav/home/contacts/"},
		{"shared display name is ambiguous", "Work", books, ""},
		{"last path segment", "work2", books, "/dav/home/work2/"},
		{"path", "/dav/home/work/", books, "/dav/home/work/"},
		{"path without slash", "/dav/home/work", books, "/dav/home/work/"},
		{"URL", "https://dav.example.com/dav/home/work2/", books, "/dav/home/work2/"},
		{"URL on another host", "https://other.example.com/dav/home/work2/", books, ""},
		{"unknown name", "Family", books, ""},
		{"no books", "", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &carddav.Discovery{AddressBooks: tc.books}
			got, err := d.Choose(tc.which)
			if tc.want == "" {
				if !errors.Is(err, carddav.ErrNoAddressBook) {
					t.Errorf("Choose(%q) = %+v, %v; want ErrNoAddressBook", tc.which, got, err)
				}
				return
			}
			if err != nil || got.Href != tc.want {
				t.Errorf("Choose(%q) = %+v, %v; want %s", tc.which, got, err, tc.want)
			}
		})
	}
}

package storagetest

import "strings"

// card is a small valid vCard (RFC 2426 for "3.0", RFC 6350 for "4.0") with CRLF line ends. A new version of
// a contact is the same uid with another name, so its content differs and its tag must too.
func card(version, uid, name string) []byte {
	lines := []string{"BEGIN:VCARD", "VERSION:" + version, "UID:" + uid, "FN:" + name, "N:" + name + ";;;;"}
	if version == "4.0" {
		lines = append(lines, "KIND:individual")
	}
	return crlf(append(lines, "EMAIL;TYPE=work:"+strings.ToLower(strings.ReplaceAll(name, " ", "."))+"@example.org", "END:VCARD"))
}

func crlf(lines []string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

// richCards are the cards whose content the suite checks on the way back: both versions, escapes, a folded
// line, parameters with several values, non-ASCII text, and a UID that is no plain file name.
var richCards = []struct {
	name, uid string
	data      []byte
}{
	{"vCard 3.0 with escapes and a folded line", "rich-3.0@storagetest.invalid", crlf([]string{
		"BEGIN:VCARD",
		"VERSION:3.0",
		"UID:rich-3.0@storagetest.invalid",
		"FN:Zoë Ångström",
		"N:Ångström;Zoë;;Dr.;",
		"ORG:Example\\, Inc.;Research",
		"TEL;TYPE=WORK,VOICE:+1-555-0100",
		"TEL;TYPE=CELL:+1-555-0199",
		"EMAIL;TYPE=INTERNET:zoe@example.org",
		"ADR;TYPE=HOME:;;1 Main St;Springfield;;12345;Utopia",
		"NOTE:First line\\nsecond line\\; with a semicolon\\, a comma and enough words to be folded",
		"  across two lines",
		"CATEGORIES:friends,work",
		"END:VCARD",
	})},
	{"vCard 4.0 with a URN UID", "urn:uuid:6f1d1c3e-8a5b-4c8e-9d7a-2b3c4d5e6f70", crlf([]string{
		"BEGIN:VCARD",
		"VERSION:4.0",
		"UID:urn:uuid:6f1d1c3e-8a5b-4c8e-9d7a-2b3c4d5e6f70",
		"KIND:individual",
		"FN:Kenji Tanaka",
		"N:Tanaka;Kenji;;;",
		"EMAIL;TYPE=home;PREF=1:kenji@example.org",
		"EMAIL;TYPE=work:k.tanaka@example.com",
		"TEL;VALUE=uri;TYPE=\"voice,cell\":tel:+81-90-1234-5678",
		"BDAY:19800131",
		"NOTE:日本語のメモ",
		"END:VCARD",
	})},
	{"UID with a slash, spaces and non-ASCII", "dir/sub? ünïcødé #1", crlf([]string{
		"BEGIN:VCARD",
		"VERSION:3.0",
		"UID:dir/sub? ünïcødé #1",
		"FN:Awkward UID",
		"N:UID;Awkward;;;",
		"END:VCARD",
	})},
}

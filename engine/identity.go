package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/changelog"
)

// uploadBytes is the vCard as it goes to a server: the stored bytes, with the contact's ID written in as UID
// when the card has none (RFC 6352 section 5.1 requires one). Comparisons with the mirror use these bytes, so
// a card stored without UID is not uploaded again on every push.
func uploadBytes(c changelog.Contact) []byte {
	cards, err := vcard.Parse(c.Data)
	if err != nil || len(cards) != 1 || cards[0].UID() != "" {
		return c.Data
	}
	cards[0].Set("UID", escapeText(c.ID))
	return cards[0].Bytes()
}

var textEscaper = strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

// escapeText escapes a vCard text value (RFC 6350 section 3.4).
func escapeText(s string) string { return textEscaper.Replace(s) }

// hrefNamespace derives a stable contact ID for a server card without UID from its href, so every device that
// pulls it finds the same ID.
var hrefNamespace = uuid.MustParse("3c4a0a5e-2b7f-4a41-9d55-8f3f1b8e6a10")

// remoteCard parses a member fetched from a server and gives the contact ID it belongs to: its UID, or an ID
// derived from its href when it has none. Anything but exactly one readable card is refused.
func remoteCard(href string, data []byte) (id string, err error) {
	cards, perr := vcard.Parse(data)
	if perr != nil {
		return "", fmt.Errorf("malformed vCard: %w", perr)
	}
	if len(cards) != 1 {
		return "", fmt.Errorf("malformed vCard: %d cards in one member, want 1", len(cards))
	}
	uid := cards[0].UID()
	if uid == "" {
		return "href-" + uuid.NewSHA1(hrefNamespace, []byte(href)).String(), nil
	}
	if !utf8.ValidString(uid) || strings.ContainsAny(uid, "\x00") {
		return "", fmt.Errorf("malformed vCard: UID is not valid text")
	}
	return uid, nil
}

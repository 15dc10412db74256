package carddavserver

import (
	"net/http"
	"strconv"
	"strings"
)

// Sync tokens are URIs (RFC 6578 section 3.5) that name the address book's identity and a changelog revision:
// http://contactsync.invalid/sync/ID/REV. The identity is drawn at random when the book is created, so a token
// of a deleted book never passes for one of a new book at the same URL. Clients treat the token as opaque.
const tokenPrefix = "http://contactsync.invalid/sync/"

func syncToken(bookID string, rev uint64) string {
	return tokenPrefix + bookID + "/" + strconv.FormatUint(rev, 10)
}

// parseSyncToken returns the revision of a token of the book bookID; "" is revision 0 (an initial sync). Any
// other token, including one of another book, is 403 with DAV:valid-sync-token.
func parseSyncToken(bookID, token string) (uint64, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(token, tokenPrefix+bookID+"/")
	if ok {
		if rev, err := strconv.ParseUint(rest, 10, 63); err == nil && rest == strconv.FormatUint(rev, 10) {
			return rev, nil
		}
	}
	return 0, invalidToken()
}

func invalidToken() *statusError {
	return precondition(http.StatusForbidden, nsDAV, "valid-sync-token", "sync token not recognised or too old; sync again with an empty token")
}

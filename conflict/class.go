package conflict

// mode is how the instances of one property merge.
type mode uint8

const (
	// single: one value per card (FN, N, NOTE …); both sides changing it
	// differently needs a winner, and the loser becomes a Conflict.
	single mode = iota
	// multi: a set of instances (TEL, EMAIL …); additions and removals from
	// both sides all apply.
	multi
	// list: one comma-separated list (CATEGORIES, NICKNAME) whose items
	// merge as a set.
	list
	// meta: a property that describes the card rather than the contact
	// (VERSION, REV, PRODID, UID); merged like single, but a loser is no
	// Conflict: nobody typed it.
	meta
)

// multiClasses hold several instances by nature, even on a card that has
// only one: two devices each adding a phone number want both kept.
var multiClasses = map[string]bool{
	"TEL": true, "EMAIL": true, "ADR": true, "LABEL": true, "URL": true, "IMPP": true, "MEMBER": true,
	"RELATED": true, "LANG": true, "KEY": true, "CALURI": true, "CALADRURI": true, "FBURL": true,
	"SOURCE": true, "CLIENTPIDMAP": true, "XML": true, "EXPERTISE": true, "HOBBY": true, "INTEREST": true,
	"ORG-DIRECTORY": true,
	// Vendor properties for the same kinds of things (Apple, Google,
	// Android, Evolution, KDE exports).
	"X-SOCIALPROFILE": true, "X-ABRELATEDNAMES": true, "X-ABDATE": true, "X-ADDRESSBOOKSERVER-MEMBER": true,
	"X-AIM": true, "X-ICQ": true, "X-JABBER": true, "X-MSN": true, "X-YAHOO": true, "X-SKYPE": true,
	"X-SKYPE-USERNAME": true, "X-GTALK": true, "X-GOOGLE-TALK": true, "X-QQ": true, "X-SIP": true,
	"X-GADUGADU": true, "X-GROUPWISE": true, "X-ANDROID-CUSTOM": true, "X-EVOLUTION-BLOG-URL": true,
}

// listClasses hold a comma-separated list of values in one property.
var listClasses = map[string]bool{"CATEGORIES": true, "NICKNAME": true}

// metaClasses describe the card itself.
var metaClasses = map[string]bool{"VERSION": true, "REV": true, "PRODID": true, "UID": true}

// modeOf decides how a class merges from its name and how many instances
// each version holds: any property that appears more than once somewhere
// is a set, whatever its name.
func modeOf(class string, nb, nl, nr int) mode {
	repeated := nb > 1 || nl > 1 || nr > 1
	switch {
	case metaClasses[class] && !repeated:
		return meta
	case listClasses[class] && !repeated:
		return list
	case multiClasses[class] || repeated:
		return multi
	}
	return single
}

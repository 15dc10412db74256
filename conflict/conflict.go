package conflict

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
)

// Side names one of the two versions merged.
type Side string

const (
	LocalSide  Side = "local"
	RemoteSide Side = "remote"
)

// Other is the opposite side.
func (s Side) Other() Side {
	if s == LocalSide {
		return RemoteSide
	}
	return LocalSide
}

// Kind says what the losing side did.
type Kind string

const (
	// KindEdit: both sides changed the same value differently; the loser's
	// version is in Loser.
	KindEdit Kind = "edit"
	// KindDelete: the losing side deleted what the other side edited, and
	// the edit was kept (edit beats delete). Loser is empty.
	KindDelete Kind = "delete"
)

// Decision is one decision the merge took between two concurrent changes,
// kept so that a user can list it and pick the losing value instead. The
// same inputs give the same Conflicts on every device, with the same ID.
type Decision struct {
	// ID identifies the conflict: a hash of UID, property, group, kind,
	// winner and loser, so two devices that resolve the same conflict
	// record the same ID (and a store can ignore the second).
	ID string `json:"id"`
	// UID of the contact.
	UID string `json:"uid"`
	// Property is the name of the property in conflict ("NOTE", "TEL"),
	// or "" when the whole contact was deleted on the losing side.
	Property string `json:"property"`
	// Group is the property group of the winner ("item1"), if any.
	Group string `json:"group,omitempty"`
	Kind  Kind   `json:"kind"`
	// Winner is what the merged card holds: the content lines of the
	// property (several for a group), unfolded, separated by "\n".
	Winner string `json:"winner"`
	// Loser is what the losing side had, in the same form; "" for KindDelete.
	Loser string `json:"loser"`
	// Side is the side whose version lost.
	Side Side `json:"side"`
	// At is the REV of the winning card, the zero time when it has none;
	// a store may stamp its own clock instead.
	At time.Time `json:"at"`
}

// compareConflicts orders conflicts by property, group, winner, loser,
// kind and losing side: a total order, so that the list comes out the same
// on every device.
func compareConflicts(a, b Decision) int {
	return cmp.Or(cmp.Compare(a.Property, b.Property), cmp.Compare(strings.ToLower(a.Group), strings.ToLower(b.Group)),
		cmp.Compare(a.Winner, b.Winner), cmp.Compare(a.Loser, b.Loser), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Side, b.Side))
}

// conflictID hashes what identifies a conflict on every device. The losing
// side is left out: one device's local is another's remote.
func conflictID(c *Decision) string {
	h := sha256.New()
	for _, s := range []string{c.UID, c.Property, strings.ToLower(c.Group), string(c.Kind), c.Winner, c.Loser} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// lines writes a unit as unfolded content lines, one per member.
func lines(u *unit) string {
	if u == nil {
		return ""
	}
	out := make([]string, len(u.props))
	for i, p := range u.props {
		out[i] = contentLine(p)
	}
	return strings.Join(out, "\n")
}

// contentLine writes one property as a single unfolded vCard 3.0/4.0
// content line from its decoded view: the transfer encodings of vCard 2.1
// (quoted-printable, CHARSET) are left out because Value is already
// decoded UTF-8, and line breaks come out as \n. The text parses back with
// vcard.Parse, which is what Resolve does.
func contentLine(p *vcard.Property) string {
	params := make(vcard.Params, 0, len(p.Params))
	for _, prm := range p.Params {
		if prm.Name == "CHARSET" || prm.Name == "ENCODING" && !isBase64(prm.Values) {
			continue
		}
		params = append(params, prm)
	}
	// A card without BEGIN, END and VERSION encodes just the property, fresh
	// (a new Property has no original bytes), by the vcard package's rules.
	c := vcard.Card{Props: []*vcard.Property{vcard.NewProperty(p.Group, p.Name, p.Value, params...)}}
	return strings.TrimSuffix(strings.ReplaceAll(string(c.Bytes()), "\r\n ", ""), "\r\n")
}

func isBase64(values []string) bool {
	enc := strings.ToUpper(strings.Join(values, ","))
	return enc == "B" || enc == "BASE64"
}

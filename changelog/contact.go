package changelog

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Contact is one stored contact. The store never parses Data: it keeps the vCard exactly as given.
type Contact struct {
	// ID is the vCard's UID, the contact's stable identity.
	ID string
	// Data is the vCard text, byte for byte (it may hold bytes that are not UTF-8).
	Data []byte
	// Source is "" for an ordinary contact; otherwise it names where the contact came from (for example
	// "facebook"), and such a contact must never be uploaded or merged.
	Source string
	// Rev is the revision of the contact's last change. The store sets it; it is ignored on input.
	Rev uint64
	// Updated is the time of the contact's last change. The store sets it; it is ignored on input.
	Updated time.Time
}

// validate checks what an add or update needs: an ID and a vCard.
func (c Contact) validate() error {
	if err := validateID(c.ID); err != nil {
		return err
	}
	if len(c.Data) == 0 {
		return fmt.Errorf("%w: contact %q has an empty vCard", ErrInvalid, c.ID)
	}
	if !utf8.ValidString(c.Source) {
		return fmt.Errorf("%w: contact %q has a source that is not UTF-8", ErrInvalid, c.ID)
	}
	return nil
}

// validateID refuses IDs that could not round-trip through SQLite TEXT and the CLI's JSON unchanged.
func validateID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty contact ID", ErrInvalid)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: contact ID %q is not UTF-8", ErrInvalid, id)
	}
	return nil
}

// Change is one entry of a batch given to [Store.Apply] or [Tx.Apply].
type Change struct {
	// Op is OpAdd, OpUpdate, OpRemove or OpClear.
	Op Op
	// Contact is the contact to add or update; for OpRemove only its ID counts, for OpClear nothing does.
	Contact Contact
}

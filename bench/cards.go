package bench

import "github.com/contactsync/contactsync/adapters/vcard/synthetic"

// Card is synthetic.Card, kept under this name for the tests outside bench that still generate cards here.
func Card(seed uint64, i int) []byte { return synthetic.Card(seed, i) }

// AddressBook is synthetic.AddressBook, kept under this name like Card.
func AddressBook(seed uint64, n int) []byte { return synthetic.AddressBook(seed, n) }

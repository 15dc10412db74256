package device

import (
	"context"

	"github.com/contactsync/contactsync/engine"
)

// A Kind is a kind of storage a remote can be, named by engine.RemoteConfig.Kind. It is where a new kind of
// storage plugs in: implement Kind (its engine.Remote must pass engine/storage/storagetest), add it to
// builtinKinds below under the name its configs record, and every front end can add, sync and show remotes of
// that kind. A front end or a test may also give one Device a kind of its own with WithKind.
type Kind interface {
	// Resolve completes a new remote's config before it is saved: it checks rc (Endpoint, Username) and the
	// password, finds the collection to sync — which names it, in the kind's terms, "" when the account has only
	// one — and returns rc with Collection set, and the collection's display name.
	Resolve(ctx context.Context, rc engine.RemoteConfig, password, which string) (ResolvedRemote, error)
	// Open returns the storage of a saved remote, and the Meter that counts its requests (nil when it has
	// none). It checks rc.Collection — a store written by another build may hold anything — and sends nothing.
	Open(rc engine.RemoteConfig, password string) (engine.Remote, engine.Meter, error)
	// Check asks the storage whether it takes password for the saved remote rc: nil when it does, an error
	// matching ErrPasswordRefused when it refuses it, one matching ErrNotChecked when it could not be asked.
	Check(ctx context.Context, rc engine.RemoteConfig, password string) error
}

// ResolvedRemote is a new remote's config as its kind completed it.
type ResolvedRemote struct {
	Config engine.RemoteConfig
	// DisplayName is the collection's name as the storage shows it.
	DisplayName string
	// Note says how the kind read what the user gave ("no scheme given: using https://…"), "" for nothing to say.
	Note string
}

// builtinKinds are the kinds every Device opens.
var builtinKinds = map[string]Kind{
	engine.KindCardDAV: CardDAV,
}

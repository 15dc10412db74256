package account

// Status is the account's sign-in state, named as Firefox's UI names it.
type Status string

const (
	// NotConfigured: no account is signed in here.
	NotConfigured Status = "not_configured"
	// NotVerified: signed in, but the account's email is not verified yet, so nothing syncs.
	NotVerified Status = "not_verified"
	// SignedIn: ready; contacts sync runs if the sync choice is on.
	SignedIn Status = "signed_in"
	// LoginFailed: the account's credentials were rejected and provisioning again failed too; the account
	// stays signed in, waiting for a new token or a sign-in (force-auth) to resume by itself.
	LoginFailed Status = "login_failed"
)

// User is the account signed in here. It holds no token: tokens only travel in effects, to the caller's
// credential store, so a persisted State never contains one.
type User struct {
	UID      string `json:"uid"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
}

// State is everything the machine decides on. The caller persists it between messages.
type State struct {
	Status Status `json:"status"`
	// User is the signed-in account; nil exactly when Status is NotConfigured.
	User *User `json:"user,omitempty"`
	// Sync is the contacts-sync switch (seed 000's ON/OFF), separate from being signed in.
	Sync bool `json:"sync"`
	// LastUID is the last account signed in here; it outlives a logout.
	LastUID string `json:"lastUid,omitempty"`
	// SyncedContactsOf is the uid of the account whose synced contacts the store holds ("" for none). The
	// caller may set it from the store; the machine keeps it current across sign-in and logout.
	SyncedContactsOf string `json:"syncedContactsOf,omitempty"`
	// MultiServiceReported records that this device answered an fxa_status (which reports multiService), so
	// the client knows it may leave services out of a login to ask for no sync. Without it, a login without
	// services is the legacy flow, which always means sync.
	MultiServiceReported bool `json:"multiServiceReported,omitempty"`
}

// syncing reports whether contacts sync should be running in s.
func (s State) syncing() bool { return s.Status == SignedIn && s.Sync }

// signedInAs reports whether uid is the account signed in here.
func (s State) signedInAs(uid string) bool { return s.User != nil && s.User.UID == uid }

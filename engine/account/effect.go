package account

// EffectKind names what the caller must do. Effects come in the order they must run.
type EffectKind string

const (
	// StoreAccount records the account data (UID, Email, Verified) and, when Credentials holds any, the
	// account's tokens in the credential store (never in the database).
	StoreAccount EffectKind = "store-account"
	// ExchangeCode exchanges Code and OAuthState at the provider's token endpoint; the caller feeds the
	// outcome back as a CodeExchanged event carrying Request.
	ExchangeCode EffectKind = "exchange-code"
	// Provision makes sure this device holds its own CardDAV password before sync starts: keep one the
	// server still accepts, else get one from the account's token.
	Provision EffectKind = "provision"
	// Reregister drops this device's password and registration and provisions again with the new token,
	// as after a password change.
	Reregister EffectKind = "reregister"
	// StartSync and StopSync start and stop the contacts sync worker.
	StartSync EffectKind = "start-sync"
	StopSync  EffectKind = "stop-sync"
	// RevokeDevicePassword asks the server to revoke this device's password; best effort, a failure (offline,
	// server gone) must not stop the logout.
	RevokeDevicePassword EffectKind = "revoke-device-password"
	// DeleteServerAccount deletes UID's account on the server, before the logout effects that follow it.
	DeleteServerAccount EffectKind = "delete-server-account"
	// DeleteCredentials removes the account's tokens and this device's password.
	DeleteCredentials EffectKind = "delete-credentials"
	// DeleteSyncState removes the remote, its sync tokens and the sync history kept for it.
	DeleteSyncState EffectKind = "delete-sync-state"
	// DeleteAccountContacts removes the contacts that came from UID's account; contacts of other sources
	// stay. Left out when the logout asked to keep a local copy.
	DeleteAccountContacts EffectKind = "delete-account-contacts"
)

// Effect is one thing for the caller to do: plain data, so tests compare effects and the caller may log them
// (the Secrets print redacted).
type Effect struct {
	Kind        EffectKind
	UID         string
	Email       string
	Verified    bool
	Credentials Credentials // StoreAccount, Reregister
	Code        Secret      // ExchangeCode
	OAuthState  Secret      // ExchangeCode
	Request     *SyncRequest
}

// Credentials are the account's tokens as a message or an exchange brought them. Empty fields are absent.
type Credentials struct {
	SessionToken  Secret
	KeyFetchToken Secret
	UnwrapBKey    Secret
	AccessToken   Secret
}

// SyncRequest is what a login asked of contacts sync, kept through the code exchange so the login rules
// apply to its outcome exactly as to a login message.
type SyncRequest struct {
	// Said is false when the login said nothing about services: a force-auth or reconnect when signed in,
	// and otherwise the legacy flow (sync on) or a multiService client asking for no service (sync off).
	Said bool
	// On is the choice when Said: services.sync was present and contacts not declined.
	On bool
}

package account

// Event is an internal input the caller feeds in: an outcome of an effect it ran, or a person's command.
// One of the types below.
type Event interface{ event() }

// CodeExchanged is the outcome of an ExchangeCode effect: who the provider says signed in, with the tokens.
// Request is the effect's, unchanged.
type CodeExchanged struct {
	UID         string
	Email       string
	Verified    bool
	Credentials Credentials
	Request     *SyncRequest
}

// CredentialsRejected: the server rejected this device's password and provisioning again once failed too.
type CredentialsRejected struct{}

// TokenArrived: a new token for the signed-in account (from the token source or a sign-in elsewhere).
type TokenArrived struct {
	Credentials Credentials
	// Verified, when set, is the account's verification as the token's provider states it now.
	Verified *bool
}

// SetSync is `contactsync account sync on|off`.
type SetSync struct{ On bool }

func (CodeExchanged) event()       {}
func (CredentialsRejected) event() {}
func (TokenArrived) event()        {}
func (SetSync) event()             {}

package account

import (
	"errors"
	"fmt"
	"slices"
)

// ContactsEngine is the one sync engine this device offers.
const ContactsEngine = "contacts"

// Refusals: a message or event that would act on the wrong account changes nothing and gets one of these.
var (
	ErrOtherAccount         = errors.New("account: another account is signed in here; log out first")
	ErrOtherAccountContacts = errors.New("account: this device holds another account's synced contacts")
	ErrNotSignedIn          = errors.New("account: no account is signed in")
	ErrNotThisAccount       = errors.New("account: uid is not the signed-in account")
)

// Machine is the sign-in state machine. It holds configuration only; the state is the caller's.
type Machine struct {
	// ClientID is the OAuth client id fxa_status reports.
	ClientID string
}

// HandleJSON decodes and handles one message. A message Decode refuses changes nothing and gets an error
// reply echoing whatever command and messageId could be read.
func (m Machine) HandleJSON(s State, b []byte) (State, Reply, []Effect) {
	msg, err := Decode(b)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			msg = Message{Command: de.Command, MessageID: de.MessageID}
		}
		if errors.Is(err, ErrUnknownCommand) {
			return s, Reply{Command: msg.Command, MessageID: msg.MessageID, Data: ErrorReply{Error: UnrecognizedCommand}}, nil
		}
		return s, failure(msg, err), nil
	}
	return m.Handle(s, msg)
}

// Handle applies one decoded message to s. A refused message returns s unchanged and no effects.
func (m Machine) Handle(s State, msg Message) (State, Reply, []Effect) {
	ok := Reply{Command: msg.Command, MessageID: msg.MessageID, Data: OKReply{OK: true}}
	switch d := msg.Data.(type) {
	case *StatusData:
		return m.status(s, msg)
	case *CanLinkData:
		ok.Data = OKReply{OK: canLink(s, d.UID) == nil}
		return s, ok, nil
	case *LoginData:
		user := User{UID: d.UID, Email: d.Email, Verified: d.Verified}
		creds := Credentials{SessionToken: d.SessionToken, KeyFetchToken: d.KeyFetchToken, UnwrapBKey: d.UnwrapBKey}
		next, effects, err := signIn(s, user, creds, requestOf(d.Services, d.OfferedSyncEngines, d.DeclinedSyncEngines))
		if err != nil {
			return s, failure(msg, err), nil
		}
		return next, ok, effects
	case *OAuthLoginData:
		if d.UID != "" {
			if err := canLink(s, d.UID); err != nil {
				return s, failure(msg, err), nil
			}
		}
		req := requestOf(d.Services, d.OfferedSyncEngines, d.DeclinedSyncEngines)
		return s, ok, []Effect{{Kind: ExchangeCode, UID: d.UID, Email: d.Email, Code: d.Code, OAuthState: d.State, Request: &req}}
	case *ChangePasswordData:
		if !s.signedInAs(d.UID) {
			return s, failure(msg, ErrNotThisAccount), nil
		}
		next := s
		user := *s.User
		if d.Email != "" {
			user.Email = d.Email
		}
		next.User = &user
		creds := Credentials{SessionToken: d.SessionToken, KeyFetchToken: d.KeyFetchToken, UnwrapBKey: d.UnwrapBKey}
		effects := []Effect{storeAccount(user, creds)}
		// A password change revokes the device passwords issued before it, so a syncing device needs a new one;
		// one that is not syncing holds none that matters.
		if s.syncing() {
			effects = append(effects, Effect{Kind: Reregister, UID: user.UID, Credentials: creds})
		}
		return next, ok, effects
	case *LogoutData:
		if !s.signedInAs(d.UID) {
			return s, failure(msg, ErrNotThisAccount), nil
		}
		var effects []Effect
		if msg.Command == CmdDelete {
			effects = append(effects, Effect{Kind: DeleteServerAccount, UID: d.UID})
		}
		next, out := logout(s, d.KeepLocalCopy)
		return next, ok, append(effects, out...)
	default:
		return s, failure(msg, fmt.Errorf("account: %s: no data", msg.Command)), nil
	}
}

func (m Machine) status(s State, msg Message) (State, Reply, []Effect) {
	r := StatusReply{ClientID: m.ClientID, Capabilities: Capabilities{
		Engines: []string{ContactsEngine}, MultiService: true, ChooseWhatToSync: true, KeysOptional: true,
		CanLinkAccountUID: true,
	}}
	if s.User != nil {
		u := *s.User
		r.SignedInUser = &u
	}
	s.MultiServiceReported = true
	return s, Reply{Command: msg.Command, MessageID: msg.MessageID, Data: r}, nil
}

// Apply applies one internal event to s. A refused event returns s unchanged, no effects and the refusal.
func (m Machine) Apply(s State, e Event) (State, []Effect, error) {
	switch e := e.(type) {
	case CodeExchanged:
		var v validator
		v.uid("uid", &e.UID, true)
		v.email("email", &e.Email, true)
		if v.err != nil {
			return s, nil, fmt.Errorf("account: code exchanged: %w: %v", ErrMalformed, v.err)
		}
		req := SyncRequest{}
		if e.Request != nil {
			req = *e.Request
		}
		next, effects, err := signIn(s, User{UID: e.UID, Email: e.Email, Verified: e.Verified}, e.Credentials, req)
		if err != nil {
			return s, nil, err
		}
		return next, effects, nil
	case CredentialsRejected:
		if s.User == nil {
			return s, nil, ErrNotSignedIn
		}
		next := s
		next.Status = LoginFailed
		return next, syncDiff(s, next), nil
	case TokenArrived:
		if s.User == nil {
			return s, nil, ErrNotSignedIn
		}
		next := s
		user := *s.User
		if e.Verified != nil {
			user.Verified = *e.Verified
		}
		next.User = &user
		next.Status = readiness(user)
		return next, append([]Effect{storeAccount(user, e.Credentials)}, syncDiff(s, next)...), nil
	case SetSync:
		if s.User == nil {
			return s, nil, ErrNotSignedIn
		}
		next := s
		next.Sync = e.On
		if e.On && next.SyncedContactsOf == "" {
			next.SyncedContactsOf = s.User.UID
		}
		return next, syncDiff(s, next), nil
	default:
		return s, nil, fmt.Errorf("account: unknown event %T", e)
	}
}

// canLink says whether uid may sign in here: not while another account is signed in, and not onto another
// account's synced contacts, which signing in would merge into uid's account.
func canLink(s State, uid string) error {
	switch {
	case s.User != nil && s.User.UID != uid:
		return ErrOtherAccount
	case s.SyncedContactsOf != "" && s.SyncedContactsOf != uid:
		return ErrOtherAccountContacts
	}
	return nil
}

// signIn is the rule shared by login and a completed oauth_login.
func signIn(s State, user User, creds Credentials, req SyncRequest) (State, []Effect, error) {
	if err := canLink(s, user.UID); err != nil {
		return s, nil, err
	}
	next := s
	next.User = &user
	next.Status = readiness(user)
	next.LastUID = user.UID
	// Signed in already (force-auth, reconnect): only the account data changes; the service choice was made
	// at the first sign-in and a login must not switch sync on or off behind the person's back.
	if s.User == nil {
		next.Sync = req.On
		if !req.Said {
			next.Sync = !s.MultiServiceReported // the legacy flow always meant sync
		}
	}
	if next.Sync && next.SyncedContactsOf == "" {
		next.SyncedContactsOf = user.UID
	}
	return next, append([]Effect{storeAccount(user, creds)}, syncDiff(s, next)...), nil
}

// logout is the nuclear option: it removes everything the account brought here.
func logout(s State, keepLocalCopy bool) (State, []Effect) {
	uid := s.User.UID
	effects := []Effect{
		{Kind: StopSync, UID: uid},
		{Kind: RevokeDevicePassword, UID: uid},
		{Kind: DeleteCredentials, UID: uid},
		{Kind: DeleteSyncState, UID: uid},
	}
	next := State{Status: NotConfigured, LastUID: s.LastUID, SyncedContactsOf: s.SyncedContactsOf,
		MultiServiceReported: s.MultiServiceReported}
	if !keepLocalCopy {
		effects = append(effects, Effect{Kind: DeleteAccountContacts, UID: uid})
		if next.SyncedContactsOf == uid {
			next.SyncedContactsOf = ""
		}
	}
	return next, effects
}

// requestOf reads a login's services; without them, the legacy top-level choose-what-to-sync fields.
func requestOf(services *Services, offered, declined []string) SyncRequest {
	switch {
	case services != nil:
		sync := services.Sync
		return SyncRequest{Said: true, On: sync != nil && !declines(sync.OfferedEngines, sync.DeclinedEngines)}
	case offered != nil && declined != nil:
		return SyncRequest{Said: true, On: !declines(offered, declined)}
	}
	return SyncRequest{}
}

// declines reports a choose-what-to-sync result that declines contacts; the choices count only when both
// lists came, as in Firefox.
func declines(offered, declined []string) bool {
	return offered != nil && declined != nil && slices.Contains(declined, ContactsEngine)
}

func readiness(u User) Status {
	if u.Verified {
		return SignedIn
	}
	return NotVerified
}

func storeAccount(u User, creds Credentials) Effect {
	return Effect{Kind: StoreAccount, UID: u.UID, Email: u.Email, Verified: u.Verified, Credentials: creds}
}

// syncDiff starts or stops the sync worker as contacts sync begins or ends between prev and next.
func syncDiff(prev, next State) []Effect {
	switch {
	case !prev.syncing() && next.syncing():
		return []Effect{{Kind: Provision, UID: next.User.UID}, {Kind: StartSync, UID: next.User.UID}}
	case prev.syncing() && !next.syncing():
		return []Effect{{Kind: StopSync, UID: prev.User.UID}}
	}
	return nil
}

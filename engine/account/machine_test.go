package account

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	alice = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	bob   = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
)

var machine = Machine{ClientID: "contactsync-dev"}

// The states the table starts from.
var (
	signedOut       = State{Status: NotConfigured}
	signedOutModern = State{Status: NotConfigured, MultiServiceReported: true}
	aliceReady      = State{Status: SignedIn, User: &User{UID: alice, Email: "alice@example.com", Verified: true},
		Sync: true, LastUID: alice, SyncedContactsOf: alice, MultiServiceReported: true}
	aliceReadyNoSync = State{Status: SignedIn, User: &User{UID: alice, Email: "alice@example.com", Verified: true},
		LastUID: alice, MultiServiceReported: true}
	aliceUnverified = State{Status: NotVerified, User: &User{UID: alice, Email: "alice@example.com"},
		Sync: true, LastUID: alice, SyncedContactsOf: alice, MultiServiceReported: true}
	aliceFailed = State{Status: LoginFailed, User: &User{UID: alice, Email: "alice@example.com", Verified: true},
		Sync: true, LastUID: alice, SyncedContactsOf: alice, MultiServiceReported: true}
	// Alice logged out keeping a local copy: her contacts are still in the store.
	aliceLeftContacts = State{Status: NotConfigured, LastUID: alice, SyncedContactsOf: alice, MultiServiceReported: true}
)

func msg(command, data string) []byte {
	return []byte(`{"command":"` + command + `","messageId":"m1","data":` + data + `}`)
}

func login(uid, email string, verified bool, rest string) []byte {
	v := "false"
	if verified {
		v = "true"
	}
	return msg("fxaccounts:login", `{"uid":"`+uid+`","email":"`+email+`","verified":`+v+`,"sessionToken":"tok"`+rest+`}`)
}

func user(uid, email string, verified bool) *User {
	return &User{UID: uid, Email: email, Verified: verified}
}

func with(s State, f func(*State)) State { f(&s); return s }

var creds = Credentials{SessionToken: "tok"}

func eff(kind EffectKind, uid string) Effect { return Effect{Kind: kind, UID: uid} }

func store(uid, email string, verified bool, c Credentials) Effect {
	return Effect{Kind: StoreAccount, UID: uid, Email: email, Verified: verified, Credentials: c}
}

func logoutEffects(uid string, wipe bool) []Effect {
	e := []Effect{eff(StopSync, uid), eff(RevokeDevicePassword, uid), eff(DeleteCredentials, uid), eff(DeleteSyncState, uid)}
	if wipe {
		e = append(e, eff(DeleteAccountContacts, uid))
	}
	return e
}

var okData = `{"ok":true}`

func errData(err error) string { return `{"error":{"message":"` + err.Error() + `"}}` }

func TestHandle(t *testing.T) {
	bobSignedIn := State{Status: SignedIn, User: user(bob, "bob@example.com", true), Sync: true, LastUID: bob,
		SyncedContactsOf: bob, MultiServiceReported: true}
	cases := []struct {
		name    string
		from    State
		in      []byte
		want    State
		data    string // the reply's data, as JSON
		effects []Effect
	}{
		// fxa_status from every state.
		{"status signed out", signedOut, msg("fxaccounts:fxa_status", `{"service":"","context":"fx_desktop_v3"}`),
			signedOutModern, `{"signedInUser":null,"clientId":"contactsync-dev","capabilities":{"engines":["contacts"],"multiService":true,"pairing":false,"choose_what_to_sync":true,"keys_optional":true,"can_link_account_uid":true}}`, nil},
		{"status without data", signedOut, []byte(`{"command":"fxaccounts:fxa_status","messageId":7}`),
			signedOutModern, `{"signedInUser":null,"clientId":"contactsync-dev","capabilities":{"engines":["contacts"],"multiService":true,"pairing":false,"choose_what_to_sync":true,"keys_optional":true,"can_link_account_uid":true}}`, nil},
		{"status ready", aliceReady, msg("fxaccounts:fxa_status", `{}`), aliceReady,
			`{"signedInUser":{"uid":"` + alice + `","email":"alice@example.com","verified":true},"clientId":"contactsync-dev","capabilities":{"engines":["contacts"],"multiService":true,"pairing":false,"choose_what_to_sync":true,"keys_optional":true,"can_link_account_uid":true}}`, nil},
		{"status not verified", aliceUnverified, msg("fxaccounts:fxa_status", `{}`), aliceUnverified,
			`{"signedInUser":{"uid":"` + alice + `","email":"alice@example.com","verified":false},"clientId":"contactsync-dev","capabilities":{"engines":["contacts"],"multiService":true,"pairing":false,"choose_what_to_sync":true,"keys_optional":true,"can_link_account_uid":true}}`, nil},
		{"status login failed", aliceFailed, msg("fxaccounts:fxa_status", `{}`), aliceFailed,
			`{"signedInUser":{"uid":"` + alice + `","email":"alice@example.com","verified":true},"clientId":"contactsync-dev","capabilities":{"engines":["contacts"],"multiService":true,"pairing":false,"choose_what_to_sync":true,"keys_optional":true,"can_link_account_uid":true}}`, nil},

		// can_link_account.
		{"can link on an empty device", signedOut, msg("fxaccounts:can_link_account", `{"uid":"`+bob+`","email":"bob@example.com"}`), signedOut, okData, nil},
		{"can link the same user's data", aliceLeftContacts, msg("fxaccounts:can_link_account", `{"uid":"`+alice+`"}`), aliceLeftContacts, okData, nil},
		{"cannot link onto another user's contacts", aliceLeftContacts, msg("fxaccounts:can_link_account", `{"uid":"`+bob+`"}`), aliceLeftContacts, `{"ok":false}`, nil},
		{"cannot link while another is signed in", aliceReadyNoSync, msg("fxaccounts:can_link_account", `{"uid":"`+bob+`"}`), aliceReadyNoSync, `{"ok":false}`, nil},
		{"can link the signed-in user", aliceReady, msg("fxaccounts:can_link_account", `{"uid":"`+alice+`"}`), aliceReady, okData, nil},
		{"can link after failure, same user", aliceFailed, msg("fxaccounts:can_link_account", `{"uid":"`+alice+`"}`), aliceFailed, okData, nil},
		{"cannot link another while not verified", aliceUnverified, msg("fxaccounts:can_link_account", `{"uid":"`+bob+`"}`), aliceUnverified, `{"ok":false}`, nil},

		// login from signed out.
		{"login with sync", signedOutModern, login(bob, "bob@example.com", true, `,"services":{"sync":{"offeredEngines":["contacts"],"declinedEngines":[]}}`),
			bobSignedIn, okData, []Effect{store(bob, "bob@example.com", true, creds), eff(Provision, bob), eff(StartSync, bob)}},
		{"login with sync and no engine lists", signedOutModern, login(bob, "bob@example.com", true, `,"services":{"sync":{}}`),
			bobSignedIn, okData, []Effect{store(bob, "bob@example.com", true, creds), eff(Provision, bob), eff(StartSync, bob)}},
		{"login declining contacts", signedOutModern, login(bob, "bob@example.com", true, `,"services":{"sync":{"offeredEngines":["contacts"],"declinedEngines":["contacts"]}}`),
			with(bobSignedIn, func(s *State) { s.Sync = false; s.SyncedContactsOf = "" }), okData, []Effect{store(bob, "bob@example.com", true, creds)}},
		{"declined contacts without offered engines does not count", signedOutModern, login(bob, "bob@example.com", true, `,"services":{"sync":{"declinedEngines":["contacts"]}}`),
			bobSignedIn, okData, []Effect{store(bob, "bob@example.com", true, creds), eff(Provision, bob), eff(StartSync, bob)}},
		{"login with services but no sync", signedOutModern, login(bob, "bob@example.com", true, `,"services":{"relay":{}}`),
			with(bobSignedIn, func(s *State) { s.Sync = false; s.SyncedContactsOf = "" }), okData, []Effect{store(bob, "bob@example.com", true, creds)}},
		{"multiService client without services: no sync", signedOutModern, login(bob, "bob@example.com", true, ``),
			with(bobSignedIn, func(s *State) { s.Sync = false; s.SyncedContactsOf = "" }), okData, []Effect{store(bob, "bob@example.com", true, creds)}},
		{"legacy login without services: sync on", signedOut, login(bob, "bob@example.com", true, ``),
			with(bobSignedIn, func(s *State) { s.MultiServiceReported = false }), okData, []Effect{store(bob, "bob@example.com", true, creds), eff(Provision, bob), eff(StartSync, bob)}},
		{"legacy login declining contacts", signedOut, login(bob, "bob@example.com", true, `,"offeredSyncEngines":["contacts"],"declinedSyncEngines":["contacts"]`),
			with(bobSignedIn, func(s *State) { s.MultiServiceReported = false; s.Sync = false; s.SyncedContactsOf = "" }), okData, []Effect{store(bob, "bob@example.com", true, creds)}},
		{"login not verified: nothing syncs", signedOutModern, login(bob, "bob@example.com", false, `,"services":{"sync":{}}`),
			with(bobSignedIn, func(s *State) { s.Status = NotVerified; s.User = user(bob, "bob@example.com", false) }), okData, []Effect{store(bob, "bob@example.com", false, creds)}},
		{"login onto another user's contacts refused", aliceLeftContacts, login(bob, "bob@example.com", true, `,"services":{"sync":{}}`),
			aliceLeftContacts, errData(ErrOtherAccountContacts), nil},
		{"login of the user whose contacts are here", aliceLeftContacts, login(alice, "alice@example.com", true, `,"services":{"sync":{}}`),
			aliceReady, okData, []Effect{store(alice, "alice@example.com", true, creds), eff(Provision, alice), eff(StartSync, alice)}},

		// login while signed in.
		{"login same uid keeps the choice (sync on)", aliceReady, login(alice, "alice@new.example", true, `,"services":{}`),
			with(aliceReady, func(s *State) { s.User = user(alice, "alice@new.example", true) }), okData, []Effect{store(alice, "alice@new.example", true, creds)}},
		{"login same uid keeps the choice (sync off)", aliceReadyNoSync, login(alice, "alice@example.com", true, `,"services":{"sync":{}}`),
			aliceReadyNoSync, okData, []Effect{store(alice, "alice@example.com", true, creds)}},
		{"login other uid refused", aliceReady, login(bob, "bob@example.com", true, `,"services":{"sync":{}}`),
			aliceReady, errData(ErrOtherAccount), nil},
		{"login other uid refused when not verified", aliceUnverified, login(bob, "bob@example.com", true, ``),
			aliceUnverified, errData(ErrOtherAccount), nil},
		{"login other uid refused after failure", aliceFailed, login(bob, "bob@example.com", true, ``),
			aliceFailed, errData(ErrOtherAccount), nil},
		{"verification completes", aliceUnverified, login(alice, "alice@example.com", true, ``),
			with(aliceUnverified, func(s *State) { s.Status = SignedIn; s.User = user(alice, "alice@example.com", true) }), okData,
			[]Effect{store(alice, "alice@example.com", true, creds), eff(Provision, alice), eff(StartSync, alice)}},
		{"force-auth after failure resumes", aliceFailed, login(alice, "alice@example.com", true, ``),
			aliceReady, okData, []Effect{store(alice, "alice@example.com", true, creds), eff(Provision, alice), eff(StartSync, alice)}},

		// oauth_login: only the exchange, as an effect.
		{"oauth login signed out", signedOutModern, msg("fxaccounts:oauth_login", `{"code":"c0de","state":"st","services":{"sync":{}}}`),
			signedOutModern, okData, []Effect{{Kind: ExchangeCode, Code: "c0de", OAuthState: "st", Request: &SyncRequest{Said: true, On: true}}}},
		{"oauth login declining contacts", signedOutModern, msg("fxaccounts:oauth_login", `{"code":"c","state":"s","services":{"sync":{"offeredEngines":["contacts"],"declinedEngines":["contacts"]}}}`),
			signedOutModern, okData, []Effect{{Kind: ExchangeCode, Code: "c", OAuthState: "s", Request: &SyncRequest{Said: true}}}},
		{"oauth login same uid", aliceReady, msg("fxaccounts:oauth_login", `{"code":"c","state":"s","uid":"`+alice+`"}`),
			aliceReady, okData, []Effect{{Kind: ExchangeCode, UID: alice, Code: "c", OAuthState: "s", Request: &SyncRequest{}}}},
		{"oauth login other uid refused", aliceReady, msg("fxaccounts:oauth_login", `{"code":"c","state":"s","uid":"`+bob+`"}`),
			aliceReady, errData(ErrOtherAccount), nil},

		// change_password.
		{"change password while syncing", aliceReady, msg("fxaccounts:change_password", `{"uid":"`+alice+`","sessionToken":"new"}`),
			aliceReady, okData, []Effect{store(alice, "alice@example.com", true, Credentials{SessionToken: "new"}), {Kind: Reregister, UID: alice, Credentials: Credentials{SessionToken: "new"}}}},
		{"change password sync off", aliceReadyNoSync, msg("fxaccounts:change_password", `{"uid":"`+alice+`","sessionToken":"new"}`),
			aliceReadyNoSync, okData, []Effect{store(alice, "alice@example.com", true, Credentials{SessionToken: "new"})}},
		{"change password not verified", aliceUnverified, msg("fxaccounts:change_password", `{"uid":"`+alice+`"}`),
			aliceUnverified, okData, []Effect{store(alice, "alice@example.com", false, Credentials{})}},
		{"change password login failed keeps state", aliceFailed, msg("fxaccounts:change_password", `{"uid":"`+alice+`","sessionToken":"new"}`),
			aliceFailed, okData, []Effect{store(alice, "alice@example.com", true, Credentials{SessionToken: "new"})}},
		{"change password other uid refused", aliceReady, msg("fxaccounts:change_password", `{"uid":"`+bob+`"}`),
			aliceReady, errData(ErrNotThisAccount), nil},
		{"change password signed out refused", signedOut, msg("fxaccounts:change_password", `{"uid":"`+bob+`"}`),
			signedOut, errData(ErrNotThisAccount), nil},

		// logout and delete.
		{"logout wipes that account's contacts", aliceReady, msg("fxaccounts:logout", `{"uid":"`+alice+`"}`),
			State{Status: NotConfigured, LastUID: alice, MultiServiceReported: true}, okData, logoutEffects(alice, true)},
		{"logout keeping a local copy", aliceReady, msg("fxaccounts:logout", `{"uid":"`+alice+`","keepLocalCopy":true}`),
			aliceLeftContacts, okData, logoutEffects(alice, false)},
		{"logout not verified", aliceUnverified, msg("fxaccounts:logout", `{"uid":"`+alice+`"}`),
			State{Status: NotConfigured, LastUID: alice, MultiServiceReported: true}, okData, logoutEffects(alice, true)},
		{"logout after failure", aliceFailed, msg("fxaccounts:logout", `{"uid":"`+alice+`"}`),
			State{Status: NotConfigured, LastUID: alice, MultiServiceReported: true}, okData, logoutEffects(alice, true)},
		{"logout of another uid refused", aliceReady, msg("fxaccounts:logout", `{"uid":"`+bob+`"}`),
			aliceReady, errData(ErrNotThisAccount), nil},
		{"logout signed out refused", aliceLeftContacts, msg("fxaccounts:logout", `{"uid":"`+alice+`"}`),
			aliceLeftContacts, errData(ErrNotThisAccount), nil},
		{"delete", aliceReady, msg("fxaccounts:delete", `{"uid":"`+alice+`"}`),
			State{Status: NotConfigured, LastUID: alice, MultiServiceReported: true}, okData,
			append([]Effect{eff(DeleteServerAccount, alice)}, logoutEffects(alice, true)...)},
		{"delete after failure", aliceFailed, msg("fxaccounts:delete", `{"uid":"`+alice+`"}`),
			State{Status: NotConfigured, LastUID: alice, MultiServiceReported: true}, okData,
			append([]Effect{eff(DeleteServerAccount, alice)}, logoutEffects(alice, true)...)},
		{"delete of another uid refused", aliceUnverified, msg("fxaccounts:delete", `{"uid":"`+bob+`"}`),
			aliceUnverified, errData(ErrNotThisAccount), nil},
		{"delete signed out refused", signedOut, msg("fxaccounts:delete", `{"uid":"`+alice+`"}`),
			signedOut, errData(ErrNotThisAccount), nil},

		// Unknown and malformed messages change nothing.
		{"unknown command", aliceReady, msg("fxaccounts:sync_preferences", `{}`), aliceReady, `{"error":"Unrecognized FxAccountsWebChannel command"}`, nil},
		{"malformed login", signedOut, msg("fxaccounts:login", `{"uid":"`+bob+`"}`), signedOut,
			`{"error":{"message":"account: malformed message: fxaccounts:login: missing email"}}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, reply, effects := machine.HandleJSON(c.from, c.in)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("state:\n got %+v user %+v\nwant %+v user %+v", got, got.User, c.want, c.want.User)
			}
			if !reflect.DeepEqual(effects, c.effects) {
				t.Errorf("effects:\n got %+v\nwant %+v", effects, c.effects)
			}
			b, err := json.Marshal(reply)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Command   string          `json:"command"`
				MessageID json.RawMessage `json:"messageId"`
				Data      json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(b, &env); err != nil {
				t.Fatal(err)
			}
			var in struct {
				Command   string          `json:"command"`
				MessageID json.RawMessage `json:"messageId"`
			}
			_ = json.Unmarshal(c.in, &in)
			if env.Command != in.Command || string(env.MessageID) != string(in.MessageID) {
				t.Errorf("reply echoes %s %s, want %s %s", env.Command, env.MessageID, in.Command, in.MessageID)
			}
			if string(env.Data) != c.data {
				t.Errorf("reply data:\n got %s\nwant %s", env.Data, c.data)
			}
		})
	}
}

func TestApply(t *testing.T) {
	yes := true
	newTok := Credentials{AccessToken: "at"}
	cases := []struct {
		name    string
		from    State
		in      Event
		want    State
		effects []Effect
		err     error
	}{
		{"code exchanged signs in with the request's choice", signedOutModern,
			CodeExchanged{UID: alice, Email: "alice@example.com", Verified: true, Credentials: newTok, Request: &SyncRequest{Said: true, On: true}},
			aliceReady, []Effect{store(alice, "alice@example.com", true, newTok), eff(Provision, alice), eff(StartSync, alice)}, nil},
		{"code exchanged, contacts declined", signedOutModern,
			CodeExchanged{UID: alice, Email: "alice@example.com", Verified: true, Credentials: newTok, Request: &SyncRequest{Said: true}},
			aliceReadyNoSync, []Effect{store(alice, "alice@example.com", true, newTok)}, nil},
		{"code exchanged for the signed-in user keeps the choice", aliceReadyNoSync,
			CodeExchanged{UID: alice, Email: "alice@example.com", Verified: true, Credentials: newTok, Request: &SyncRequest{Said: true, On: true}},
			aliceReadyNoSync, []Effect{store(alice, "alice@example.com", true, newTok)}, nil},
		{"code exchanged for another user refused", aliceReady,
			CodeExchanged{UID: bob, Email: "bob@example.com", Verified: true}, aliceReady, nil, ErrOtherAccount},
		{"code exchanged with a bad uid", signedOut,
			CodeExchanged{UID: "no spaces", Email: "x@example.com"}, signedOut, nil, ErrMalformed},
		{"credentials rejected: needs reauth", aliceReady, CredentialsRejected{}, aliceFailed, []Effect{eff(StopSync, alice)}, nil},
		{"credentials rejected sync off", aliceReadyNoSync, CredentialsRejected{},
			with(aliceReadyNoSync, func(s *State) { s.Status = LoginFailed }), nil, nil},
		{"credentials rejected not verified", aliceUnverified, CredentialsRejected{},
			with(aliceUnverified, func(s *State) { s.Status = LoginFailed }), nil, nil},
		{"credentials rejected again", aliceFailed, CredentialsRejected{}, aliceFailed, nil, nil},
		{"credentials rejected signed out", signedOut, CredentialsRejected{}, signedOut, nil, ErrNotSignedIn},
		{"new token resumes", aliceFailed, TokenArrived{Credentials: newTok}, aliceReady,
			[]Effect{store(alice, "alice@example.com", true, newTok), eff(Provision, alice), eff(StartSync, alice)}, nil},
		{"new token while ready", aliceReady, TokenArrived{Credentials: newTok}, aliceReady,
			[]Effect{store(alice, "alice@example.com", true, newTok)}, nil},
		{"new token verifies", aliceUnverified, TokenArrived{Credentials: newTok, Verified: &yes},
			with(aliceUnverified, func(s *State) { s.Status = SignedIn; s.User = user(alice, "alice@example.com", true) }),
			[]Effect{store(alice, "alice@example.com", true, newTok), eff(Provision, alice), eff(StartSync, alice)}, nil},
		{"new token signed out", signedOut, TokenArrived{Credentials: newTok}, signedOut, nil, ErrNotSignedIn},
		{"sync on", aliceReadyNoSync, SetSync{On: true}, aliceReady, []Effect{eff(Provision, alice), eff(StartSync, alice)}, nil},
		{"sync off", aliceReady, SetSync{On: false}, with(aliceReady, func(s *State) { s.Sync = false }), []Effect{eff(StopSync, alice)}, nil},
		{"sync on again", aliceReady, SetSync{On: true}, aliceReady, nil, nil},
		{"sync on while not verified waits", with(aliceUnverified, func(s *State) { s.Sync = false; s.SyncedContactsOf = "" }), SetSync{On: true}, aliceUnverified, nil, nil},
		{"sync on after failure waits", with(aliceFailed, func(s *State) { s.Sync = false }), SetSync{On: true}, aliceFailed, nil, nil},
		{"sync signed out", signedOut, SetSync{On: true}, signedOut, nil, ErrNotSignedIn},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, effects, err := machine.Apply(c.from, c.in)
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("state:\n got %+v user %+v\nwant %+v user %+v", got, got.User, c.want, c.want.User)
			}
			if !reflect.DeepEqual(effects, c.effects) {
				t.Errorf("effects:\n got %+v\nwant %+v", effects, c.effects)
			}
		})
	}
}

// A whole oauth flow: the exchange effect's request comes back in the event and decides sync.
func TestOAuthFlow(t *testing.T) {
	s, _, _ := machine.HandleJSON(signedOut, msg("fxaccounts:fxa_status", `{}`))
	s, _, effects := machine.HandleJSON(s, msg("fxaccounts:oauth_login", `{"code":"c","state":"s"}`))
	if len(effects) != 1 || effects[0].Kind != ExchangeCode {
		t.Fatalf("effects %+v", effects)
	}
	s, _, err := machine.Apply(s, CodeExchanged{UID: bob, Email: "bob@example.com", Verified: true, Request: effects[0].Request})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != SignedIn || s.Sync {
		t.Errorf("a multiService client asking for no service: got %s sync %v, want signed_in without sync", s.Status, s.Sync)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	_, reply, effects := machine.HandleJSON(signedOut, login(alice, "alice@example.com", true, `,"keyFetchToken":"kft-secret"`))
	b, _ := json.Marshal(reply)
	e, _ := json.Marshal(effects)
	for _, out := range []string{string(b), string(e), strings.Join([]string{
		// %v and %#v of an effect, as a log line or a test failure would print it.
		sprint("%v", effects), sprint("%#v", effects), sprint("%+v", effects)}, " ")} {
		if strings.Contains(out, "kft-secret") || strings.Contains(out, `"tok"`) {
			t.Errorf("a token leaked: %s", out)
		}
	}
	if effects[0].Credentials.KeyFetchToken.Reveal() != "kft-secret" {
		t.Errorf("Reveal lost the token")
	}
}

package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Command names a WebChannel message, as Firefox's FxAccountsWebChannel handler names them.
type Command string

const (
	CmdFxaStatus      Command = "fxaccounts:fxa_status"
	CmdCanLinkAccount Command = "fxaccounts:can_link_account"
	CmdLogin          Command = "fxaccounts:login"
	CmdOAuthLogin     Command = "fxaccounts:oauth_login"
	CmdChangePassword Command = "fxaccounts:change_password"
	CmdLogout         Command = "fxaccounts:logout"
	CmdDelete         Command = "fxaccounts:delete"
)

// MaxMessageSize bounds a message: anything larger is refused before it is parsed.
const MaxMessageSize = 64 << 10

// Limits on fields, so a valid message stays small in the state and in effects.
const (
	maxIDLen     = 256  // messageId, as JSON text
	maxEmailLen  = 254  // RFC 5321's path limit
	maxSecretLen = 8192 // tokens, keys, codes: JWTs with many claims stay well under
	maxFieldLen  = 1024 // service, context
	maxEngines   = 64
	maxEngineLen = 64
)

// uidPattern admits FxA's lowercase hex uids and the plain names a development provider may mint for; no
// spaces, slashes or controls, so a uid is safe in a path or a log line.
var uidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

var (
	// ErrTooLarge: the message is over MaxMessageSize.
	ErrTooLarge = errors.New("message over 64 KiB")
	// ErrUnknownCommand: the command is not one this device handles.
	ErrUnknownCommand = errors.New("unrecognized command")
	// ErrMalformed: not JSON, a field of the wrong type, a required field missing or a value out of bounds.
	ErrMalformed = errors.New("malformed message")
)

// DecodeError is a message Decode refused, with as much of its envelope as could be read, so the reply can
// still echo the command and messageId.
type DecodeError struct {
	Command   Command
	MessageID MessageID
	Err       error // wraps ErrTooLarge, ErrUnknownCommand or ErrMalformed
}

func (e *DecodeError) Error() string { return "account: " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// MessageID is the message's messageId as its JSON text (a string or a number), echoed verbatim in the reply.
type MessageID string

// Message is one decoded and validated WebChannel message. Data holds the command's payload: *StatusData,
// *CanLinkData, *LoginData, *OAuthLoginData, *ChangePasswordData or *LogoutData (logout and delete).
type Message struct {
	Command   Command
	MessageID MessageID
	Data      any
}

// StatusData is fxa_status's input: the flow FxA is about to start. The machine answers the same whatever it
// says; it is kept so a caller can log the flow.
type StatusData struct {
	Service   string
	Context   string
	IsPairing bool
}

// CanLinkData is can_link_account's claimed identity.
type CanLinkData struct {
	UID   string
	Email string // optional
}

// Services is what a login asks this device to enable. Only sync means anything here.
type Services struct {
	Sync *SyncService // nil: sync not requested
}

// SyncService is services.sync: the choose-what-to-sync result. A nil slice is an absent field; the choices
// apply only when both are present.
type SyncService struct {
	OfferedEngines  []string
	DeclinedEngines []string
}

// LoginData is fxaccounts:login's account data. The Offered/DeclinedSyncEngines fields are the legacy flow's
// top-level choose-what-to-sync result, from clients that send no services.
type LoginData struct {
	UID                 string
	Email               string
	Verified            bool
	SessionToken        Secret
	KeyFetchToken       Secret
	UnwrapBKey          Secret
	Services            *Services
	OfferedSyncEngines  []string
	DeclinedSyncEngines []string
}

// OAuthLoginData is fxaccounts:oauth_login's authorization code and state, to be exchanged at the provider's
// token endpoint. UID and Email are optional hints: the exchange says who signed in.
type OAuthLoginData struct {
	Code                Secret
	State               Secret
	UID                 string
	Email               string
	Services            *Services
	OfferedSyncEngines  []string
	DeclinedSyncEngines []string
}

// ChangePasswordData is fxaccounts:change_password's account data with the new session token.
type ChangePasswordData struct {
	UID           string
	Email         string // optional: the email as FxA has it now
	SessionToken  Secret
	KeyFetchToken Secret
	UnwrapBKey    Secret
}

// LogoutData is the input of logout and delete. KeepLocalCopy is contactsync's own flag: keep the account's
// contacts in the store instead of deleting them.
type LogoutData struct {
	UID           string
	KeepLocalCopy bool
}

// The wire forms: pointers tell a missing (or null) field from a zero one.
type (
	wireEnvelope struct {
		Command   *string         `json:"command"`
		MessageID json.RawMessage `json:"messageId"`
		Data      json.RawMessage `json:"data"`
	}
	wireStatus struct {
		Service   *string `json:"service,omitempty"`
		Context   *string `json:"context,omitempty"`
		IsPairing *bool   `json:"isPairing,omitempty"`
	}
	wireCanLink struct {
		UID   *string `json:"uid"`
		Email *string `json:"email,omitempty"`
	}
	wireSync struct {
		OfferedEngines  *[]string `json:"offeredEngines,omitempty"`
		DeclinedEngines *[]string `json:"declinedEngines,omitempty"`
	}
	wireServices struct {
		Sync *wireSync `json:"sync,omitempty"`
	}
	wireLogin struct {
		UID                 *string       `json:"uid"`
		Email               *string       `json:"email"`
		Verified            *bool         `json:"verified"`
		SessionToken        *string       `json:"sessionToken,omitempty"`
		KeyFetchToken       *string       `json:"keyFetchToken,omitempty"`
		UnwrapBKey          *string       `json:"unwrapBKey,omitempty"`
		Services            *wireServices `json:"services,omitempty"`
		OfferedSyncEngines  *[]string     `json:"offeredSyncEngines,omitempty"`
		DeclinedSyncEngines *[]string     `json:"declinedSyncEngines,omitempty"`
	}
	wireOAuthLogin struct {
		Code                *string       `json:"code"`
		State               *string       `json:"state"`
		UID                 *string       `json:"uid,omitempty"`
		Email               *string       `json:"email,omitempty"`
		Services            *wireServices `json:"services,omitempty"`
		OfferedSyncEngines  *[]string     `json:"offeredSyncEngines,omitempty"`
		DeclinedSyncEngines *[]string     `json:"declinedSyncEngines,omitempty"`
	}
	wireChangePassword struct {
		UID           *string `json:"uid"`
		Email         *string `json:"email,omitempty"`
		SessionToken  *string `json:"sessionToken,omitempty"`
		KeyFetchToken *string `json:"keyFetchToken,omitempty"`
		UnwrapBKey    *string `json:"unwrapBKey,omitempty"`
	}
	wireLogout struct {
		UID           *string `json:"uid"`
		KeepLocalCopy *bool   `json:"keepLocalCopy,omitempty"`
	}
)

// Decode reads and validates one WebChannel message. A refused message comes back as a *DecodeError.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxMessageSize {
		return Message{}, &DecodeError{Err: ErrTooLarge}
	}
	var env wireEnvelope
	if err := strictUnmarshal(b, &env); err != nil {
		return Message{}, malformed(Message{}, "not a JSON object: %v", err)
	}
	var m Message
	// Read the messageId first, so even a refusal of the command can echo it.
	if id, err := decodeID(env.MessageID); err == nil {
		m.MessageID = id
	}
	if env.Command == nil {
		return Message{}, malformed(m, "missing command")
	}
	m.Command = Command(*env.Command)
	if len(env.MessageID) == 0 || isNull(env.MessageID) {
		return Message{}, malformed(m, "missing messageId")
	}
	if _, err := decodeID(env.MessageID); err != nil {
		return Message{}, malformed(m, "messageId: %v", err)
	}
	data, err := decodeData(m.Command, env.Data)
	if err != nil {
		if errors.Is(err, ErrUnknownCommand) {
			return Message{}, &DecodeError{Command: m.Command, MessageID: m.MessageID, Err: err}
		}
		return Message{}, malformed(m, "%s: %v", m.Command, err)
	}
	m.Data = data
	return m, nil
}

func malformed(m Message, format string, args ...any) error {
	return &DecodeError{Command: m.Command, MessageID: m.MessageID,
		Err: fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))}
}

// strictUnmarshal decodes a JSON object and refuses trailing data, which json.Unmarshal also does, and a
// top-level value that is not an object, which it does not.
func strictUnmarshal(b []byte, v any) error {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return errors.New("want an object")
	}
	return json.Unmarshal(b, v)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func decodeID(raw json.RawMessage) (MessageID, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", err
	}
	c := buf.Bytes()
	if len(c) == 0 || len(c) > maxIDLen {
		return "", fmt.Errorf("want at most %d bytes", maxIDLen)
	}
	switch {
	case c[0] == '"':
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return "", err
		}
	case c[0] == '-' || (c[0] >= '0' && c[0] <= '9'):
	default:
		return "", errors.New("want a string or a number")
	}
	return MessageID(c), nil
}

func decodeData(cmd Command, raw json.RawMessage) (any, error) {
	switch cmd {
	case CmdFxaStatus, CmdCanLinkAccount, CmdLogin, CmdOAuthLogin, CmdChangePassword, CmdLogout, CmdDelete:
	default:
		return nil, ErrUnknownCommand
	}
	if len(raw) == 0 || isNull(raw) {
		if cmd == CmdFxaStatus { // FxA may send a status request with no data
			return &StatusData{}, nil
		}
		return nil, errors.New("missing data")
	}
	var v validator
	switch cmd {
	case CmdFxaStatus:
		var w wireStatus
		if err := strictUnmarshal(raw, &w); err != nil {
			return nil, err
		}
		d := &StatusData{Service: v.str("service", w.Service, false, maxFieldLen),
			Context: v.str("context", w.Context, false, maxFieldLen), IsPairing: w.IsPairing != nil && *w.IsPairing}
		return d, v.err
	case CmdCanLinkAccount:
		var w wireCanLink
		if err := strictUnmarshal(raw, &w); err != nil {
			return nil, err
		}
		d := &CanLinkData{UID: v.uid("uid", w.UID, true), Email: v.email("email", w.Email, false)}
		return d, v.err
	case CmdLogin:
		var w wireLogin
		if err := strictUnmarshal(raw, &w); err != nil {
			return nil, err
		}
		d := &LoginData{UID: v.uid("uid", w.UID, true), Email: v.email("email", w.Email, true),
			SessionToken:        Secret(v.str("sessionToken", w.SessionToken, false, maxSecretLen)),
			KeyFetchToken:       Secret(v.str("keyFetchToken", w.KeyFetchToken, false, maxSecretLen)),
			UnwrapBKey:          Secret(v.str("unwrapBKey", w.UnwrapBKey, false, maxSecretLen)),
			Services:            v.services(w.Services),
			OfferedSyncEngines:  v.engines("offeredSyncEngines", w.OfferedSyncEngines),
			DeclinedSyncEngines: v.engines("declinedSyncEngines", w.DeclinedSyncEngines)}
		if w.Verified == nil {
			v.fail("missing verified")
		} else {
			d.Verified = *w.Verified
		}
		return d, v.err
	case CmdOAuthLogin:
		var w wireOAuthLogin
		if err := strictUnmarshal(raw, &w); err != nil {
			return nil, err
		}
		d := &OAuthLoginData{Code: Secret(v.str("code", w.Code, true, maxSecretLen)),
			State: Secret(v.str("state", w.State, true, maxSecretLen)),
			UID:   v.uid("uid", w.UID, false), Email: v.email("email", w.Email, false),
			Services:            v.services(w.Services),
			OfferedSyncEngines:  v.engines("offeredSyncEngines", w.OfferedSyncEngines),
			DeclinedSyncEngines: v.engines("declinedSyncEngines", w.DeclinedSyncEngines)}
		return d, v.err
	case CmdChangePassword:
		var w wireChangePassword
		if err := strictUnmarshal(raw, &w); err != nil {
			return nil, err
		}
		d := &ChangePasswordData{UID: v.uid("uid", w.UID, true), Email: v.email("email", w.Email, false),
			SessionToken:  Secret(v.str("sessionToken", w.SessionToken, false, maxSecretLen)),
			KeyFetchToken: Secret(v.str("keyFetchToken", w.KeyFetchToken, false, maxSecretLen)),
			UnwrapBKey:    Secret(v.str("unwrapBKey", w.UnwrapBKey, false, maxSecretLen))}
		return d, v.err
	default: // logout, delete
		var w wireLogout
		if err := strictUnmarshal(raw, &w); err != nil {
			return nil, err
		}
		d := &LogoutData{UID: v.uid("uid", w.UID, true), KeepLocalCopy: w.KeepLocalCopy != nil && *w.KeepLocalCopy}
		return d, v.err
	}
}

// validator keeps the first problem, so one pass over the fields reads like the message's schema.
type validator struct{ err error }

func (v *validator) fail(format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf(format, args...)
	}
}

func (v *validator) str(name string, p *string, required bool, limit int) string {
	switch {
	case p == nil:
		if required {
			v.fail("missing %s", name)
		}
		return ""
	case required && *p == "":
		v.fail("empty %s", name)
	case len(*p) > limit:
		v.fail("%s over %d bytes", name, limit)
	}
	return *p
}

func (v *validator) uid(name string, p *string, required bool) string {
	s := v.str(name, p, required, 128)
	if p != nil && !uidPattern.MatchString(s) {
		v.fail("%s: want 1 to 128 letters, digits, '-' or '_'", name)
	}
	return s
}

func (v *validator) email(name string, p *string, required bool) string {
	s := v.str(name, p, required, maxEmailLen)
	if p != nil && (!strings.Contains(s, "@") || strings.ContainsAny(s, " \t\r\n")) {
		v.fail("%s: not an email address", name)
	}
	return s
}

func (v *validator) engines(name string, p *[]string) []string {
	if p == nil {
		return nil
	}
	if len(*p) > maxEngines {
		v.fail("%s: over %d engines", name, maxEngines)
	}
	for _, e := range *p {
		if e == "" || len(e) > maxEngineLen {
			v.fail("%s: an engine name must have 1 to %d bytes", name, maxEngineLen)
		}
	}
	return *p
}

func (v *validator) services(w *wireServices) *Services {
	if w == nil {
		return nil
	}
	s := &Services{}
	if w.Sync != nil {
		s.Sync = &SyncService{OfferedEngines: v.engines("services.sync.offeredEngines", w.Sync.OfferedEngines),
			DeclinedEngines: v.engines("services.sync.declinedEngines", w.Sync.DeclinedEngines)}
	}
	return s
}

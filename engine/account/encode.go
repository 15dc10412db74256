package account

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Encode writes m back as WebChannel JSON, secrets included: it is how a test or a client speaks to the
// machine, and Decode(Encode(m)) gives m again.
func (m Message) Encode() ([]byte, error) {
	var data any
	switch d := m.Data.(type) {
	case nil:
	case *StatusData:
		data = wireStatus{Service: optStr(d.Service), Context: optStr(d.Context), IsPairing: optBool(d.IsPairing)}
	case *CanLinkData:
		data = wireCanLink{UID: &d.UID, Email: optStr(d.Email)}
	case *LoginData:
		data = wireLogin{UID: &d.UID, Email: &d.Email, Verified: &d.Verified,
			SessionToken: optStr(d.SessionToken.Reveal()), KeyFetchToken: optStr(d.KeyFetchToken.Reveal()),
			UnwrapBKey: optStr(d.UnwrapBKey.Reveal()), Services: wireServicesOf(d.Services),
			OfferedSyncEngines: optList(d.OfferedSyncEngines), DeclinedSyncEngines: optList(d.DeclinedSyncEngines)}
	case *OAuthLoginData:
		code, state := d.Code.Reveal(), d.State.Reveal()
		data = wireOAuthLogin{Code: &code, State: &state, UID: optStr(d.UID), Email: optStr(d.Email),
			Services:           wireServicesOf(d.Services),
			OfferedSyncEngines: optList(d.OfferedSyncEngines), DeclinedSyncEngines: optList(d.DeclinedSyncEngines)}
	case *ChangePasswordData:
		data = wireChangePassword{UID: &d.UID, Email: optStr(d.Email), SessionToken: optStr(d.SessionToken.Reveal()),
			KeyFetchToken: optStr(d.KeyFetchToken.Reveal()), UnwrapBKey: optStr(d.UnwrapBKey.Reveal())}
	case *LogoutData:
		data = wireLogout{UID: &d.UID, KeepLocalCopy: optBool(d.KeepLocalCopy)}
	default:
		return nil, fmt.Errorf("account: encode %s: unknown data %T", m.Command, m.Data)
	}
	// No HTML escaping: the messageId is echoed as its own JSON text, so "&" must stay "&".
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Command   Command         `json:"command"`
		MessageID json.RawMessage `json:"messageId,omitempty"`
		Data      any             `json:"data,omitempty"`
	}{m.Command, json.RawMessage(m.MessageID), data})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optBool(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

func optList(l []string) *[]string {
	if l == nil {
		return nil
	}
	return &l
}

func wireServicesOf(s *Services) *wireServices {
	if s == nil {
		return nil
	}
	w := &wireServices{}
	if s.Sync != nil {
		w.Sync = &wireSync{OfferedEngines: optList(s.Sync.OfferedEngines), DeclinedEngines: optList(s.Sync.DeclinedEngines)}
	}
	return w
}

package account

import (
	"encoding/json"
	"reflect"
	"testing"
)

var fuzzSeeds = []string{
	`{"command":"fxaccounts:fxa_status","messageId":"1","data":{"service":"sync","context":"fx_desktop_v3","isPairing":false}}`,
	`{"command":"fxaccounts:can_link_account","messageId":2,"data":{"uid":"u","email":"a@b"}}`,
	`{"command":"fxaccounts:login","messageId":"3","data":{"uid":"u","email":"a@b","verified":true,"sessionToken":"t","services":{"sync":{"offeredEngines":["contacts"],"declinedEngines":["contacts"]}}}}`,
	`{"command":"fxaccounts:login","messageId":"3","data":{"uid":"u","email":"a@b","verified":false,"offeredSyncEngines":[],"declinedSyncEngines":[]}}`,
	`{"command":"fxaccounts:oauth_login","messageId":"4","data":{"code":"c","state":"s","services":{}}}`,
	`{"command":"fxaccounts:change_password","messageId":"5","data":{"uid":"u","sessionToken":"n"}}`,
	`{"command":"fxaccounts:logout","messageId":"6","data":{"uid":"u","keepLocalCopy":true}}`,
	`{"command":"fxaccounts:delete","messageId":-7e3,"data":{"uid":"u"}}`,
	`{"command":"fxaccounts:nope","messageId":"8"}`,
	`{"command":"fxaccounts:logout","messageId":"9","data":{"uid":"a/b"}}`,
}

// FuzzDecode: Decode never panics, and what it accepts re-encodes to a message that decodes to the same value.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("encode %+v: %v", m, err)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip changed the message:\n%#v\n%#v", m, again)
		}
	})
}

// FuzzMachine feeds any message to the machine from every state: it never panics, the reply always echoes
// the message's command and messageId, and a refused message changes nothing.
func FuzzMachine(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	states := []State{signedOut, signedOutModern, aliceReady, aliceReadyNoSync, aliceUnverified, aliceFailed, aliceLeftContacts}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		for _, s := range states {
			got, reply, effects := machine.HandleJSON(s, b)
			if err != nil {
				if !reflect.DeepEqual(got, s) || effects != nil {
					t.Fatalf("a refused message changed %+v to %+v (effects %+v)", s, got, effects)
				}
				continue
			}
			if reply.Command != m.Command || reply.MessageID != m.MessageID {
				t.Fatalf("reply %s %s, message %s %s", reply.Command, reply.MessageID, m.Command, m.MessageID)
			}
			if _, err := json.Marshal(reply); err != nil {
				t.Fatalf("reply does not encode: %v", err)
			}
			if (got.User == nil) != (got.Status == NotConfigured) {
				t.Fatalf("state %s with user %+v", got.Status, got.User)
			}
		}
	})
}

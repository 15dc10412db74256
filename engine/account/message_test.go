package account

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeRefuses(t *testing.T) {
	big := `{"command":"fxaccounts:fxa_status","messageId":"m","data":{"context":"` + strings.Repeat("x", MaxMessageSize) + `"}}`
	cases := []struct {
		name, in string
		want     error
	}{
		{"over 64 KiB", big, ErrTooLarge},
		{"not JSON", `{"command":`, ErrMalformed},
		{"not an object", `["fxaccounts:fxa_status"]`, ErrMalformed},
		{"trailing data", `{"command":"fxaccounts:fxa_status","messageId":"m"} {}`, ErrMalformed},
		{"missing command", `{"messageId":"m","data":{}}`, ErrMalformed},
		{"command not a string", `{"command":7,"messageId":"m","data":{}}`, ErrMalformed},
		{"unknown command", `{"command":"fxaccounts:pair_heartbeat","messageId":"m","data":{}}`, ErrUnknownCommand},
		{"missing messageId", `{"command":"fxaccounts:fxa_status","data":{}}`, ErrMalformed},
		{"null messageId", `{"command":"fxaccounts:fxa_status","messageId":null}`, ErrMalformed},
		{"messageId an object", `{"command":"fxaccounts:fxa_status","messageId":{}}`, ErrMalformed},
		{"messageId too long", `{"command":"fxaccounts:fxa_status","messageId":"` + strings.Repeat("9", 300) + `"}`, ErrMalformed},
		{"data not an object", `{"command":"fxaccounts:logout","messageId":"m","data":"x"}`, ErrMalformed},
		{"missing data", `{"command":"fxaccounts:logout","messageId":"m"}`, ErrMalformed},
		{"status field of the wrong type", `{"command":"fxaccounts:fxa_status","messageId":"m","data":{"isPairing":"no"}}`, ErrMalformed},
		{"can_link without uid", `{"command":"fxaccounts:can_link_account","messageId":"m","data":{"email":"a@b"}}`, ErrMalformed},
		{"uid with a slash", `{"command":"fxaccounts:logout","messageId":"m","data":{"uid":"../x"}}`, ErrMalformed},
		{"empty uid", `{"command":"fxaccounts:logout","messageId":"m","data":{"uid":""}}`, ErrMalformed},
		{"uid a number", `{"command":"fxaccounts:delete","messageId":"m","data":{"uid":5}}`, ErrMalformed},
		{"login without verified", `{"command":"fxaccounts:login","messageId":"m","data":{"uid":"u","email":"a@b"}}`, ErrMalformed},
		{"login verified a string", `{"command":"fxaccounts:login","messageId":"m","data":{"uid":"u","email":"a@b","verified":"true"}}`, ErrMalformed},
		{"login email not an address", `{"command":"fxaccounts:login","messageId":"m","data":{"uid":"u","email":"ab","verified":true}}`, ErrMalformed},
		{"login sessionToken a number", `{"command":"fxaccounts:login","messageId":"m","data":{"uid":"u","email":"a@b","verified":true,"sessionToken":1}}`, ErrMalformed},
		{"login services not an object", `{"command":"fxaccounts:login","messageId":"m","data":{"uid":"u","email":"a@b","verified":true,"services":[]}}`, ErrMalformed},
		{"login declinedEngines not a list", `{"command":"fxaccounts:login","messageId":"m","data":{"uid":"u","email":"a@b","verified":true,"services":{"sync":{"declinedEngines":"contacts"}}}}`, ErrMalformed},
		{"login empty engine name", `{"command":"fxaccounts:login","messageId":"m","data":{"uid":"u","email":"a@b","verified":true,"offeredSyncEngines":[""]}}`, ErrMalformed},
		{"oauth without code", `{"command":"fxaccounts:oauth_login","messageId":"m","data":{"state":"s"}}`, ErrMalformed},
		{"oauth without state", `{"command":"fxaccounts:oauth_login","messageId":"m","data":{"code":"c"}}`, ErrMalformed},
		{"oauth empty code", `{"command":"fxaccounts:oauth_login","messageId":"m","data":{"code":"","state":"s"}}`, ErrMalformed},
		{"change_password without uid", `{"command":"fxaccounts:change_password","messageId":"m","data":{}}`, ErrMalformed},
		{"logout keepLocalCopy a string", `{"command":"fxaccounts:logout","messageId":"m","data":{"uid":"u","keepLocalCopy":"yes"}}`, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.in))
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode: %v, want %v", err, c.want)
			}
			// A refused message changes nothing, from any state, and is answered with an error.
			for _, s := range []State{signedOut, aliceReady, aliceFailed, aliceUnverified} {
				got, reply, effects := machine.HandleJSON(s, []byte(c.in))
				if !reflect.DeepEqual(got, s) || effects != nil {
					t.Errorf("from %s: state %+v effects %+v", s.Status, got, effects)
				}
				if _, isErr := reply.Data.(ErrorReply); !isErr {
					t.Errorf("from %s: reply %+v is not an error", s.Status, reply.Data)
				}
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	in := `{"command":"fxaccounts:login","messageId":12.5,"data":{"uid":"u1","email":"a@example.com","verified":true,` +
		`"sessionToken":"s","unknownField":{"x":1},"services":{"sync":{"offeredEngines":["contacts"],"declinedEngines":[]}}}}`
	m, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Message{Command: CmdLogin, MessageID: "12.5", Data: &LoginData{UID: "u1", Email: "a@example.com", Verified: true,
		SessionToken: "s", Services: &Services{Sync: &SyncService{OfferedEngines: []string{"contacts"}, DeclinedEngines: []string{}}}}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %#v\nwant %#v", m.Data, want.Data)
	}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode(b)
	if err != nil || !reflect.DeepEqual(again, m) {
		t.Errorf("re-decoded %+v (%v), want %+v", again, err, m)
	}
}

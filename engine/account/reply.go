package account

import "encoding/json"

// UnrecognizedCommand is the error Firefox's handler answers an unknown command with, as a bare string.
const UnrecognizedCommand = "Unrecognized FxAccountsWebChannel command"

// Reply answers one message: its command and messageId echoed, and Data, which a failure makes
// {"error": {"message": …}} (or, for an unknown command, {"error": UnrecognizedCommand}).
type Reply struct {
	Command   Command
	MessageID MessageID
	Data      any
}

// MarshalJSON writes the reply as Firefox does: {command, messageId, data}.
func (r Reply) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Command   Command         `json:"command"`
		MessageID json.RawMessage `json:"messageId,omitempty"`
		Data      any             `json:"data"`
	}{r.Command, json.RawMessage(r.MessageID), r.Data})
}

// StatusReply is fxa_status's answer. SignedInUser carries no session token, unlike Firefox's: a token never
// leaves the credential store by way of a reply.
type StatusReply struct {
	SignedInUser *User        `json:"signedInUser"`
	ClientID     string       `json:"clientId"`
	Capabilities Capabilities `json:"capabilities"`
}

// Capabilities tell FxA which flow to run: the sync-optional one (multiService), choose-what-to-sync with the
// contacts engine only, keys optional (contacts sync needs no sync keys), and a uid in can_link_account.
type Capabilities struct {
	Engines           []string `json:"engines"`
	MultiService      bool     `json:"multiService"`
	Pairing           bool     `json:"pairing"`
	ChooseWhatToSync  bool     `json:"choose_what_to_sync"`
	KeysOptional      bool     `json:"keys_optional"`
	CanLinkAccountUID bool     `json:"can_link_account_uid"`
}

// OKReply answers can_link_account and the commands that succeeded.
type OKReply struct {
	OK bool `json:"ok"`
}

// ErrorReply is a failure; Error is an ErrorMessage, or the bare UnrecognizedCommand string.
type ErrorReply struct {
	Error any `json:"error"`
}

// ErrorMessage is the {message} of a failure.
type ErrorMessage struct {
	Message string `json:"message"`
}

func failure(msg Message, err error) Reply {
	return Reply{Command: msg.Command, MessageID: msg.MessageID, Data: ErrorReply{Error: ErrorMessage{Message: err.Error()}}}
}

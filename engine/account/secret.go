package account

// Secret is a token or key that must never be printed or logged: its String, GoString and JSON forms are
// redacted, so an Effect can be logged or compared in a test failure without leaking one.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the code that hands it to the credential store or the server.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v (and test failure output) from showing the secret.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalJSON redacts, so a Secret never reaches a reply, a status line or a log by way of encoding/json.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

package carddav

import "testing"

// TestHTTPErrorSaysStatusOnce: a body that begins with the status line, as many servers write it, does not
// repeat the status in the message.
func TestHTTPErrorSaysStatusOnce(t *testing.T) {
	for _, tc := range []struct {
		detail, want string
	}{
		{"401 Unauthorized: wrong user name or password", `carddav: PROPFIND /: 401 Unauthorized: "wrong user name or password"`},
		{"Unauthorized", `carddav: PROPFIND /: 401 Unauthorized`},
		{"401 Unauthorized", `carddav: PROPFIND /: 401 Unauthorized`},
		{"Access to the requested resource forbidden.", `carddav: PROPFIND /: 401 Unauthorized: "Access to the requested resource forbidden."`},
		{"401 is not for you", `carddav: PROPFIND /: 401 Unauthorized: "401 is not for you"`},
	} {
		e := &HTTPError{Method: "PROPFIND", Href: "/", Status: 401, Detail: tc.detail}
		if got := e.Error(); got != tc.want {
			t.Errorf("Detail %q:\n got %s\nwant %s", tc.detail, got, tc.want)
		}
	}
}

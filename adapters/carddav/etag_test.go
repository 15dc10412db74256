package carddav

import "testing"

func TestETag(t *testing.T) {
	cases := []struct {
		name    string
		etag    ETag
		weak    bool
		ifMatch string
	}{
		{"strong", `"abc"`, false, `"abc"`},
		{"weak", `W/"abc"`, true, `"abc"`},
		{"strong whose value starts with W/", `"W/abc"`, false, `"W/abc"`},
		{"unquoted, as some servers send", `abc`, false, `abc`},
		{"empty value", `""`, false, `""`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.etag.Weak(); got != tc.weak {
				t.Errorf("Weak() = %v; want %v", got, tc.weak)
			}
			if got := tc.etag.ifMatch(); got != tc.ifMatch {
				t.Errorf("ifMatch() = %q; want %q", got, tc.ifMatch)
			}
		})
	}
}

func TestETagEqual(t *testing.T) {
	cases := []struct {
		name string
		a, b ETag
		want bool
	}{
		{"same strong", `"1"`, `"1"`, true},
		{"weak and strong of one value", `W/"1"`, `"1"`, true},
		{"both weak", `W/"1"`, `W/"1"`, true},
		{"different", `"1"`, `"2"`, false},
		{"strong W/ value is not the weak one", `"W/1"`, `W/"1"`, false},
		{"empty never equals", ``, ``, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Equal(tc.b); got != tc.want {
				t.Errorf("%s.Equal(%s) = %v; want %v", tc.a, tc.b, got, tc.want)
			}
			if got := tc.b.Equal(tc.a); got != tc.want {
				t.Errorf("Equal is not symmetric for %s, %s", tc.a, tc.b)
			}
		})
	}
}

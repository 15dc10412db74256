package changelog

import (
	"errors"
	"testing"
)

func TestOrigin(t *testing.T) {
	tests := []struct {
		origin   Origin
		valid    bool
		remote   string
		isRemote bool
	}{
		{Local, true, "", false},
		{FromRemote("home"), true, "home", true},
		{FromRemote("a,b:c"), true, "a,b:c", true},
		{FromRemote(""), false, "", false},
		{FromRemote("\xff"), false, "\xff", true},
		{"", false, "", false},
		{"LOCAL", false, "", false},
		{"remote", false, "", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.origin), func(t *testing.T) {
			if err := tt.origin.Validate(); (err == nil) != tt.valid || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("Validate = %v, want valid %v", err, tt.valid)
			}
			if name, ok := tt.origin.RemoteName(); name != tt.remote || ok != tt.isRemote {
				t.Errorf("RemoteName = %q, %v; want %q, %v", name, ok, tt.remote, tt.isRemote)
			}
		})
	}
}

func TestTaskOnlyFrom(t *testing.T) {
	home := FromRemote("home")
	tests := []struct {
		name    string
		origins []Origin
		want    bool
	}{
		{"only that remote", []Origin{home}, true},
		{"also local", []Origin{Local, home}, false},
		{"another remote", []Origin{FromRemote("work")}, false},
		{"unknown history", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Task{Op: OpUpdate, Origins: tt.origins}).OnlyFrom(home); got != tt.want {
				t.Errorf("OnlyFrom(home) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpString(t *testing.T) {
	want := map[Op]string{OpAdd: "add", OpUpdate: "update", OpRemove: "remove", OpClear: "clear", OpDone: "done", 0: "Op(0)", 9: "Op(9)"}
	for op, s := range want {
		if op.String() != s {
			t.Errorf("Op(%d).String() = %q, want %q", uint8(op), op.String(), s)
		}
	}
}

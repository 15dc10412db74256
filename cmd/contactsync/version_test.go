package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "contactsync (devel)"},
		{"nothing known", &debug.BuildInfo{}, "contactsync (devel)"},
		{"a release", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}},
			"contactsync v1.2.0 (go1.26.0)"},
		{"a clean build from git", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "6709fd6a0c"}, {Key: "vcs.time", Value: "2026-12-02T17:31:00Z"}, {Key: "vcs.modified", Value: "false"},
		}}, "contactsync (devel) (commit 6709fd6a0c, 2026-12-02T17:31:00Z, go1.26.0)"},
		{"a dirty work tree", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261202173100-6709fd6a0c12+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "6709fd6a0c12"}, {Key: "vcs.time", Value: "2026-12-02T17:31:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}, "contactsync v0.0.0-20261202173100-6709fd6a0c12+dirty (commit 6709fd6a0c12, dirty, 2026-12-02T17:31:00Z, go1.26.0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionString(tc.info); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	c := newCLI(t)
	flag := c.ok("", "--version")
	cmd := c.ok("", "version")
	if flag != cmd || !strings.HasPrefix(flag, "contactsync ") || strings.Count(flag, "\n") != 1 {
		t.Fatalf("--version %q, version %q; want the same one line", flag, cmd)
	}
	info, _ := debug.ReadBuildInfo()
	if want := versionString(info) + "\n"; flag != want {
		t.Fatalf("--version %q, want %q", flag, want)
	}
	c.usageError(t, "version takes no arguments", "version", "extra")
}

// TestVersionOfABuild builds the command as a user does, from a git checkout of this repository's HEAD with an
// uncommitted file in it, and checks that --version names that commit and says the tree was dirty. It builds
// in a clone because the Go toolchain stamps nothing in a linked worktree, whose .git is a file
// (golang/go#58218), and it asks for the stamp because the environment may turn it off (GOFLAGS).
func TestVersionOfABuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command; skipped in -short mode")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is not installed")
		}
		t.Skip("git is not installed")
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(string(head))
	clone := filepath.Join(t.TempDir(), "src")
	for _, args := range [][]string{
		{"clone", "--quiet", "--shared", "--no-checkout", strings.TrimSpace(string(top)), clone},
		{"-C", clone, "checkout", "--quiet", "--detach", commit},
	} {
		if out, err := exec.Command(git, args...).CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(clone, "uncommitted.txt"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "contactsync")
	build := exec.Command(gobin, "build", "-buildvcs=true", "-o", bin, "./cmd/contactsync")
	build.Dir = clone
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("contactsync --version: %v", err)
	}
	if got := string(out); !strings.Contains(got, "(commit "+commit+", dirty, ") {
		t.Errorf("--version %q; want it to name commit %s, dirty", got, commit)
	}
}

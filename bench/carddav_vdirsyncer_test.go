package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vdirsyncer is the peer to beat: Debian's vdirsyncer 0.19 syncing a filesystem vdir (one .vcf file per
// contact) with one address book, configured in a temporary directory of its own.
type vdirsyncer struct {
	bin, config, vdir string
}

// newVdirsyncer writes cards into a fresh vdir (as UID.vcf) in dir, configures the pair with the address book
// at abURL and runs `vdirsyncer discover`, which is setup and not timed.
func newVdirsyncer(ctx context.Context, b *testing.B, dir, abURL, user, password string, uids []string, cards [][]byte) *vdirsyncer {
	b.Helper()
	bin, err := exec.LookPath("vdirsyncer")
	if err != nil {
		msg := "vdirsyncer not installed (apt-get install vdirsyncer, or make deps)"
		if os.Getenv("CI") != "" {
			b.Fatal(msg + "; CI is set, so this is a failure, not a skip")
		}
		b.Skip(msg)
	}
	v := &vdirsyncer{bin: bin, config: filepath.Join(dir, "config"), vdir: filepath.Join(dir, "vdir")}
	if err := os.MkdirAll(v.vdir, 0o700); err != nil {
		b.Fatal(err)
	}
	for i, c := range cards {
		if err := v.write(uids[i], c); err != nil {
			b.Fatal(err)
		}
	}
	var auth string
	if user != "" {
		pw := filepath.Join(dir, "password")
		if err := os.WriteFile(pw, []byte(password), 0o600); err != nil {
			b.Fatal(err)
		}
		auth = fmt.Sprintf("username = %q\npassword.fetch = [\"command\", \"cat\", %q]\n", user, pw)
	}
	conf := fmt.Sprintf(`[general]
status_path = %q

[pair bench]
a = "bench_local"
b = "bench_remote"
collections = null
conflict_resolution = "a wins"

[storage bench_local]
type = "filesystem"
path = %q
fileext = ".vcf"

[storage bench_remote]
type = "carddav"
url = %q
%s`, filepath.Join(dir, "status")+"/", v.vdir+"/", abURL, auth)
	if err := os.WriteFile(v.config, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	if out, err := v.command(ctx, "discover", "bench").CombinedOutput(); err != nil {
		b.Fatalf("vdirsyncer discover: %v\n%s", err, out)
	}
	return v
}

func (v *vdirsyncer) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, v.bin, append([]string{"-c", v.config}, args...)...)
	cmd.Stdin = strings.NewReader("")
	return cmd
}

// sync runs `vdirsyncer sync`, timed from start to exit.
func (v *vdirsyncer) sync(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	out, err := v.command(ctx, "sync").CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		return elapsed, fmt.Errorf("vdirsyncer sync: %w\n%.2000s", err, out)
	}
	return elapsed, nil
}

// write replaces the vdir's file for uid atomically, so vdirsyncer never reads half of it.
func (v *vdirsyncer) write(uid string, card []byte) error {
	tmp := filepath.Join(v.vdir, "."+uid+".tmp")
	if err := os.WriteFile(tmp, card, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(v.vdir, uid+".vcf"))
}

// count returns how many contacts the vdir holds.
func (v *vdirsyncer) count() (int, error) {
	files, err := filepath.Glob(filepath.Join(v.vdir, "*.vcf"))
	return len(files), err
}

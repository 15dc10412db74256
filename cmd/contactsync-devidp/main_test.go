package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/contactsync/contactsync/adapters/fxa"
	"github.com/contactsync/contactsync/adapters/fxa/devidp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const uid = "0123456789abcdef0123456789abcdef"

// lockedBuffer is a bytes.Buffer the serving goroutine and the test may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveInProcess runs `serve args…` until the test ends and returns the URL it printed and its stderr.
func serveInProcess(t *testing.T, args ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		err := Run(ctx, append([]string{"serve"}, args...), Stdio{In: strings.NewReader(""), Out: pw, Err: stderr})
		pw.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if !strings.Contains(stderr.String(), "stopped") {
			t.Errorf("serve did not say it stopped: %s", stderr)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no URL (%v); stderr: %s", err, stderr)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return strings.TrimSpace(line), stderr
}

func run(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return out.String(), errOut.String(), err
}

func TestServeAndMint(t *testing.T) {
	url, stderr := serveInProcess(t)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	if !strings.Contains(stderr.String(), "never production") || !strings.Contains(stderr.String(), url+"/v1/jwks") {
		t.Errorf("serve's banner lacks the warning or the key set: %s", stderr)
	}
	v, err := fxa.NewVerifier(url, url+devidp.JWKSPath, fxa.WithAudience(devidp.DefaultClientID))
	if err != nil {
		t.Fatal(err)
	}

	out, errOut, err := run("mint", "--idp", url, "--uid", uid, "--email", "ada@example.org", "--generation", "4", "--ttl", "10m", "--alg", "ES256")
	if err != nil {
		t.Fatalf("mint: %v (%s)", err, errOut)
	}
	token := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || strings.Count(token, ".") != 2 {
		t.Fatalf("mint printed %q, want one token line", out)
	}
	c, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if c.UID != uid || c.Email != "ada@example.org" || c.Generation != 4 || c.Expiry.Sub(c.IssuedAt) != 10*time.Minute {
		t.Errorf("claims %+v", c)
	}

	path := filepath.Join(t.TempDir(), "token")
	t.Setenv("CONTACTSYNC_DEVIDP", url)
	out, errOut, err = run("mint", "--uid", uid, "--out", path)
	if err != nil || out != "" {
		t.Fatalf("mint --out: %v, stdout %q (%s)", err, out, errOut)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %o, want 600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if _, err := v.Verify(context.Background(), strings.TrimSpace(string(data))); err != nil {
		t.Fatalf("token from --out: %v", err)
	}

	_, _, err = run("mint", "--idp", url, "--uid", "NOT-HEX")
	if err == nil || !strings.Contains(err.Error(), "bad_request") {
		t.Fatalf("mint of a bad uid: %v", err)
	}
}

func TestServeKeepsKeysInTheKeyFile(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys.json")
	url, _ := serveInProcess(t, "--keys", keys)
	fi, err := os.Stat(keys)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o", fi.Mode().Perm())
	}
	out, _, err := run("mint", "--idp", url, "--uid", uid)
	if err != nil {
		t.Fatal(err)
	}
	// A second provider on the same key file publishes the same keys: the token verifies against it too.
	url2, _ := serveInProcess(t, "--keys", keys)
	v, err := fxa.NewVerifier(url, url2+devidp.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), strings.TrimSpace(out)); err != nil {
		t.Fatal(err)
	}
}

func TestHelpAndUsage(t *testing.T) {
	out, _, err := run("--help")
	if err != nil || !strings.Contains(out, "never production") || !strings.Contains(out, "mint") {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	for _, cmd := range []string{"serve", "mint"} {
		_, errOut, err := run(cmd, "--help")
		if exitCode(io.Discard, err) != 0 || !strings.Contains(errOut, "never production") {
			t.Errorf("%s --help: %v\n%s", cmd, err, errOut)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{nil, "no command", 2},
		{[]string{"frob"}, "unknown command", 2},
		{[]string{"mint", "--uid", uid, "--idp", ""}, "--idp URL is required", 2},
		{[]string{"mint", "--idp", "http://127.0.0.1:9"}, "--uid is required", 2},
		{[]string{"mint", "--generation", "x"}, "invalid value", 2},
		{[]string{"serve", "extra"}, "unexpected argument", 2},
		{[]string{"serve", "--addr", "0.0.0.0:0"}, "loopback only", 1},
	} {
		_, _, err := run(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(io.Discard, err) != tc.code {
			t.Errorf("%q: %v (exit %d), want %q and exit %d", tc.args, err, exitCode(io.Discard, err), tc.want, tc.code)
		}
	}
}

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/engine/device"
)

// workerProcess is `contactsync worker` running as a process of its own (this test binary as the CLI).
type workerProcess struct {
	cmd    *exec.Cmd
	log    *serverStderr
	exited chan struct{}
	err    error // what Wait returned, once exited is closed
}

// startWorker starts a worker on the store at db; it is killed when the test ends if it still runs.
func startWorker(t *testing.T, db string, args ...string) *workerProcess {
	t.Helper()
	w := &workerProcess{cmd: cliCommand(db, append([]string{"worker"}, args...)...), log: &serverStderr{}, exited: make(chan struct{})}
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		w.err = w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-w.exited:
		default:
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", w.log.String())
		}
	})
	return w
}

// waitSynced waits until the remote named has completed a sync: the worker's first one.
func waitSynced(t *testing.T, c *cli, w *workerProcess, name string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st []statusJSON
		if err := json.Unmarshal([]byte(c.ok("", "status", "--json")), &st); err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Name == name && s.LastSync != nil {
				return
			}
		}
		select {
		case <-w.exited:
			t.Fatalf("the worker exited before its first sync: %v", w.err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not complete its first sync within 60 s")
		}
	}
}

// stop sends SIGTERM and waits for the worker to exit, which it must do cleanly (status 0, "worker stopped"
// logged) within 20 s.
func (w *workerProcess) stop(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the worker did not stop within 20 s of SIGTERM")
	}
	if w.err != nil {
		t.Fatalf("the worker ended with %v after SIGTERM; want exit status 0", w.err)
	}
	if !strings.Contains(w.log.String(), `msg="worker stopped"`) {
		t.Fatalf("the worker did not log that it stopped:\n%s", w.log.String())
	}
}

// addProcess runs `contactsync add` as a separate process with card on stdin.
func addProcess(t *testing.T, db, card string) {
	t.Helper()
	add := cliCommand(db, "add")
	add.Stdin = strings.NewReader(card)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("contactsync add: %v\n%s", err, out)
	}
}

// TestWorkerPushesAnotherProcessesAdd is issue 10's "an edit is pushed at once, whichever process made it": a
// worker that pulls only every 5 minutes, and a contact added by a separate `contactsync add` process, which
// must be on the server within 1 s of that process exiting. Then SIGTERM stops the worker cleanly.
func TestWorkerPushesAnotherProcessesAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes and a server; skipped in -short mode")
	}
	const within = time.Second
	srv := carddavtest.Start(t, "embedded")
	c := newCLI(t)
	c.addRemote(srv, "home")
	w := startWorker(t, c.db, "--pull-interval", "5m")
	waitSynced(t, c, w, "home")
	if n := countOnServer(t, srv); n != 0 {
		t.Fatalf("%d contacts on the server before the add", n)
	}

	addProcess(t, c.db, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:from-another-process\r\nFN:Ola Other\r\nEND:VCARD\r\n")
	added := time.Now()
	// Poll past the bound, to say how late a late push was.
	for countOnServer(t, srv) == 0 {
		if time.Since(added) > 30*time.Second {
			t.Fatalf("the contact added by another process is not on the server 30 s later")
		}
		time.Sleep(10 * time.Millisecond) // the polling interval, not a wait for the condition
	}
	took := time.Since(added)
	t.Logf("on the server %v after the add process exited", took.Round(time.Millisecond))
	if took > within {
		t.Errorf("the contact reached the server %v after the add process exited; want within %v", took.Round(time.Millisecond), within)
	}
	if server := serverByUID(t, srv); !strings.Contains(server["from-another-process"], "FN:Ola Other") {
		t.Errorf("the server holds %q", server)
	}
	w.stop(t)
}

// TestStoreFilesArePrivate: with umask 022, which makes files 0644 by default, every file of the device —
// the store, its -wal and -shm while a worker holds it open, and the credentials file — is 0600.
func TestStoreFilesArePrivate(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes and a server; skipped in -short mode")
	}
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	srv := carddavtest.Start(t, "embedded")
	c := newCLI(t)
	c.addRemote(srv, "home")
	w := startWorker(t, c.db, "--pull-interval", "5m")
	waitSynced(t, c, w, "home")
	addProcess(t, c.db, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:private-1\r\nFN:Pia Private\r\nEND:VCARD\r\n")

	files := []string{c.db, c.db + "-wal", c.db + "-shm", device.CredentialsPath(c.db)}
	deadline := time.Now().Add(10 * time.Second)
	for _, f := range files {
		fi, err := os.Stat(f)
		for os.IsNotExist(err) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // the polling interval
			fi, err = os.Stat(f)
		}
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %04o, want 0600", f, fi.Mode().Perm())
		}
	}
	w.stop(t)
}

package carddavtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bindAttempts covers the window between picking a free port and the server binding it.
const bindAttempts = 3

// external is an outside server run as a process on a port of 127.0.0.1; its output goes to out, kept
// across restarts.
type external struct {
	name    string
	command func(port int) *exec.Cmd
	port    int
	out     *tailBuffer
	proc    *process
}

// startExternal runs the command made for a free port until the server answers HTTP, and makes it s's
// running server.
func startExternal(t testing.TB, s *Server, command func(port int) *exec.Cmd) {
	t.Helper()
	x := &external{name: s.Name, command: command, out: &tailBuffer{max: 64 << 10}}
	var err error
	for range bindAttempts {
		if x.port, err = freePort(); err != nil {
			t.Fatalf("carddavtest: %v", err)
		}
		var taken bool
		if taken, err = x.launch(); err == nil || !taken {
			break
		}
	}
	if err != nil {
		t.Fatalf("carddavtest: %s did not start: %v\n%s", s.Name, err, x.out.String())
	}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d/", x.port)
	s.run(t, x)
}

// launch starts the process on x.port and waits until it answers HTTP; a process that does not is stopped,
// and taken tells whether it failed because the port was taken (each server then says "in use").
func (x *external) launch() (taken bool, err error) {
	attempt := &tailBuffer{max: 4 << 10}
	p, err := startProcess(x.command(x.port), io.MultiWriter(x.out, attempt))
	if err != nil {
		return false, err
	}
	if err := waitReady(fmt.Sprintf("http://127.0.0.1:%d/", x.port), p); err != nil {
		return strings.Contains(attempt.String(), "in use"), errors.Join(err, p.stop())
	}
	x.proc = p
	return false, nil
}

func (x *external) stop() error { return x.proc.stop() }

// restart runs the server again on its port, polling while the port is still held.
func (x *external) restart(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		taken, err := x.launch()
		if err == nil {
			return
		}
		if !taken || time.Now().After(deadline) {
			t.Fatalf("carddavtest: restart %s: %v\n%s", x.name, err, x.out.String())
		}
		time.Sleep(50 * time.Millisecond) // the poll's interval: the old process's socket is still going away
	}
}

func (x *external) log() string { return x.out.String() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the server until it answers any HTTP status, the process dies, or startTimeout passes.
func waitReady(url string, p *process) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after %s: %w", startTimeout, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited early: %v", p.waitErr)
		case <-tick.C:
		}
	}
}

// process is a started server process.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

func startProcess(cmd *exec.Cmd, out io.Writer) (*process, error) {
	p := &process{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM to the server's process group, then SIGKILL if it has not exited in stopTimeout, and
// waits for it.
func (p *process) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := -p.cmd.Process.Pid
	if err := syscall.Kill(pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := syscall.Kill(pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	<-p.done
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

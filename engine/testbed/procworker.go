package testbed

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// procWorker is `contactsync worker` running as a process of its own, which the test bed SIGKILLs and starts
// again. Its log goes to a file, where the test bed reads its retries and when it is ready for SIGUSR1.
type procWorker struct {
	command func(args ...string) *exec.Cmd
	args    []string
	logPath string
	log     *os.File

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	waitErr  error
	expected bool // the test bed killed or stopped it
	started  int  // "worker started" lines in the log when cmd was launched
	ready    bool

	stopOnce sync.Once
	stopErr  error
}

// msgStarted is what the worker logs once it handles SIGUSR1; before that the signal would kill it.
const msgStarted = `msg="worker started"`

func newProcWorker(command func(args ...string) *exec.Cmd, logPath string, args ...string) (*procWorker, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("testbed: worker log: %w", err)
	}
	return &procWorker{command: command, args: args, logPath: logPath, log: f}, nil
}

// start launches the worker process.
func (p *procWorker) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	started, err := p.countLog(msgStarted)
	if err != nil {
		return err
	}
	cmd := p.command(p.args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testbed: start worker: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	p.cmd, p.exited, p.expected, p.started, p.ready = cmd, exited, false, started, false
	return nil
}

// done is closed when the current process exits.
func (p *procWorker) done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// signal sends sig to the current process and, unless it is SIGUSR1, waits for it to exit.
func (p *procWorker) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	if cmd == nil {
		p.mu.Unlock()
		return
	}
	p.expected = true
	p.mu.Unlock()
	_ = cmd.Process.Signal(sig)
	<-exited
}

// kill SIGKILLs the current process and waits for it.
func (p *procWorker) kill() { p.signal(syscall.SIGKILL) }

// unexpected returns how the current process ended when nobody asked it to, and the end of its log.
func (p *procWorker) unexpected() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.expected {
		return "", false
	}
	data, _ := os.ReadFile(p.logPath)
	if len(data) > 600 {
		data = data[len(data)-600:]
	}
	return fmt.Sprintf("worker exited by itself (%v); log ends: %q", p.waitErr, data), true
}

// trigger sends SIGUSR1 once the process is ready for it.
func (p *procWorker) trigger() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isClosed(p.exited) {
		return
	}
	if !p.ready {
		n, err := p.countLog(msgStarted)
		if err != nil || n <= p.started {
			return
		}
		p.ready = true
	}
	_ = p.cmd.Process.Signal(syscall.SIGUSR1)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// stop ends the current process with SIGTERM (SIGKILL if it does not stop within a while) and closes the log.
// Calls after the first return the first one's result.
func (p *procWorker) stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.terminate() })
	return p.stopErr
}

func (p *procWorker) terminate() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.expected = true
	p.mu.Unlock()
	var err error
	if cmd != nil && !isClosed(exited) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			p.mu.Lock()
			if p.waitErr != nil {
				err = fmt.Errorf("testbed: worker stopped with %w", p.waitErr)
			}
			p.mu.Unlock()
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			err = errors.New("testbed: worker did not stop within 30s of SIGTERM")
		}
	}
	return errors.Join(err, p.log.Close())
}

// countLog counts the log lines holding s.
func (p *procWorker) countLog(s string) (int, error) {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return 0, fmt.Errorf("testbed: worker log: %w", err)
	}
	return bytes.Count(data, []byte(s)), nil
}

// retries counts the retries the worker logged over all its lives.
func (p *procWorker) retries() (requests, syncs int) {
	r, _ := p.countLog("msg=" + msgRetrying)
	s, _ := p.countLog(`msg="` + msgSyncFailed + `"`)
	return r, s
}

package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/carddav"
	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
)

// benchServer is one running CardDAV server the comparison creates fresh address books on, so every contender
// starts from the same empty collection on the same server process.
type benchServer struct {
	name           string
	user, password string
	// home is the absolute URL of the collection the test user's address book sits in; new books go beside it.
	home  string
	admin *carddav.Client
	// pid is the server process (0 for the embedded server, which runs in the benchmark's own process): its
	// CPU time is the server's cost of an operation whatever else the shared machine is doing.
	pid int
}

// startServer starts the named server ("embedded", "radicale" or "xandikos") for the benchmark's lifetime.
func startServer(b *testing.B, name string) *benchServer {
	b.Helper()
	srv := carddavtest.Start(b, name)
	s := &benchServer{name: name, user: srv.Username, password: srv.Password, admin: srv.Client(b)}
	book := srv.AddressBookURL
	if name != "embedded" {
		pid, err := processWithArg(srv.Dir)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		s.pid = pid
	}
	s.home = book[:strings.LastIndex(strings.TrimSuffix(book, "/"), "/")+1]
	return s
}

// newBook creates an empty address book called label and returns its absolute URL.
func (s *benchServer) newBook(ctx context.Context, b *testing.B, label string) string {
	b.Helper()
	ab, err := s.admin.CreateAddressBook(ctx, s.home+label+"/", label, "")
	if err != nil {
		b.Fatalf("%s: create address book %s: %v", s.name, label, err)
	}
	return ab.URL
}

// processWithArg finds the process whose command line has an argument under dir (the server's data
// directory, which carddavtest makes unique per server).
func processWithArg(dir string) (int, error) {
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return 0, err
	}
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if strings.HasPrefix(string(arg), dir+"/") {
				return strconv.Atoi(filepath.Base(filepath.Dir(p)))
			}
		}
	}
	return 0, fmt.Errorf("no process runs with data under %s", dir)
}

// clockTicks is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on Linux).
const clockTicks = 100

// cpu returns the server process's CPU time so far (user plus system), or -1 for the embedded server.
func (s *benchServer) cpu() time.Duration {
	if s.pid == 0 {
		return -1
	}
	return processCPU(s.pid)
}

// processCPU is a process's CPU time so far (user plus system), or -1 when it cannot be read.
func processCPU(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the
	// 14th and 15th fields of the line, the 12th and 13th after the name.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

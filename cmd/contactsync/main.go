package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(exitCode(os.Stderr, err))
}

// Stdio carries the streams a command reads and writes, so tests run commands in-process.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// errUsage marks an error caused by how the command was called; main prints the usage hint after it.
var errUsage = errors.New("usage")

// exitCode prints err the way a person reads it and maps it to the process exit status.
func exitCode(w io.Writer, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(w, "contactsync: interrupted")
		return 130
	case errors.Is(err, errUsage):
		fmt.Fprintf(w, "contactsync: %v\nRun 'contactsync help' for usage.\n", err)
		return 2
	default:
		fmt.Fprintf(w, "contactsync: %v\n", err)
		return 1
	}
}

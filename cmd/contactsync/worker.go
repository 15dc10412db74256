package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/contactsync/contactsync/engine"
)

// workerCmd keeps the device in sync until SIGTERM or SIGINT: it pushes soon after each local commit, pulls
// every --pull-interval, and pulls at once on SIGUSR1. It logs to stderr.
type workerCmd struct {
	pullInterval, debounce time.Duration
	allowMassDelete        bool
	verbose                bool
}

var workerHelp = help{
	usage: []string{"worker [--pull-interval DURATION] [--debounce DURATION] [--allow-mass-delete] [-v] [NAME...]"},
	about: "Keeps the device in sync with every remote, or the named ones, until SIGTERM or SIGINT: it pushes soon after any process changes the store, and pulls periodically and at once on SIGUSR1.",
}

func (c *workerCmd) Run(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet("worker", workerHelp)
	fs.DurationVar(&c.pullInterval, "pull-interval", engine.DefaultPullInterval, "how often to pull")
	fs.DurationVar(&c.debounce, "debounce", engine.DefaultDebounce, "how long to wait after a local change before pushing, to send a burst together")
	fs.BoolVar(&c.allowMassDelete, "allow-mass-delete", false, "apply pulls that delete most of the synced contacts")
	fs.BoolVar(&c.verbose, "v", false, "log debug detail too (each retried request)")
	g.networkFlags(fs)
	d, names, err := g.open(fs, args, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	level := slog.LevelInfo
	if c.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(g.stdio.Err, &slog.HandlerOptions{Level: level}))
	syncers, err := d.Syncers(ctx, names, engine.AllowMassDeletion(c.allowMassDelete), engine.WithLogger(logger))
	if err != nil {
		return remotesError(ctx, d, names, err)
	}
	w, err := engine.NewWorker(d.Store(), syncers, engine.WithLogger(logger), engine.WithPullInterval(c.pullInterval), engine.WithDebounce(c.debounce))
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr1:
				logger.Info("SIGUSR1: pulling now")
				w.Trigger()
			}
		}
	}()
	logger.Info("worker started", "remotes", len(syncers), "pull_interval", c.pullInterval)
	err = w.Serve(ctx)
	cancel()
	wg.Wait()
	logger.Info("worker stopped")
	return err
}

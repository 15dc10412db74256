package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

// versionCmd prints the module version and the commit this binary was built from, as the Go toolchain
// recorded them (`go build` stamps the commit and whether the work tree had changes; `go install
// module@version` the version).
type versionCmd struct{}

var versionHelp = help{
	usage: []string{"version", "--version"},
	about: "Prints the version of contactsync and the commit it was built from, with \"dirty\" when the work tree had uncommitted changes.",
}

func (c *versionCmd) Run(ctx context.Context, g *globals, args []string) error {
	pos, err := g.parseArgs(newFlagSet("version", versionHelp), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: version takes no arguments", errUsage)
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(g.stdio.Out, versionString(info))
	return nil
}

// versionString is one line: "contactsync VERSION (commit HASH, dirty, TIME, GO)", each part only when the
// build info knows it, and "(devel)" for the version of a build that has none.
func versionString(info *debug.BuildInfo) string {
	version := "(devel)"
	if info != nil && info.Main.Version != "" {
		version = info.Main.Version
	}
	if info == nil {
		return "contactsync " + version
	}
	var parts []string
	var modified, when string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			parts = append(parts, "commit "+s.Value)
		case "vcs.modified":
			if s.Value == "true" {
				modified = "dirty"
			}
		case "vcs.time":
			when = s.Value
		}
	}
	for _, p := range []string{modified, when, info.GoVersion} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "contactsync " + version
	}
	return fmt.Sprintf("contactsync %s (%s)", version, strings.Join(parts, ", "))
}

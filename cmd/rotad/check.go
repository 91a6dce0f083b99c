package main

import (
	"fmt"
	"io"
	"time"

	"github.com/rotahq/rota/scheduler"
)

// checkConfig validates a file and summarises it: teams, rotations, and who
// is on call now by the schedule alone (overrides live in the database;
// `rotad oncall` shows them).
func checkConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check-config", stderr)
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: rotad check-config FILE")
		return exitError{2}
	}
	cfg, err := loadConfig(fs.Arg(0), stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: OK: %s\n", cfg.File, cfg.Summary())
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	fmt.Fprintln(stdout)
	printTeams(stdout, cfg.Org)
	fmt.Fprintln(stdout)
	printRotations(stdout, cfg.Org)
	now := time.Now()
	fmt.Fprintf(stdout, "\nOn call now (%s), by the schedule alone:\n", now.UTC().Format(time.RFC3339))
	printOnCall(stdout, scheduler.NewRoster(cfg.Org, nil), cfg.Org.Rotations, now)
	return nil
}

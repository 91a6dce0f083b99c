package main

import (
	"fmt"
	"io"
	"time"

	"github.com/rotahq/rota"
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
	roster := scheduler.NewRoster(cfg.Org, nil)
	fmt.Fprintf(stdout, "\nOn call now (%s), by the schedule alone:\n", now.UTC().Format(time.RFC3339))
	printOnCall(stdout, roster, cfg.Org.Rotations, now)
	// Coverage gaps the configured PTO makes in the next four weeks: a
	// hole nobody would otherwise see until it pages no one.
	for _, rot := range cfg.Org.Rotations {
		for _, g := range coverageGaps(roster, rot.Name, now, now.Add(4*rota.Week)) {
			fmt.Fprintf(stdout, "warning: coverage gap on %s from %s to %s: every member is on leave\n", rot.Name,
				localTime(g[0], rot.Location), localTime(g[1], rot.Location))
		}
	}
	return nil
}

// coverageGaps returns the stretches of [from, to) after the rotation's
// start when nobody is on call.
func coverageGaps(roster *scheduler.Roster, rotation string, from, to time.Time) [][2]time.Time {
	rot := roster.Org().Rotation(rotation)
	if rot.Start.After(from) {
		from = rot.Start
	}
	var gaps [][2]time.Time
	cursor := from
	for _, sh := range roster.Shifts(rotation, from, to) {
		if sh.Start.After(cursor) {
			gaps = append(gaps, [2]time.Time{cursor, sh.Start})
		}
		if sh.End.After(cursor) {
			cursor = sh.End
		}
	}
	if cursor.Before(to) {
		gaps = append(gaps, [2]time.Time{cursor, to})
	}
	return gaps
}

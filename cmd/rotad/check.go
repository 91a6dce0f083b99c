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
	if len(cfg.Deaf) > 0 {
		// rotad serves such a configuration (saying so), but a check
		// passes only what can be paged for.
		for _, p := range cfg.Deaf {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "%s: %d service(s) cannot receive alerts: set their integration keys (the environment variables or files the configuration names)\n", cfg.File, len(cfg.Deaf))
		return exitError{1}
	}
	fmt.Fprintf(stdout, "%s: OK: %s\n", cfg.File, cfg.Summary())
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	fmt.Fprintln(stdout)
	printTeams(stdout, cfg.Org)
	fmt.Fprintln(stdout)
	printRotations(stdout, cfg.Org)
	now := now()
	roster := scheduler.NewRoster(cfg.Org, nil)
	fmt.Fprintf(stdout, "\nOn call now (%s), by the schedule alone:\n", now.UTC().Format(time.RFC3339))
	printOnCall(stdout, roster, cfg.Org.Rotations, now)
	// Coverage gaps in the next four weeks (leave, active hours, layers
	// that leave a hole): found now rather than when they page no one.
	// A rotation that is only a schedule's layer has the gaps the layers
	// above fill; its schedule's are what count.
	onlyLayer := map[string]bool{}
	for _, rot := range cfg.Org.Rotations {
		for _, l := range rot.Layers {
			onlyLayer[l] = true
		}
	}
	for _, p := range cfg.Org.Policies {
		for _, st := range p.Steps {
			for _, t := range st.Targets {
				if t.Kind == rota.TargetRotation {
					delete(onlyLayer, t.Name)
				}
			}
		}
	}
	paged := map[string]bool{}
	for _, p := range cfg.Org.Policies {
		for _, st := range p.Steps {
			for _, t := range st.Targets {
				paged[t.Name] = paged[t.Name] || t.Kind == rota.TargetRotation
			}
		}
	}
	for _, rot := range cfg.Org.Rotations {
		if rot.IsSchedule() && !paged[rot.Name] {
			fmt.Fprintf(stdout, "warning: schedule %s pages nobody: no escalation policy names it (\"schedule:%s\")\n", rot.Name, rot.Name)
		}
	}
	for _, rot := range cfg.Org.Rotations {
		if onlyLayer[rot.Name] || rot.ShadowOf != "" {
			continue
		}
		gaps := coverageGaps(roster, rot.Name, now, now.Add(4*rota.Week))
		why := "every member is on leave"
		switch {
		case rot.IsSchedule():
			why = "no layer has anyone on call (or everyone is on leave)"
		case len(rot.Active) > 0:
			why = "outside its active hours (or everyone is on leave)"
		}
		var total time.Duration
		for i, g := range gaps {
			total += g[1].Sub(g[0])
			if i < 5 {
				fmt.Fprintf(stdout, "warning: coverage gap on %s from %s to %s: %s\n", rot.Name,
					localTime(g[0], rot.Location), localTime(g[1], rot.Location), why)
			}
		}
		if len(gaps) > 5 {
			fmt.Fprintf(stdout, "warning: coverage gaps on %s: %d more in the next four weeks, %s with nobody on call in all\n",
				rot.Name, len(gaps)-5, rota.FormatDuration(total.Round(time.Minute)))
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

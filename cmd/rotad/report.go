package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/scheduler"
)

// report prints a team's human-SLO report in the terminal: the numbers of
// GET /api/v1/reports/human.
func report(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	team := fs.String("team", "", "the team")
	weeks := fs.Int("weeks", 12, "weeks back from --to")
	toFlag := fs.String("to", "", "the report's end, RFC 3339 (now by default)")
	dbPath := fs.String("db", "", "SQLite database file or postgres:// URL, overriding server.database")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	t := cfg.Org.Team(*team)
	if t == nil {
		fmt.Fprintf(stderr, "rotad report: --team: no team named %q in %s\n", *team, cfg.File)
		return exitError{2}
	}
	if *weeks < 1 || *weeks > 56 {
		fmt.Fprintln(stderr, "rotad report: --weeks must be from 1 to 56")
		return exitError{2}
	}
	if *dbPath != "" {
		cfg.Server.Database = *dbPath
	}
	ctx := context.Background()
	db, ok, err := openExisting(ctx, cfg.Server.Database)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(stderr, "rotad report: no database at %s yet: nothing has paged anyone\n", cfg.Server.Database)
		return exitError{1}
	}
	defer db.Close()
	to := now().UTC()
	if *toFlag != "" {
		t, err := time.Parse(time.RFC3339, *toFlag)
		if err != nil {
			fmt.Fprintf(stderr, "rotad report: --to %q is not an RFC 3339 time, as in 2026-11-05T12:00:00Z\n", *toFlag)
			return exitError{2}
		}
		to = t.UTC()
	}
	ovs, err := db.Overrides(ctx, "")
	if err != nil {
		return err
	}
	roster := scheduler.NewRoster(cfg.Org, ovs)
	if leave, err := db.Leave(ctx); err == nil {
		for p, ls := range leave {
			roster = roster.WithLeave(p, ls)
		}
	}
	rep, err := api.HumanReport(ctx, db, roster, t.Name, to.Add(-time.Duration(*weeks)*rota.Week), to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Team %s, %s to %s. Human SLO: at most %d pages a week, %d off-hours incident(s) in %s.\n", rep.Team,
		rep.From.In(t.Location).Format("2 Jan 2006"), rep.To.In(t.Location).Format("2 Jan 2006"), rep.SLO.PagesPerWeek, rep.SLO.OffhoursIncidents, rep.SLO.OffhoursWindow)
	fmt.Fprintf(stdout, "A page is an interruption: the first notification after %s without one.\n\n", rep.SLO.InterruptionGap)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PERSON\tPAGES\tINCIDENTS\tWEEKS OVER BUDGET\tWORST WEEK\tOFF-HOURS INCIDENTS\tOF WHICH 22-08\tOFF-HOURS IN WINDOW\tAVOIDED")
	for _, p := range rep.People {
		worst := 0
		for _, w := range p.Weeks {
			worst = max(worst, w.Pages)
		}
		flag := ""
		if p.OffHoursWindow > rep.SLO.OffhoursIncidents {
			flag = " (over)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d of %d\t%d\t%d\t%d\t%d%s\t%d\n", p.Person, p.Pages, p.Incidents, p.WeeksOverBudget, len(p.Weeks), worst, p.OffHours, p.Sleep, p.OffHoursWindow, flag, p.Avoided)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nAlerts %d in %d incidents, %d pages. Incidents acknowledged %d (MTTA %s), resolved %d (MTTR %s). Off-hours pages avoided by quiet hours: %d; by maintenance windows: %d.\n",
		rep.AlertsIn, rep.IncidentsIn, rep.Interruptions, rep.Acked, time.Duration(rep.MTTA)*time.Second, rep.Resolved, time.Duration(rep.MTTR)*time.Second, rep.Avoided, rep.Maintenance)
	if len(rep.Services) > 0 {
		fmt.Fprint(stdout, "Noisiest services:")
		for i, s := range rep.Services {
			if i == 5 {
				break
			}
			fmt.Fprintf(stdout, " %s (%d incidents, %d alerts, %d pages)", s.Name, s.Incidents, s.Alerts, s.Pages)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "Budgets burned: %d.\n", len(rep.Burns))
	for _, b := range rep.Burns {
		who := b.Name
		if b.Person == "" {
			who = "the team"
		}
		var caused []string
		for _, inc := range b.Incidents {
			caused = append(caused, fmt.Sprintf("#%d %s", inc.ID, inc.Service))
		}
		fmt.Fprintf(stdout, "  %s  %s  %s: %s\n", b.At.In(t.Location).Format("Mon 2 Jan 15:04"), who, b.Text, strings.Join(caused, ", "))
	}
	if f := rep.Fairness; f != nil {
		fmt.Fprintf(stdout, "\nFairness (balance %.2f: 1 is even; burden = on-call hours + 2 x off-hours hours + 4 x interruptions):\n", f.Balance)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PERSON\tON CALL (H)\tOFF-HOURS (H)\tCOVERING (H)\tINTERRUPTIONS\tBURDEN")
		for _, p := range f.People {
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%d\t%.1f\n", p.Person, p.OnCallHours, p.OffHoursHours, p.CoveringHours, p.Interruptions, p.Burden)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "Who should cover next: %s.\n", strings.Join(f.CoverNext, ", "))
		for rot, h := range f.GapHours {
			if h > 0 {
				fmt.Fprintf(stdout, "Gap: %s had nobody on call for %.1f hours.\n", rot, h)
			}
		}
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/rotahq/rota"
)

const maintenanceUsage = `usage:
  rotad maintenance start SERVICE --config FILE (--for 2h | --from TIME --to TIME) [--reason WHY]
  rotad maintenance list [SERVICE] --config FILE
  rotad maintenance end ID --config FILE`

// maintenance sets, lists and ends a service's ad hoc maintenance
// windows from the command line: its alerts then page nobody. A running
// rotad sees a window set here at its next alert or step; one ended
// here early lets what waited go within a minute (the API does it at
// once).
func maintenance(args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		fmt.Fprintln(stderr, maintenanceUsage)
		return exitError{2}
	}
	verb, rest := args[0], args[1:]
	var arg string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		arg, rest = rest[0], rest[1:]
	}
	fs := newFlags("maintenance "+verb, stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	dbPath := fs.String("db", "", "SQLite database file or postgres:// URL, overriding server.database")
	forDur := fs.String("for", "", "how long from now (start)")
	from := fs.String("from", "", "start, RFC 3339 (start)")
	to := fs.String("to", "", "end, RFC 3339 (start)")
	reason := fs.String("reason", "", "why (start)")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	var m rota.Maintenance
	switch verb {
	case "start":
		if arg == "" {
			fmt.Fprintf(stderr, "rotad maintenance start: which service? %s\n", maintenanceUsage)
			return exitError{2}
		}
		if cfg.Org.Service(arg) == nil {
			fmt.Fprintf(stderr, "rotad maintenance start: no service named %q in %s\n", arg, cfg.File)
			return exitError{2}
		}
		m = rota.Maintenance{Service: arg, Reason: *reason, CreatedBy: rota.Actor{Via: rota.ViaCLI, Role: rota.RoleAdmin}.String()}
		switch {
		case *forDur != "" && (*from != "" || *to != ""):
			fmt.Fprintln(stderr, "rotad maintenance start: --for is from now: give --for, or --from and --to")
			return exitError{2}
		case *forDur != "":
			d, err := rota.ParseDuration(*forDur)
			if err != nil || d <= 0 {
				fmt.Fprintf(stderr, "rotad maintenance start: --for %q is not a duration such as 2h\n", *forDur)
				return exitError{2}
			}
			m.Start = now()
			m.End = m.Start.Add(d)
		default:
			var e1, e2 error
			m.Start, e1 = time.Parse(time.RFC3339, *from)
			m.End, e2 = time.Parse(time.RFC3339, *to)
			if e1 != nil || e2 != nil {
				fmt.Fprintln(stderr, "rotad maintenance start: give --for 2h, or --from and --to as RFC 3339 times (2026-12-01T02:00:00+01:00)")
				return exitError{2}
			}
		}
		if err := m.Validate(); err != nil {
			fmt.Fprintf(stderr, "rotad maintenance start: %s\n", rota.ErrorMessage(err))
			return exitError{2}
		}
	case "list":
		if arg != "" && cfg.Org.Service(arg) == nil {
			fmt.Fprintf(stderr, "rotad maintenance list: no service named %q in %s\n", arg, cfg.File)
			return exitError{2}
		}
	case "end":
		if _, err := strconv.ParseInt(arg, 10, 64); err != nil {
			fmt.Fprintf(stderr, "rotad maintenance end: %q is not a window id (rotad maintenance list shows them)\n", arg)
			return exitError{2}
		}
	default:
		fmt.Fprintf(stderr, "rotad maintenance: unknown command %q\n%s\n", verb, maintenanceUsage)
		return exitError{2}
	}
	if *dbPath != "" {
		cfg.Server.Database = *dbPath
	}
	ctx := context.Background()
	db, err := openStore(ctx, cfg.Server.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	actor := rota.Actor{Via: rota.ViaCLI, Role: rota.RoleAdmin}
	team := func(service string) string {
		if svc := cfg.Org.Service(service); svc != nil {
			return svc.Team
		}
		return ""
	}
	switch verb {
	case "start":
		if err := db.StartMaintenance(ctx, &m); err != nil {
			return err
		}
		if err := db.Audit(ctx, &rota.AuditEntry{Actor: actor.String(), Action: "maintenance.start", Subject: fmt.Sprintf("maintenance %d of %s", m.ID, m.Service),
			Team: team(m.Service), Detail: m.Reason}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "maintenance %d: %s pages nobody from %s to %s\n", m.ID, m.Service, m.Start.Format(time.RFC3339), m.End.Format(time.RFC3339))
	case "list":
		ms, err := db.MaintenanceWindows(ctx, arg, now())
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSERVICE\tSTART\tEND\tBY\tREASON")
		for _, m := range ms {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Service, m.Start.Format(time.RFC3339), m.End.Format(time.RFC3339), m.CreatedBy, m.Reason)
		}
		for _, svc := range cfg.Org.Services {
			if arg != "" && svc.Name != arg {
				continue
			}
			for _, w := range svc.Maintenance {
				fmt.Fprintf(tw, "-\t%s\tevery %s\t(%s)\tconfiguration\t\n", svc.Name, w, svc.Location)
			}
		}
		return tw.Flush()
	case "end":
		id, _ := strconv.ParseInt(arg, 10, 64)
		m, err := db.EndMaintenance(ctx, id)
		if err != nil {
			return err
		}
		if err := db.Audit(ctx, &rota.AuditEntry{Actor: actor.String(), Action: "maintenance.end", Subject: fmt.Sprintf("maintenance %d of %s", m.ID, m.Service),
			Team: team(m.Service)}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "maintenance %d of %s ended\n", m.ID, m.Service)
	}
	return nil
}

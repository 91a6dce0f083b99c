package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging/replay"
	"github.com/rotahq/rota/store"
)

// replayCmd runs recorded alerts through a proposed configuration and
// compares it with what happened and with paging everything at once.
func replayCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	cfgPath := fs.String("config", "", "the proposed configuration (TOML)")
	dbPath := fs.String("db", "", "the database the alerts were recorded in (default: the configuration's)")
	alertsPath := fs.String("alerts", "", "JSONL of alerts (rotad export-alerts, rotabench year) instead of a database")
	from := fs.String("from", "", "start, a date or RFC 3339 time (default: 90 days before --to)")
	to := fs.String("to", "", "end (default: now, or the last alert's day with --alerts)")
	format := fs.String("format", "table", "table, json or html")
	out := fs.String("out", "", "write here instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" && *format != "html" {
		fmt.Fprintf(stderr, "rotad replay: --format %q: use table, json or html\n", *format)
		return exitError{2}
	}
	var in replay.Input
	var rec *replay.Recorded
	var fromT, toT time.Time
	if *to != "" {
		if toT, err = parseDay(*to); err != nil {
			fmt.Fprintf(stderr, "rotad replay: --to: %v\n", err)
			return exitError{2}
		}
	}
	if *from != "" {
		if fromT, err = parseDay(*from); err != nil {
			fmt.Fprintf(stderr, "rotad replay: --from: %v\n", err)
			return exitError{2}
		}
	}
	if *alertsPath != "" {
		f, err := os.Open(*alertsPath)
		if err != nil {
			return err
		}
		in, rec, err = replay.Read(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "rotad replay: %s: %v\n", *alertsPath, err)
			return exitError{2}
		}
		// The range the file was exported for, else its alerts' (a day
		// past the last, for what they set going).
		if toT.IsZero() {
			toT = in.To
		}
		if fromT.IsZero() {
			fromT = in.From
		}
		if len(in.Alerts) > 0 {
			if toT.IsZero() {
				toT = in.Alerts[len(in.Alerts)-1].At.Add(rota.Day)
			}
			if fromT.IsZero() {
				fromT = in.Alerts[0].At
			}
		}
		if len(in.Alerts) == 0 && (fromT.IsZero() || toT.IsZero()) {
			fmt.Fprintf(stderr, "rotad replay: %s has no alerts\n", *alertsPath)
			return exitError{2}
		}
	} else {
		if toT.IsZero() {
			toT = now()
		}
		if fromT.IsZero() {
			fromT = toT.AddDate(0, 0, -90)
		}
		if *dbPath != "" {
			cfg.Server.Database = *dbPath
		}
		if in, rec, err = exportFrom(cfg, fromT, toT); err != nil {
			return err
		}
	}
	if !toT.After(fromT) {
		fmt.Fprintln(stderr, "rotad replay: --to must be after --from")
		return exitError{2}
	}
	ctx := context.Background()
	opts := replay.Options{From: fromT, To: toT, RateLimit: cfg.Paging.RateLimit, Scratch: scratch(ctx)}
	proposed, err := replay.Run(ctx, cfg.Org, in, opts)
	if err != nil {
		return err
	}
	opts.Baseline = true
	baseline, err := replay.Run(ctx, cfg.Org, in, opts)
	if err != nil {
		return err
	}
	cmp := replay.Compare(cfg.Org, rec, proposed, baseline)
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(cmp)
	case "html":
		return cmp.WriteHTML(w)
	}
	return cmp.WriteTable(w)
}

// scratch opens a replay's scratch databases: SQLite files in the
// temporary directory, removed after each run.
func scratch(ctx context.Context) replay.Scratch {
	return func(now func() time.Time) (replay.Store, func(), error) {
		db, done, err := store.OpenScratch(ctx, "", now)
		if err != nil {
			return nil, nil, err
		}
		return db, done, nil
	}
}

// exportAlerts writes the database's alerts, deploys, overrides, leave
// and recorded pages as the JSONL rotad replay reads.
func exportAlerts(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export-alerts", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	dbPath := fs.String("db", "", "SQLite database file or postgres:// URL, overriding server.database")
	from := fs.String("from", "", "start (default: 90 days ago)")
	to := fs.String("to", "", "end (default: now)")
	out := fs.String("out", "", "write here instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	toT, fromT := now(), time.Time{}
	if *to != "" {
		if toT, err = parseDay(*to); err != nil {
			fmt.Fprintf(stderr, "rotad export-alerts: --to: %v\n", err)
			return exitError{2}
		}
	}
	fromT = toT.AddDate(0, 0, -90)
	if *from != "" {
		if fromT, err = parseDay(*from); err != nil {
			fmt.Fprintf(stderr, "rotad export-alerts: --from: %v\n", err)
			return exitError{2}
		}
	}
	if *dbPath != "" {
		cfg.Server.Database = *dbPath
	}
	in, rec, err := exportFrom(cfg, fromT, toT)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := replay.Write(w, in, rec); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d alerts, %d deploys, %d overrides, %d recorded incidents, %d pages, %d interruptions and %d burns from %s to %s\n", len(in.Alerts), len(in.Deploys),
		len(in.Overrides), len(rec.Opened), len(rec.Pages), len(rec.Interruptions), len(rec.Burns), fromT.Format(time.RFC3339), toT.Format(time.RFC3339))
	return nil
}

// exportFrom reads what a replay needs from the database.
func exportFrom(cfg *config.Config, from, to time.Time) (replay.Input, *replay.Recorded, error) {
	ctx := context.Background()
	db, err := openStore(ctx, cfg.Server.Database)
	if err != nil {
		return replay.Input{}, nil, err
	}
	defer db.Close()
	exported, err := db.ExportAlerts(ctx, from, to)
	if err != nil {
		return replay.Input{}, nil, err
	}
	in := replay.Input{From: from, To: to}
	for _, e := range exported {
		a := e.Alert
		ev := rota.Event{Service: a.Service, DedupKey: a.DedupKey, Summary: a.Summary, Severity: a.Severity, Source: a.Source,
			Integration: a.Integration, GroupKey: a.GroupKey, Details: a.Details}
		if a.StartedAt.Before(a.CreatedAt) {
			ev.StartedAt = a.StartedAt // the source's earlier start, for deploy routing
		}
		ev.Labels = api.LabelsOf(a.Integration, a.Details) // as its intake gave them
		ra := replay.Alert{At: a.CreatedAt, Event: ev, ResolvedAt: a.ResolvedAt, AckAfter: -1, AckBy: e.IncidentAckedBy, ResolvedBy: a.ResolvedBy}
		if !e.IncidentAcked.IsZero() {
			ra.AckAfter = e.IncidentAcked.Sub(e.IncidentCreated)
			if ra.AckAfter <= 0 {
				ra.AckAfter = time.Millisecond
			}
		}
		in.Alerts = append(in.Alerts, ra)
	}
	if in.Deploys, err = db.Deploys(ctx, rota.DeployFilter{Since: from.Add(-rota.Day), Until: to, Limit: 1 << 30}); err != nil {
		return in, nil, err
	}
	if in.Overrides, err = db.Overrides(ctx, ""); err != nil {
		return in, nil, err
	}
	if in.Leave, err = db.Leave(ctx); err != nil {
		return in, nil, err
	}
	if in.Maintenance, err = db.MaintenanceWindows(ctx, "", from.Add(-rota.Week)); err != nil {
		return in, nil, err
	}
	rec := &replay.Recorded{}
	// The incidents opened in the range, each named by its first alert.
	var ids []int64
	first := map[int64]rota.Alert{}
	for _, e := range exported {
		if _, ok := first[e.Alert.IncidentID]; !ok && !e.IncidentCreated.Before(from) && e.IncidentCreated.Before(to) {
			first[e.Alert.IncidentID] = e.Alert
			ids = append(ids, e.Alert.IncidentID)
		}
	}
	incidents, err := db.IncidentsByID(ctx, ids)
	if err != nil {
		return in, nil, err
	}
	for _, inc := range incidents {
		a := first[inc.ID]
		rec.Opened = append(rec.Opened, replay.Incident{ID: inc.ID, At: a.CreatedAt, Service: inc.Service, Severity: inc.Severity, Deploy: inc.Deploy,
			DedupKey: a.DedupKey, Summary: a.Summary})
	}
	sort.Slice(rec.Opened, func(i, j int) bool { return rec.Opened[i].ID < rec.Opened[j].ID })
	burns, err := db.Burns(ctx, from, to)
	if err != nil {
		return in, nil, err
	}
	for _, b := range burns {
		if b.Person != "" {
			rec.Burns = append(rec.Burns, replay.Burn{Person: b.Person, Team: b.Team, Budget: b.Budget, Window: b.Window.UTC(), At: b.At.UTC()})
		}
	}
	pages, err := db.Pages(ctx, from)
	if err != nil {
		return in, nil, err
	}
	for _, p := range pages {
		if p.At.Before(to) {
			rec.Pages = append(rec.Pages, p)
		}
	}
	var people []string
	for _, p := range cfg.Org.People {
		people = append(people, p.Name)
	}
	if rec.Interruptions, err = db.Interruptions(ctx, people, from, to); err != nil {
		return in, nil, err
	}
	return in, rec, nil
}

// parseDay reads a date (midnight UTC) or an RFC 3339 time.
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2026-03-01) or an RFC 3339 time", s)
	}
	return t, nil
}

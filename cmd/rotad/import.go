package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/importer"
	"github.com/rotahq/rota/scheduler"
)

// importCmd is rotad import SOURCE: a rota configuration written from
// another on-call system, with a report of what did not carry over.
func importCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, "rotad import: name the source: rotad import pagerduty --help\n")
		return exitError{2}
	}
	switch args[0] {
	case "pagerduty":
		return importPagerDuty(args[1:], stdout, stderr)
	case "opsgenie", "goalert":
		fmt.Fprintf(stderr, "rotad import: %s is not importable yet (PagerDuty is): write its configuration by hand for now (docs/OPERATIONS.md)\n", args[0])
		return exitError{2}
	}
	fmt.Fprintf(stderr, "rotad import: unknown source %q: pagerduty\n", args[0])
	return exitError{2}
}

const pdExportFile = "pagerduty-export.json"

func importPagerDuty(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import pagerduty", stderr)
	apiURL := fs.String("api-url", "https://api.pagerduty.com", "PagerDuty's REST API")
	tokenEnv := fs.String("token-env", "PAGERDUTY_TOKEN", "the environment variable holding a read-only REST API key")
	tokenFile := fs.String("token-file", "", "a file holding the API key, instead of --token-env")
	fromDir := fs.String("from-dir", "", "read a saved export ("+pdExportFile+", written by --save-dir) instead of the API")
	saveDir := fs.String("save-dir", "", "also save what the API returned here, as "+pdExportFile)
	out := fs.String("out", "rota-imported.toml", "where to write the configuration")
	reportPath := fs.String("report", "", "where to write the report (default: --out with its extension replaced by .report.txt)")
	verify := fs.Bool("verify", false, "then ask PagerDuty who is on call on each schedule (its /oncalls) and compare with rota, hour by hour; exit 1 on any difference")
	days := fs.Int("days", 90, "how many days ahead --verify compares (1 to 90)")
	verifyFrom := fs.String("verify-from", "", "the first instant --verify compares: an RFC 3339 time, or a date (midnight UTC); now by default")
	verifyConfig := fs.String("verify-config", "", "compare PagerDuty with this configuration (the one you edited) instead of writing a new one; needs the API key")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: rotad import pagerduty [--api-url URL] [--token-env VAR | --token-file FILE] [--from-dir DIR] [--save-dir DIR]
         [--out FILE] [--report FILE] [--verify [--days N] [--verify-from TIME]] [--verify-config FILE]

Reads PagerDuty's users (with contact methods), teams, schedules (with layers and
restrictions), escalation policies and services, and writes a rota configuration
(--out, overwritten), each section naming what it came from, and a report: one
line per object that did not carry over as it was, with the reason and the
nearest rota setting. Each service reads its rota integration key from the
environment variable the configuration names: check-config accepts the file
once those are set (the service's current PagerDuty key will do).

--verify then asks PagerDuty who is on call on each schedule (GET /oncalls) and
compares with rota, hour by hour; --verify-config compares with a configuration
you have edited since, writing nothing. Both need the API key. Exit status: 0
when they agree, 1 when an hour differs or PagerDuty cannot be read, 2 for a
usage error. EU accounts: --api-url https://api.eu.pagerduty.com.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *days < 1 || *days > 90 {
		fmt.Fprintf(stderr, "rotad import pagerduty: --days %d: compare 1 to 90 days\n", *days)
		return exitError{2}
	}
	ctx := context.Background()
	token := os.Getenv(*tokenEnv)
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "rotad import pagerduty: --token-file: %v\n", err)
			return exitError{2}
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" && (*fromDir == "" || *verify || *verifyConfig != "") {
		fmt.Fprintf(stderr, "rotad import pagerduty: no API key: set %s (or --token-file) to a read-only REST API key\n", *tokenEnv)
		return exitError{2}
	}
	client := pagerduty.NewClient(token, pagerduty.WithAPIEndpoint(*apiURL))
	var x importer.PagerDutyExport
	if *fromDir != "" {
		b, err := os.ReadFile(filepath.Join(*fromDir, pdExportFile))
		if err != nil {
			fmt.Fprintf(stderr, "rotad import pagerduty: %v\n", err)
			return exitError{1}
		}
		if err := json.Unmarshal(b, &x); err != nil {
			fmt.Fprintf(stderr, "rotad import pagerduty: %s: %v\n", filepath.Join(*fromDir, pdExportFile), err)
			return exitError{1}
		}
	} else {
		var err error
		if x, err = fetchPagerDuty(ctx, client); err != nil {
			fmt.Fprintf(stderr, "rotad import pagerduty: reading %s: %v\n", *apiURL, err)
			return exitError{1}
		}
		if *saveDir != "" {
			b, _ := json.MarshalIndent(x, "", "  ")
			if err := os.MkdirAll(*saveDir, 0o750); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(*saveDir, pdExportFile), b, 0o600); err != nil {
				return err
			}
		}
	}
	res := importer.PagerDuty(x, now())
	if *verifyConfig != "" {
		cfg, err := loadConfig(*verifyConfig, stderr)
		if err != nil {
			return err
		}
		return verifyAndSay(ctx, client, res, cfg, *verifyFrom, *days, *apiURL, stdout, stderr)
	}
	text := res.TOML()
	// What is written must load: the configuration's own checks, with
	// no integration key set yet.
	cfg, err := config.Parse(*out, []byte(text), filepath.Dir(*out), func(string) (string, bool) { return "", false })
	if err != nil {
		fmt.Fprintf(stderr, "rotad import pagerduty: the configuration written does not load, which is a bug in rotad import (please report it with the export):\n%v\n", err)
		return exitError{1}
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		return err
	}
	rp := *reportPath
	if rp == "" {
		rp = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".report.txt"
	}
	report := res.Report()
	if err := os.WriteFile(rp, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Fprint(stdout, report)
	fmt.Fprintf(stdout, "\nWrote %s and the report above to %s. check-config accepts it once the services' ROTA_KEY_* variables are set.\n", *out, rp)
	if !*verify {
		fmt.Fprintf(stdout, "Next: read the report, then compare with PagerDuty: rotad import pagerduty --verify-config %s (docs/MIGRATING.md).\n", *out)
		return nil
	}
	return verifyAndSay(ctx, client, res, cfg, *verifyFrom, *days, *apiURL, stdout, stderr)
}

// verifyAndSay runs verifyPagerDuty against cfg and says what it found;
// an hour that differs is exit status 1.
func verifyAndSay(ctx context.Context, client *pagerduty.Client, res *importer.Result, cfg *config.Config, verifyFrom string, days int, apiURL string, stdout, stderr io.Writer) error {
	from := now().Truncate(time.Hour)
	if verifyFrom != "" {
		var err error
		if from, err = parseDay(verifyFrom); err != nil {
			fmt.Fprintf(stderr, "rotad import pagerduty: --verify-from: %v\n", err)
			return exitError{2}
		}
	}
	roster := scheduler.NewRoster(cfg.Org, nil)
	for _, name := range res.OnCallOf {
		if cfg.Org.Rotation(name) == nil {
			fmt.Fprintf(stderr, "rotad import pagerduty: the configuration has no rotation or schedule %q, which the import makes of a PagerDuty schedule: keep the imported names to compare\n", name)
			return exitError{2}
		}
	}
	n, err := verifyPagerDuty(ctx, client, res, roster, from, from.AddDate(0, 0, days), stdout)
	if err != nil {
		fmt.Fprintf(stderr, "rotad import pagerduty --verify: reading %s: %v\n", apiURL, err)
		return exitError{1}
	}
	if n > 0 {
		hours := fmt.Sprintf("%d hours of the next %d days disagree", n, days)
		if n == 1 {
			hours = fmt.Sprintf("1 hour of the next %d days disagrees", days)
		}
		fmt.Fprintf(stdout, "\n--verify: %s (listed above): fix the configuration or PagerDuty before switching.\n", hours)
		return exitError{1}
	}
	fmt.Fprintf(stdout, "\n--verify: PagerDuty and rota agree on who is on call on every schedule, every hour of the next %d days.\n", days)
	return nil
}

// verifyPagerDuty asks PagerDuty who is on call on each imported schedule
// over [from, to) (GET /oncalls) and compares, hour by hour, with rota's
// roster; each run of hours that disagrees is a line with both answers.
// It returns how many hours disagree.
func verifyPagerDuty(ctx context.Context, c *pagerduty.Client, res *importer.Result, roster *scheduler.Roster, from, to time.Time, w io.Writer) (int, error) {
	ids := make([]string, 0, len(res.OnCallOf))
	for id := range res.OnCallOf {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	total := 0
	for _, id := range ids {
		name := res.OnCallOf[id]
		type span struct {
			start, end time.Time
			person     string
		}
		var spans []span
		for off := uint(0); ; off += 100 {
			r, err := c.ListOnCallsWithContext(ctx, pagerduty.ListOnCallOptions{ScheduleIDs: []string{id}, Since: from.Format(time.RFC3339),
				Until: to.Format(time.RFC3339), Limit: 100, Offset: off})
			if err != nil {
				return total, fmt.Errorf("on-calls of schedule %s: %w", id, err)
			}
			for _, oc := range r.OnCalls {
				if oc.Schedule.ID != id {
					continue
				}
				st, err1 := time.Parse(time.RFC3339, oc.Start)
				en, err2 := time.Parse(time.RFC3339, oc.End)
				if err1 != nil || err2 != nil {
					continue
				}
				p, ok := res.PersonOf[oc.User.ID]
				if !ok {
					p = "(" + oc.User.Summary + ", not imported)"
				}
				spans = append(spans, span{st, en, p})
			}
			if !r.More {
				break
			}
		}
		pd := func(t time.Time) string {
			for _, s := range spans {
				if !t.Before(s.start) && t.Before(s.end) {
					return s.person
				}
			}
			return "nobody"
		}
		ours := func(t time.Time) string {
			if sh, ok := roster.OnCall(name, t); ok {
				return sh.Person
			}
			return "nobody"
		}
		loc := time.UTC
		if rot := roster.Org().Rotation(name); rot != nil && rot.Location != nil {
			loc = rot.Location
		}
		var runStart time.Time
		var runPD, runOurs string
		flush := func(end time.Time) {
			if !runStart.IsZero() {
				fmt.Fprintf(w, "- %s from %s to %s: PagerDuty has %s on call, rota %s\n", name, runStart.In(loc).Format("Mon 2 Jan 2006 15:04 MST"),
					end.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), runPD, runOurs)
				runStart = time.Time{}
			}
		}
		for t := from; t.Before(to); t = t.Add(time.Hour) {
			a, b := pd(t), ours(t)
			if a == b {
				flush(t)
				continue
			}
			total++
			if !runStart.IsZero() && (a != runPD || b != runOurs) {
				flush(t)
			}
			if runStart.IsZero() {
				runStart, runPD, runOurs = t, a, b
			}
		}
		flush(to)
	}
	return total, nil
}

// fetchPagerDuty reads what an import needs, page by page.
func fetchPagerDuty(ctx context.Context, c *pagerduty.Client) (importer.PagerDutyExport, error) {
	var x importer.PagerDutyExport
	const limit = 100
	for off := uint(0); ; off += limit {
		r, err := c.ListUsersWithContext(ctx, pagerduty.ListUsersOptions{Limit: limit, Offset: off, Includes: []string{"contact_methods", "notification_rules"}})
		if err != nil {
			return x, fmt.Errorf("users: %w", err)
		}
		x.Users = append(x.Users, r.Users...)
		if !r.More {
			break
		}
	}
	for off := uint(0); ; off += limit {
		r, err := c.ListTeamsWithContext(ctx, pagerduty.ListTeamOptions{Limit: limit, Offset: off})
		if err != nil {
			return x, fmt.Errorf("teams: %w", err)
		}
		x.Teams = append(x.Teams, r.Teams...)
		if !r.More {
			break
		}
	}
	x.Members = map[string][]pagerduty.Member{}
	for _, t := range x.Teams {
		ms, err := c.ListTeamMembersPaginated(ctx, t.ID)
		if err != nil {
			return x, fmt.Errorf("members of team %s: %w", t.Name, err)
		}
		x.Members[t.ID] = ms
	}
	for off := uint(0); ; off += limit {
		r, err := c.ListSchedulesWithContext(ctx, pagerduty.ListSchedulesOptions{Limit: limit, Offset: off})
		if err != nil {
			return x, fmt.Errorf("schedules: %w", err)
		}
		for _, s := range r.Schedules {
			full, err := c.GetScheduleWithContext(ctx, s.ID, pagerduty.GetScheduleOptions{})
			if err != nil {
				return x, fmt.Errorf("schedule %s: %w", s.Name, err)
			}
			x.Schedules = append(x.Schedules, *full)
		}
		if !r.More {
			break
		}
	}
	for off := uint(0); ; off += limit {
		r, err := c.ListEscalationPoliciesWithContext(ctx, pagerduty.ListEscalationPoliciesOptions{Limit: limit, Offset: off})
		if err != nil {
			return x, fmt.Errorf("escalation policies: %w", err)
		}
		x.Policies = append(x.Policies, r.EscalationPolicies...)
		if !r.More {
			break
		}
	}
	for off := uint(0); ; off += limit {
		r, err := c.ListServicesWithContext(ctx, pagerduty.ListServiceOptions{Limit: limit, Offset: off})
		if err != nil {
			return x, fmt.Errorf("services: %w", err)
		}
		x.Services = append(x.Services, r.Services...)
		if !r.More {
			break
		}
	}
	return x, nil
}

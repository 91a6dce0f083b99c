package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/importer"
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
	reportPath := fs.String("report", "", "where to write the report (default: the configuration's name + .report.txt)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: rotad import pagerduty [--api-url URL] [--token-env VAR | --token-file FILE] [--from-dir DIR] [--save-dir DIR] [--out FILE] [--report FILE]

Reads PagerDuty's users (with contact methods), teams, schedules (with layers and
restrictions), escalation policies and services, and writes a rota configuration
that check-config accepts, each section naming what it came from, and a report:
one line per object that did not carry over as it was, with the reason and the
nearest rota setting. Integration keys stay in PagerDuty: each service reads its
rota key from the environment variable the configuration names.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
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
		token := os.Getenv(*tokenEnv)
		if *tokenFile != "" {
			b, err := os.ReadFile(*tokenFile)
			if err != nil {
				fmt.Fprintf(stderr, "rotad import pagerduty: --token-file: %v\n", err)
				return exitError{2}
			}
			token = strings.TrimSpace(string(b))
		}
		if token == "" {
			fmt.Fprintf(stderr, "rotad import pagerduty: no API key: set %s (or --token-file) to a read-only REST API key\n", *tokenEnv)
			return exitError{2}
		}
		var err error
		if x, err = fetchPagerDuty(ctx, pagerduty.NewClient(token, pagerduty.WithAPIEndpoint(*apiURL))); err != nil {
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
	text := res.TOML()
	// What is written must load: the configuration's own checks, with
	// no integration key set yet.
	if _, err := config.Parse(*out, []byte(text), filepath.Dir(*out), func(string) (string, bool) { return "", false }); err != nil {
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
	fmt.Fprintf(stdout, "\nWrote %s (check-config accepts it) and the report above to %s.\nNext: set the services' ROTA_KEY_* variables, run rota beside PagerDuty, and compare who is on call (docs/MIGRATING.md).\n", *out, rp)
	return nil
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

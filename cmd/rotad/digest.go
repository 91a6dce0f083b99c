package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
)

// digestText is a team's week for its managers: pages against budgets,
// who carried most, off-hours, burns, the noisiest service, and where the
// full report is.
func digestText(ctx context.Context, rs api.ReportStore, org *rota.Org, team string, now time.Time, publicURL string) (string, error) {
	t := org.Team(team)
	from := now.Add(-rota.Week)
	rep, err := api.HumanReport(ctx, rs, scheduler.NewRoster(org, nil), team, from, now)
	if err != nil {
		return "", err
	}
	total, off := 0, 0
	var heavy []string
	for _, p := range rep.People {
		total += p.Pages
		off += p.OffHours
		if p.Pages > t.SLO.PagesPerWeek || p.OffHoursWindow > t.SLO.OffhoursIncidents {
			heavy = append(heavy, fmt.Sprintf("%s (%d pages, %d off-hours incidents)", p.Name, p.Pages, p.OffHours))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rota weekly digest for %s: %d alerts in %d incidents, %d pages (budget %d a person), %d off-hours incidents, %d off-hours pages avoided by quiet hours, %d budgets burned.",
		team, rep.AlertsIn, rep.IncidentsIn, total, t.SLO.PagesPerWeek, off, rep.Avoided, len(rep.Burns))
	if len(heavy) > 0 {
		fmt.Fprintf(&b, " Over budget: %s.", strings.Join(heavy, ", "))
	} else {
		b.WriteString(" Everyone within budget.")
	}
	if len(rep.Services) > 0 {
		fmt.Fprintf(&b, " Noisiest: %s (%d incidents, %d alerts).", rep.Services[0].Name, rep.Services[0].Incidents, rep.Services[0].Alerts)
	}
	if publicURL != "" {
		fmt.Fprintf(&b, " Report: %s/reports/teams/%s", publicURL, team)
	}
	return b.String(), nil
}

// scheduleDigests adds each team's digest to the cron runner, in the
// team's zone.
// Each digest goes through the outbox, once across the daemons on one
// database.
func scheduleDigests(jobs *cron.Cron, org *rota.Org, rs api.ReportStore, engine *paging.Engine, publicURL string, log *slog.Logger) error {
	for _, t := range org.Teams {
		if t.Digest == "" || len(t.Managers) == 0 {
			continue
		}
		spec := "CRON_TZ=" + t.Location.String() + " " + t.Digest
		if _, err := scheduler.ParseCron(spec); err != nil {
			return fmt.Errorf("team %s digest: %w", t.Name, err)
		}
		team := t
		if err := addJob(jobs, spec, func() {
			ctx := context.Background()
			now := now()
			text, err := digestText(ctx, rs, org, team.Name, now, publicURL)
			if err != nil {
				log.Error("weekly digest failed", "team", team.Name, "err", err)
				return
			}
			// Every daemon on the database runs this at the same minute;
			// the first queues the digest, the others find it queued.
			key := "digest:" + team.Name + ":" + now.UTC().Truncate(time.Minute).Format(time.RFC3339)
			if _, err := engine.QueueOnce(ctx, key, team.Managers, text); err != nil {
				log.Error("weekly digest not queued", "team", team.Name, "err", err)
			}
		}); err != nil {
			return fmt.Errorf("team %s digest: %w", t.Name, err)
		}
	}
	return nil
}

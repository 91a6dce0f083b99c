package replay_test

import (
	"context"
	"testing"
	"time"

	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging/replay"
)

// TestExampleOnAGeneratedYear: the example configuration, replayed on a
// generated year, at least halves the off-hours interruptions of paging
// everything at once, delays no critical incident, and pages the author
// first on most deploy-caused incidents (more than paging the on-call
// does, who sometimes wrote it).
func TestExampleOnAGeneratedYear(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a year twice; it reads no clock, so make test-dates need not run it at every instant")
	}
	if raceDetector {
		t.Skip("replays a year twice through the engine: ten times slower under -race; make test-go runs it without")
	}
	cfg, err := config.Load("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	var services []replay.YearService
	for _, svc := range cfg.Org.Services {
		ys := replay.YearService{Name: svc.Name, Zone: svc.Location}
		for _, m := range cfg.Org.Team(svc.Team).Members {
			if p := cfg.Org.Person(m); len(p.GitHub) > 0 {
				ys.Developers = append(ys.Developers, p.GitHub[0])
			}
		}
		services = append(services, ys)
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	in := replay.Year(replay.YearOptions{Seed: 1, Start: start, Services: services})
	if again := replay.Year(replay.YearOptions{Seed: 1, Start: start, Services: services}); len(again.Alerts) != len(in.Alerts) || !again.Alerts[100].At.Equal(in.Alerts[100].At) {
		t.Fatal("the same seed made another year")
	}
	opts := replay.Options{From: start, To: start.AddDate(1, 0, 0), RateLimit: cfg.Paging.RateLimit, Scratch: scratch(t)}
	proposed, err := replay.Run(context.Background(), cfg.Org, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Baseline = true
	baseline, err := replay.Run(context.Background(), cfg.Org, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	cmp := replay.Compare(cfg.Org, nil, proposed, baseline)
	p, b := cmp.Totals[0], cmp.Totals[1]
	if p.OffHoursInterruptions*2 > b.OffHoursInterruptions {
		t.Errorf("off-hours interruptions %d against the baseline's %d: not halved", p.OffHoursInterruptions, b.OffHoursInterruptions)
	}
	if cmp.CriticalDelayed != 0 || cmp.CriticalIncidents == 0 {
		t.Errorf("%d of %d critical incidents delayed", cmp.CriticalDelayed, cmp.CriticalIncidents)
	}
	// The baseline pages the on-call, who wrote the deploy now and then.
	if p.AuthorFirst < 0.8 || p.AuthorFirst <= b.AuthorFirst {
		t.Errorf("deploy incidents paging the author first: %.2f (baseline %.2f)", p.AuthorFirst, b.AuthorFirst)
	}
	if p.Interruptions >= b.Interruptions || len(proposed.Burns) == 0 {
		t.Errorf("interruptions %d against %d; %d burns", p.Interruptions, b.Interruptions, len(proposed.Burns))
	}
	t.Logf("alerts %d; off-hours interruptions %d vs %d; interruptions %d vs %d; sleep %d vs %d; author first %.0f%%",
		len(in.Alerts), p.OffHoursInterruptions, b.OffHoursInterruptions, p.Interruptions, b.Interruptions, p.Sleep, b.Sleep, 100*p.AuthorFirst)
}

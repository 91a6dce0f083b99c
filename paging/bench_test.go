package paging_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/policy"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
)

// BenchmarkAccountPage measures accounting one new page against the human
// budgets (the weekly and off-hours checks, the team's 80% warning) for a
// person with two years of history (10,400 pages) in a team of 8, from a
// real SQLite file. "under" is a week's first page, the common case;
// "burning" is the week's third, the one past the budget of two, which
// reads the week's pages and finds the burn already recorded;
// "burning-offhours" is the second page at night, past the off-hours
// budget of one, which reads the six months' pages (2,600 here).
func BenchmarkAccountPage(b *testing.B) {
	var cfg strings.Builder
	var members []string
	for p := 0; p < 8; p++ {
		fmt.Fprintf(&cfg, "[[people]]\nname = \"p%d\"\ntimezone = \"Europe/Berlin\"\n", p)
		members = append(members, fmt.Sprintf("%q", fmt.Sprintf("p%d", p)))
	}
	fmt.Fprintf(&cfg, "[[teams]]\nname = \"t\"\nmembers = [%s]\nmanagers = [\"p7\"]\ntimezone = \"Europe/Berlin\"\n", strings.Join(members, ","))
	cfg.WriteString("[[escalation_policies]]\nname = \"p\"\nsteps = [{ targets = [\"person:p0\"] }]\n")
	cfg.WriteString("[[services]]\nname = \"s\"\nteam = \"t\"\nescalation_policy = \"p\"\n")
	c, err := config.Parse("bench.toml", []byte(cfg.String()), b.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "rota.db"), store.Options{Synchronous: store.SyncNormal})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	book := scheduler.NewBook(scheduler.NewRoster(c.Org, nil))
	p0 := c.Org.Person("p0")
	// Two years before Monday 2 March 2026, 100 pages a week at daytime.
	start := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	var ds []rota.Delivery
	page := func(at time.Time, key string) rota.Page {
		db.Now = func() time.Time { return at }
		ev := rota.Event{Service: "s", Action: rota.ActionTrigger, DedupKey: key, Summary: "x", Severity: "critical", Integration: "native"}
		a, _, err := db.TriggerAlert(ctx, &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
		if err != nil {
			b.Fatal(err)
		}
		return rota.Page{IncidentID: a.ID, Person: "p0", At: at, Channel: "sms", OffHours: policy.OffHours(p0, at)}
	}
	for w := 0; w < 104; w++ {
		for i := 0; i < 100; i++ {
			at := start.AddDate(0, 0, 7*w).Add(time.Duration(i) * time.Minute)
			ds = append(ds, rota.Delivery{Outcome: rota.DeliverySent, At: at, Page: new(page(at, fmt.Sprint(w, "-", i)))})
		}
	}
	if err := db.RecordDeliveries(ctx, ds); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		pages int
		day   time.Time // in a week of its own
	}{{"under", 1, time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)}, {"burning", 3, time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)},
		{"burning-offhours", 2, time.Date(2026, 3, 17, 1, 0, 0, 0, time.UTC)}} {
		b.Run(tc.name, func(b *testing.B) {
			day := tc.day
			var last rota.Page
			var ds []rota.Delivery
			for i := 0; i < tc.pages; i++ {
				last = page(day.Add(time.Duration(i)*time.Minute), fmt.Sprint(tc.name, i))
				ds = append(ds, rota.Delivery{Outcome: rota.DeliverySent, At: last.At, Page: new(last)})
			}
			if err := db.RecordDeliveries(ctx, ds); err != nil {
				b.Fatal(err)
			}
			e := paging.New(paging.Options{Store: db, Book: book, Burns: db, Now: func() time.Time { return last.At }})
			e.Account(ctx, last) // the burn, if any, is recorded once
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.Account(ctx, last)
			}
		})
	}
}

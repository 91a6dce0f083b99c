package paging_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/policy"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

// BenchmarkAccountPage measures deciding what one new page burns (the
// weekly and off-hours budgets, the team's 80% warning) for a person with
// two years of history (5,200 pages, each its own interruption, in
// business hours) in a team of 8, from a real SQLite file: the read of
// the facts and the decision, before the one small write that records
// it. "under" is a week's first page, the common case; "burning" is the
// week's third, past the budget of two; "burning-offhours" the second
// off-hours incident in six months, past the budget of one.
func BenchmarkAccountPage(b *testing.B) {
	var cfg strings.Builder
	var members []string
	for p := 0; p < 8; p++ {
		fmt.Fprintf(&cfg, "[[people]]\nname = \"p%d\"\ntimezone = \"Europe/Berlin\"\ncontacts = [{ type = \"email\", address = \"p%d@example.com\" }]\n", p, p)
		members = append(members, fmt.Sprintf("%q", fmt.Sprintf("p%d", p)))
	}
	fmt.Fprintf(&cfg, "[[teams]]\nname = \"t\"\nmembers = [%s]\nmanagers = [\"p7\"]\ntimezone = \"Europe/Berlin\"\n", strings.Join(members, ","))
	cfg.WriteString("[[escalation_policies]]\nname = \"p\"\nsteps = [{ targets = [\"person:p0\"] }]\n")
	cfg.WriteString("[[services]]\nname = \"s\"\nteam = \"t\"\nescalation_policy = \"p\"\n")
	c, err := config.Parse("bench.toml", []byte(cfg.String()), b.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	db := storetest.Open(b, store.Options{Synchronous: store.SyncNormal})
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
		return rota.Page{IncidentID: a.ID, Person: "p0", At: at, Channel: "sms", OffHours: policy.OffHours(p0, at), Gap: 30 * time.Minute}
	}
	berlin := p0.Location
	for w := 0; w < 104; w++ {
		for day := 0; day < 5; day++ {
			for k := 0; k < 10; k++ {
				// Each its own interruption, 45 minutes apart, 09:00 to
				// 15:45 on weekdays.
				d := start.AddDate(0, 0, 7*w+day).In(berlin)
				at := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, berlin).Add(time.Duration(k) * 45 * time.Minute).UTC()
				ds = append(ds, rota.Delivery{Outcome: rota.DeliverySent, At: at, Page: new(page(at, fmt.Sprint(w, "-", day, "-", k)))})
			}
		}
	}
	if err := db.RecordDeliveries(ctx, ds, nil); err != nil {
		b.Fatal(err)
	}
	// The history is accounted already.
	for {
		items, err := db.PendingAccounting(ctx, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			if _, err := db.RecordAccounting(ctx, it.ID, nil); err != nil {
				b.Fatal(err)
			}
		}
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
				last = page(day.Add(time.Duration(i)*40*time.Minute), fmt.Sprint(tc.name, i))
				ds = append(ds, rota.Delivery{Outcome: rota.DeliverySent, At: last.At, Page: new(last)})
			}
			if err := db.RecordDeliveries(ctx, ds, nil); err != nil {
				b.Fatal(err)
			}
			items, err := db.PendingAccounting(ctx, 1000)
			if err != nil || len(items) == 0 {
				b.Fatal(items, err)
			}
			item := items[len(items)-1]
			e := paging.New(paging.Options{Store: db, Book: book, Burns: db, Now: func() time.Time { return last.At }})
			if burns, _ := e.DecideBurns(ctx, item); len(burns) == 0 && tc.name != "under" {
				b.Fatalf("%s: no burn", tc.name)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.DecideBurns(ctx, item); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

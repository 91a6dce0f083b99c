package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

// benchServer serves n rotations of five people each.
func benchServer(b *testing.B, n int, now func() time.Time) *api.Server {
	var cfg strings.Builder
	for t := 0; t < (n+9)/10; t++ {
		var members []string
		for p := 0; p < 5; p++ {
			members = append(members, fmt.Sprintf("%q", fmt.Sprintf("p%d-%d", t, p)))
			fmt.Fprintf(&cfg, "[[people]]\nname = \"p%d-%d\"\ntimezone = \"Europe/Berlin\"\n", t, p)
		}
		fmt.Fprintf(&cfg, "[[teams]]\nname = \"t%d\"\nmembers = [%s]\ntimezone = \"Europe/Berlin\"\n", t, strings.Join(members, ","))
	}
	for r := 0; r < n; r++ {
		t := r / 10
		fmt.Fprintf(&cfg, "[[rotations]]\nname = \"r%d\"\nteam = \"t%d\"\nmembers = [\"p%d-0\",\"p%d-1\",\"p%d-2\",\"p%d-3\",\"p%d-4\"]\nstart = 2026-01-06\n", r, t, t, t, t, t, t)
	}
	c, err := config.Parse("bench.toml", []byte(cfg.String()), b.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	db := storetest.Open(b, store.Options{})
	return api.New(api.Options{Book: scheduler.NewBook(scheduler.NewRoster(c.Org, nil)), Overrides: db, Ping: db.Ping, Settings: withToken(), Now: now})
}

// BenchmarkOnCall200Rotations measures the handler alone, without the
// network: the whole GET /api/v1/oncall answer for 200 rotations.
func BenchmarkOnCall200Rotations(b *testing.B) {
	start := time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)
	i := 0
	srv := benchServer(b, 200, func() time.Time { i++; return start.Add(time.Duration(i) * time.Millisecond) })
	req := httptest.NewRequest("GET", "/api/v1/oncall", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkOnCall200RotationsUncached asks about instants a week apart, so
// every answer is computed afresh: the cost when shifts change.
func BenchmarkOnCall200RotationsUncached(b *testing.B) {
	start := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	srv := benchServer(b, 200, func() time.Time { return start })
	var reqs []*http.Request
	for w := 0; w < 52; w++ {
		at := start.Add(time.Duration(w) * 7 * 24 * time.Hour)
		req := httptest.NewRequest("GET", "/api/v1/oncall?at="+at.Format(time.RFC3339), nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		reqs = append(reqs, req)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, reqs[n%len(reqs)])
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// feedBench serves alice, who is a member of 50 weekly rotations with 1,000
// overrides among them, and returns the server and her feed's path.
func feedBench(b *testing.B) (*api.Server, string) {
	var cfg strings.Builder
	cfg.WriteString("[[people]]\nname = \"alice\"\ntimezone = \"Europe/Berlin\"\n")
	for p := 1; p <= 4; p++ {
		fmt.Fprintf(&cfg, "[[people]]\nname = \"p%d\"\ntimezone = \"Europe/Berlin\"\n", p)
	}
	cfg.WriteString("[[teams]]\nname = \"t\"\nmembers = [\"alice\", \"p1\", \"p2\", \"p3\", \"p4\"]\ntimezone = \"Europe/Berlin\"\n")
	for r := 0; r < 50; r++ {
		fmt.Fprintf(&cfg, "[[rotations]]\nname = \"r%d\"\nteam = \"t\"\nmembers = [\"alice\", \"p1\", \"p2\", \"p3\", \"p4\"]\nstart = 2026-01-%02d\n", r, 1+r%28)
	}
	c, err := config.Parse("bench.toml", []byte(cfg.String()), b.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	db := storetest.Open(b, store.Options{Synchronous: store.SyncNormal})
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	for i := 0; i < 1000; i++ {
		start := now.Add(-4*7*24*time.Hour + time.Duration(i)*5*time.Hour)
		person := []string{"alice", "p1", "p2", "p3", "p4"}[i%5]
		o := rota.Override{Rotation: fmt.Sprintf("r%d", i%50), Person: person, Start: start, End: start.Add(time.Duration(2+i%20) * time.Hour)}
		if err := db.CreateOverride(context.Background(), &o); err != nil {
			b.Fatal(err)
		}
	}
	ovs, _ := db.Overrides(context.Background(), "")
	book := scheduler.NewBook(scheduler.NewRoster(c.Org, ovs))
	srv := api.New(api.Options{Book: book, Overrides: db, Pager: paging.New(paging.Options{Store: db, Book: book, Now: db.Now}), Alerts: db, Feeds: db,
		Ping: db.Ping, Settings: api.Settings{AdminToken: adminToken, PublicURL: "https://rota.example.com"}, Now: func() time.Time { return now }})
	tok, err := db.IssueFeedToken(context.Background(), "person", "alice")
	if err != nil {
		b.Fatal(err)
	}
	return srv, "/ical/people/alice.ics?token=" + tok
}

// BenchmarkPersonFeed renders a person's feed over the whole window (4
// weeks back, 26 ahead) across 50 rotations with 1,000 overrides.
func BenchmarkPersonFeed(b *testing.B) {
	srv, path := feedBench(b)
	req := httptest.NewRequest("GET", path, nil)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req) // first render records event versions
	events := strings.Count(w.Body.String(), "BEGIN:VEVENT")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
	b.ReportMetric(float64(events), "events")
}

// BenchmarkPersonFeedNotModified answers an unchanged feed from its ETag.
func BenchmarkPersonFeedNotModified(b *testing.B) {
	srv, path := feedBench(b)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("If-None-Match", w.Header().Get("ETag"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 304 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkHumanReportYear: the report over a year for a team of 50 with
// 100,000 pages, each an interruption of its own (the worst case: every
// row read), from a real SQLite file.
func BenchmarkHumanReportYear(b *testing.B) {
	var cfg strings.Builder
	var members []string
	for p := 0; p < 50; p++ {
		fmt.Fprintf(&cfg, "[[people]]\nname = \"p%d\"\ntimezone = \"Europe/Berlin\"\n", p)
		members = append(members, fmt.Sprintf("%q", fmt.Sprintf("p%d", p)))
	}
	fmt.Fprintf(&cfg, "[[teams]]\nname = \"t\"\nmembers = [%s]\ntimezone = \"Europe/Berlin\"\n", strings.Join(members, ","))
	cfg.WriteString("[[escalation_policies]]\nname = \"p\"\nsteps = [{ targets = [\"person:p0\"] }]\n")
	for s := 0; s < 20; s++ {
		fmt.Fprintf(&cfg, "[[services]]\nname = \"s%d\"\nteam = \"t\"\nescalation_policy = \"p\"\n", s)
	}
	c, err := config.Parse("bench.toml", []byte(cfg.String()), b.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	db := storetest.Open(b, store.Options{Synchronous: store.SyncNormal})
	to := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	from := to.AddDate(-1, 0, 0)
	// 5,000 alerts, 20 pages each (100,000 pages), spread over the year.
	ctx := context.Background()
	var ds []rota.Delivery
	for i := 0; i < 5000; i++ {
		at := from.Add(time.Duration(i) * (365 * 24 * time.Hour / 5000))
		db.Now = func() time.Time { return at }
		ev := rota.Event{Service: fmt.Sprintf("s%d", i%20), Action: rota.ActionTrigger, DedupKey: fmt.Sprint(i), Summary: fmt.Sprintf("alert %d", i%50), Severity: "critical", Integration: "native"}
		a, _, err := db.TriggerAlert(ctx, &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
		if err != nil {
			b.Fatal(err)
		}
		for p := 0; p < 20; p++ {
			ds = append(ds, rota.Delivery{Outcome: rota.DeliverySent, At: at.Add(time.Duration(p) * time.Minute),
				Page: &rota.Page{IncidentID: a.ID, Person: fmt.Sprintf("p%d", (i+p)%50), Channel: "sms"}})
		}
		if len(ds) >= 2000 {
			if err := db.RecordDeliveries(ctx, ds, nil); err != nil {
				b.Fatal(err)
			}
			ds = ds[:0]
		}
	}
	db.RecordDeliveries(ctx, ds, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := api.HumanReport(ctx, db, scheduler.NewRoster(c.Org, nil), "t", from, to)
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.People) != 50 {
			b.Fatal(len(rep.People))
		}
	}
}

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

// uiBench serves the web UI over 200 rotations (40 teams of five, each
// with a service) and 10,000 incidents with a page each, signed in as a
// member of the first team, who is on every list (and, for a manager's
// Now, as the team's manager, p0-4).
func uiBench(b *testing.B) (*api.Server, *http.Cookie, *http.Cookie) {
	var cfg strings.Builder
	cfg.WriteString("[auth]\nadmins = [\"p0-0\"]\n")
	const teams = 40
	for t := 0; t < teams; t++ {
		var members []string
		for p := 0; p < 5; p++ {
			members = append(members, fmt.Sprintf("%q", fmt.Sprintf("p%d-%d", t, p)))
			fmt.Fprintf(&cfg, "[[people]]\nname = \"p%d-%d\"\ntimezone = \"Europe/Berlin\"\ncontacts = [{ type = \"email\", address = \"p%d-%d@example.com\" }]\n", t, p, t, p)
		}
		fmt.Fprintf(&cfg, "[[teams]]\nname = \"t%d\"\nmembers = [%s]\nmanagers = [\"p%d-4\"]\ntimezone = \"Europe/Berlin\"\n", t, strings.Join(members, ","), t)
		fmt.Fprintf(&cfg, "[[escalation_policies]]\nname = \"e%d\"\nsteps = [{ targets = [\"rotation:r%d\"] }]\n", t, t*5)
		fmt.Fprintf(&cfg, "[[services]]\nname = \"s%d\"\nteam = \"t%d\"\nescalation_policy = \"e%d\"\n", t, t, t)
	}
	for r := 0; r < 200; r++ {
		t := r / 5
		fmt.Fprintf(&cfg, "[[rotations]]\nname = \"r%d\"\nteam = \"t%d\"\nmembers = [\"p%d-0\",\"p%d-1\",\"p%d-2\",\"p%d-3\",\"p%d-4\"]\nstart = 2026-01-06\n", r, t, t, t, t, t, t)
	}
	c, err := config.Parse("bench.toml", []byte(cfg.String()), b.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	db := storetest.Open(b, store.Options{Synchronous: store.SyncNormal})
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	from := now.AddDate(0, -6, 0)
	var ds []rota.Delivery
	for i := 0; i < 10000; i++ {
		at := from.Add(time.Duration(i) * (182 * 24 * time.Hour / 10000))
		db.Now = func() time.Time { return at }
		ev := rota.Event{Service: fmt.Sprintf("s%d", i%teams), Action: rota.ActionTrigger, DedupKey: fmt.Sprint(i), Summary: fmt.Sprintf("alert %d", i%50), Severity: "critical", Integration: "native"}
		inc, _, err := db.TriggerAlert(ctx, &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, rota.Delivery{Outcome: rota.DeliverySent, At: at, Page: &rota.Page{IncidentID: inc.ID, Person: fmt.Sprintf("p%d-%d", i%teams, i%5), Channel: "sms"}})
		if len(ds) >= 2000 {
			if err := db.RecordDeliveries(ctx, ds, nil); err != nil {
				b.Fatal(err)
			}
			ds = ds[:0]
		}
	}
	if err := db.RecordDeliveries(ctx, ds, nil); err != nil {
		b.Fatal(err)
	}
	db.Now = func() time.Time { return now }
	book := scheduler.NewBook(scheduler.NewRoster(c.Org, nil))
	engine := paging.New(paging.Options{Store: db, Book: book, Now: db.Now})
	srv := api.New(api.Options{Book: book, Overrides: db, Pager: engine, Alerts: db, Deploys: db, Feeds: db, Swaps: db, Teller: engine, Reports: db,
		Identity: db, SwapRequests: db, Budgets: db, Ping: db.Ping, Settings: api.Settings{Admins: c.Auth.Admins}, Now: func() time.Time { return now }})
	secret, _, err := db.CreateSession(ctx, "p0-0", "bench", 1000*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	manager, _, err := db.CreateSession(ctx, "p0-4", "bench", 1000*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return srv, &http.Cookie{Name: "rota_session", Value: secret}, &http.Cookie{Name: "rota_session", Value: manager}
}

// BenchmarkUIPages renders each page of the web UI server-side, from the
// request to the last byte, without the network. Issue 12 asks for under
// 50 ms each with 200 rotations and 10,000 incidents.
func BenchmarkUIPages(b *testing.B) {
	srv, member, manager := uiBench(b)
	for _, path := range []string{"/", "/ as manager", "/rotations", "/rotations/r0", "/incidents", "/incidents?team=t0", "/incidents/5000", "/swaps", "/tokens", "/audit"} {
		ck := member
		if p, ok := strings.CutSuffix(path, " as manager"); ok {
			path, ck = p, manager
		}
		b.Run(strings.NewReplacer("/", "_", "?", "_", "=", "_", " ", "_").Replace(path+map[bool]string{true: " as manager"}[ck == manager]), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				req.AddCookie(ck)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
				}
			}
		})
	}
}

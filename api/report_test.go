package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/policy"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

// reportPage is a page to record for a report: when (Berlin time) the
// incident was created and paged, who, its service and summary, and when
// it was acknowledged and resolved.
type reportPage struct {
	at, person, service, summary string
	ack, res                     time.Duration
}

// newReportFixture: team payments (alice, bob, carol; Europe/Berlin) with
// pages at fixed times in March 2026.
func newReportFixture(t *testing.T) *fixture {
	return newPagesFixture(t, deployConfig, time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC), []reportPage{
		{"2026-03-09 10:00", "bob", "payments-api", "5xx above 2%", 4 * time.Minute, 30 * time.Minute},
		{"2026-03-10 23:30", "bob", "payments-api", "5xx above 2%", 10 * time.Minute, time.Hour},
		{"2026-03-11 18:00", "bob", "web", "latency", 2 * time.Minute, 20 * time.Minute},
		// Inside the quiet gap after the one before: not a page of its own.
		{"2026-03-11 18:00", "bob", "web", "latency again", 0, 0},
		{"2026-03-17 14:00", "alice", "payments-api", "disk full", 6 * time.Minute, 0},
		{"2026-03-24 03:00", "carol", "payments-api", "5xx above 2%", 0, 0},
	}, func(f *fixture, local func(string) time.Time) {
		if _, err := f.db.RecordBurn(context.Background(), rota.BurnRecord{Team: "payments", Person: "bob", Budget: "weekly",
			Window: local("2026-03-09 00:00"), At: local("2026-03-11 18:00"), Pages: []rota.Page{
				{IncidentID: 1, Person: "bob", At: local("2026-03-09 10:00")}, {IncidentID: 2, Person: "bob", At: local("2026-03-10 23:30")},
				{IncidentID: 3, Person: "bob", At: local("2026-03-11 18:00")}}}, 0); err != nil {
			t.Fatal(err)
		}
	})
}

// newPagesFixture records pages as the engine would (each an incident
// that reached its person, a page when after the quiet gap), then serves
// the API with the clock at now.
func newPagesFixture(t *testing.T, toml string, now time.Time, pages []reportPage, more func(f *fixture, local func(string) time.Time)) *fixture {
	t.Helper()
	env := map[string]string{"GH": githubSecret, "KEY": searchKey, "WEB": grafanaKey}
	cfg, err := config.Parse("report.toml", []byte(toml), t.TempDir(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.Options{Synchronous: store.SyncNormal})
	f := &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil)), now: now}
	db.Now = func() time.Time { return f.now }
	engine := paging.New(paging.Options{Store: db, Book: f.book, Now: func() time.Time { return f.now }})
	f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: engine, Alerts: db, Reports: db, Feeds: db, Ping: db.Ping, Settings: withToken(),
		Now: func() time.Time { return f.now }})

	// Times are Berlin's, or another zone's as "Zone/Name 2006-01-02 15:04".
	local := func(s string) time.Time {
		zone := "Europe/Berlin"
		if strings.Count(s, " ") == 2 {
			zone, s, _ = strings.Cut(s, " ")
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	for i, p := range pages {
		f.now = local(p.at)
		ev := rota.Event{Service: p.service, Action: rota.ActionTrigger, DedupKey: fmt.Sprint(i), Summary: p.summary, Severity: "critical", Integration: "native"}
		a, _, err := db.TriggerAlert(context.Background(), &ev, rota.EscalationPolicy{Name: "default"}, func(*rota.Incident, time.Time) rota.StepOutcome {
			return rota.StepOutcome{Escalation: rota.Escalation{State: rota.EscalationActive}}
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.RecordDeliveries(context.Background(), []rota.Delivery{{Outcome: rota.DeliverySent, At: f.now,
			Page: &rota.Page{IncidentID: a.ID, Person: p.person, Channel: "sms", Gap: 30 * time.Minute,
				OffHours: policy.OffHours(cfg.Org.Person(p.person), f.now)}}}, nil); err != nil {
			t.Fatal(err)
		}
		if p.ack > 0 {
			f.now = local(p.at).Add(p.ack)
			db.ChangeStatus(context.Background(), a.ID, func(a rota.Incident, now time.Time) (rota.StatusChange, error) {
				return policy.ChangeStatus(a, rota.ActionAcknowledge, p.person, now)
			})
		}
		if p.res > 0 {
			f.now = local(p.at).Add(p.res)
			db.ChangeStatus(context.Background(), a.ID, func(a rota.Incident, now time.Time) (rota.StatusChange, error) {
				return policy.ChangeStatus(a, rota.ActionResolve, p.person, now)
			})
		}
	}
	if more != nil {
		more(f, local)
	}
	f.now = now
	// Served only now: a browser's requests reach the server without
	// passing through this goroutine, so the clock is set before it starts.
	f.srv = newServer(t, f.api)
	return f
}

// dstConfig is a team in Berlin with members in Berlin, New York and
// Sydney.
const dstConfig = `
[[people]]
name = "anna"
full_name = "Anna Becker"
timezone = "Europe/Berlin"
[[people]]
name = "ned"
full_name = "Ned Flynn"
timezone = "America/New_York"
[[people]]
name = "sia"
full_name = "Sia Tran"
timezone = "Australia/Sydney"
[[people]]
name = "mgr"
timezone = "Europe/Berlin"
contacts = [{ type = "email", address = "mgr@example.com" }]
[[teams]]
name = "payments"
members = ["anna", "ned", "sia"]
managers = ["mgr"]
timezone = "Europe/Berlin"
[[escalation_policies]]
name = "default"
steps = [{ targets = ["person:anna"] }]
[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
`

// TestReportAcrossDST: a report spanning Sydney's (4 Oct), Berlin's (25
// Oct) and New York's (1 Nov) changes. anna is paged three times in the
// week after Berlin's, the first at 00:30 on its Monday (still Sunday in
// UTC); ned at 00:15 on New York's first Monday after its change; sia at
// 00:10 on Sydney's first Monday after its. The default report (the last
// 12 weeks), its CSV and its page show each in their own local week, and
// anna's week over budget.
func TestReportAcrossDST(t *testing.T) {
	f := newPagesFixture(t, dstConfig, time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC), []reportPage{
		{"2026-10-26 00:30", "anna", "payments-api", "5xx above 2%", 0, 0},
		{"2026-10-28 14:00", "anna", "payments-api", "disk full", 0, 0},
		{"2026-11-01 23:00", "anna", "payments-api", "latency", 0, 0},
		{"America/New_York 2026-11-02 00:15", "ned", "payments-api", "queue stuck", 0, 0},
		{"Australia/Sydney 2026-10-05 00:10", "sia", "payments-api", "cert expiring", 0, 0},
	}, nil)
	r := f.do(t, "GET", "/api/v1/reports/human?team=payments", adminToken, "", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	want := map[string]struct {
		week  string // the local Monday's midnight, in UTC
		pages float64
	}{"anna": {"2026-10-25T23:00:00Z", 3}, "ned": {"2026-11-02T05:00:00Z", 1}, "sia": {"2026-10-04T13:00:00Z", 1}}
	for _, p := range r.body["people"].([]any) {
		p := p.(map[string]any)
		w := want[p["person"].(string)]
		found := false
		for _, wk := range p["weeks"].([]any) {
			wk := wk.(map[string]any)
			if wk["start"] == w.week {
				found = true
				if wk["pages"].(float64) != w.pages || wk["over_budget"] != (w.pages > 2) {
					t.Errorf("%s's week of %s: %v", p["person"], w.week, wk)
				}
			} else if wk["pages"].(float64) != 0 {
				t.Errorf("%s's week %v has pages", p["person"], wk)
			}
		}
		if !found || p["pages"].(float64) != w.pages {
			t.Errorf("%s: no week %s, or %v pages: %v", p["person"], w.week, p["pages"], p["weeks"])
		}
	}
	_, body := f.getFeed(t, "GET", "/api/v1/reports/human?team=payments&format=csv", "Authorization", "Bearer "+adminToken)
	for _, row := range []string{"payments,anna,Anna Becker,2026-10-25T23:00:00Z,3,2,true,3,3,", "payments,ned,Ned Flynn,2026-11-02T05:00:00Z,1,2,false,1,1,",
		"payments,sia,Sia Tran,2026-10-04T13:00:00Z,1,2,false,1,1,"} {
		if !strings.Contains(body, row) {
			t.Errorf("csv lacks %s:\n%s", row, body)
		}
	}
	_, body = f.getFeed(t, "GET", "/reports/teams/payments", "Authorization", "Bearer "+adminToken)
	for _, want := range []string{"<title>week of 26 Oct: 3 pages</title>", "<title>week of 2 Nov: 1 page</title>", "<title>week of 5 Oct: 1 page</title>",
		"Anna Becker</b><br><span class=\"muted\">3 pages, 3 incidents, 1 week(s) over budget"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHumanReportGolden(t *testing.T) {
	f := newReportFixture(t)
	r := f.do(t, "GET", "/api/v1/reports/human?team=payments&from=2026-03-09T00:00:00Z&to=2026-03-30T00:00:00Z", adminToken, "", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	var pretty map[string]any
	json.Unmarshal([]byte(r.raw), &pretty)
	got, _ := json.MarshalIndent(pretty, "", "  ")
	golden := filepath.Join("testdata", "report", "payments.json")
	if *updateGolden {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		os.WriteFile(golden, append(got, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./api -run HumanReportGolden -update)", err)
	}
	if string(got)+"\n" != string(want) {
		t.Errorf("report differs from %s:\n%s", golden, got)
	}
	people := map[string]map[string]any{}
	for _, p := range r.body["people"].([]any) {
		p := p.(map[string]any)
		people[p["person"].(string)] = p
	}
	// bob: three interruptions (the second latency alert at 18:00 came
	// inside the first's quiet gap), four incidents, three of them
	// off-hours, one in sleep hours.
	bob := people["bob"]
	if bob["pages"].(float64) != 3 || bob["incidents"].(float64) != 4 || bob["weeks_over_budget"].(float64) != 1 ||
		bob["offhours_incidents"].(float64) != 3 || bob["sleep_hours_incidents"].(float64) != 1 {
		t.Errorf("bob: %v", bob)
	}
	if people["carol"]["offhours_incidents"].(float64) != 1 || people["alice"]["offhours_incidents"].(float64) != 0 {
		t.Errorf("carol, alice: %v %v", people["carol"], people["alice"])
	}
	// MTTA over the four acknowledged: (4+10+2+6)/4 = 5.5 minutes.
	if r.body["mtta_seconds"].(float64) != 330 || r.body["alerts"].(float64) != 6 || r.body["incidents"].(float64) != 6 ||
		r.body["pages"].(float64) != 5 || len(r.body["burns"].([]any)) != 1 {
		t.Errorf("mtta %v, alerts %v, incidents %v, pages %v, burns %v", r.body["mtta_seconds"], r.body["alerts"], r.body["incidents"], r.body["pages"], r.body["burns"])
	}
	if s := r.body["noisy_services"].([]any); s[0].(map[string]any)["name"] != "payments-api" || s[0].(map[string]any)["incidents"].(float64) != 4 ||
		s[0].(map[string]any)["alerts"].(float64) != 4 {
		t.Errorf("noisy services: %v", s)
	}
	if b := r.body["burns"].([]any)[0].(map[string]any); b["budget_text"] != "more than 2 pages in a week" || b["name"] != "bob" {
		t.Errorf("burn: %v", b)
	}
}

func TestHumanReportCSVAndErrors(t *testing.T) {
	f := newReportFixture(t)
	res, body := f.getFeed(t, "GET", "/api/v1/reports/human?team=payments&from=2026-03-09T00:00:00Z&to=2026-03-30T00:00:00Z&format=csv", "Authorization", "Bearer "+adminToken)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	// From Monday 9 March 01:00 Berlin to Monday 30 March 02:00 Berlin:
	// four ISO weeks (the last for an hour) for each of three people.
	if len(lines) != 1+3*4 || !strings.HasPrefix(lines[0], "team,person,name,week_start,pages,budget,over_budget,pages_in_report,incidents_in_report,offhours_incidents") ||
		!strings.Contains(body, "payments,bob,bob,2026-03-08T23:00:00Z,3,2,true,3,4,3,1,3,1,0") {
		t.Errorf("csv:\n%s", body)
	}
	for _, q := range []string{"", "team=nope", "team=payments&format=pdf", "team=payments&from=2026-04-01T00:00:00Z&to=2026-03-01T00:00:00Z", "team=payments&from=2024-01-01T00:00:00Z"} {
		if r := f.do(t, "GET", "/api/v1/reports/human?"+q, adminToken, "", ""); r.status != 400 {
			t.Errorf("%q: %d %s", q, r.status, r.raw)
		}
	}
}

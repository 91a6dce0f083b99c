package replay_test

import (
	"context"
	"fmt"
	"github.com/rotahq/rota/clocktest"
	"math/rand"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/replay"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Run(m)) }

// fidelityConfig pages alice then bruno and chloe; web's warnings wait
// for business hours; queue groups by alert name.
const fidelityConfig = `
[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345001" }, { type = "voice", address = "+4915112345001", delay = "2m" }]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345002" }]
[[people]]
name = "chloe"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "https://hooks.example.com/chloe" }]
[[teams]]
name = "payments"
members = ["alice", "bruno", "chloe"]
managers = ["chloe"]
timezone = "Europe/Berlin"
[[rotations]]
name = "primary"
team = "payments"
members = ["alice", "bruno"]
start = 2026-01-06
[[rotations]]
name = "secondary"
team = "payments"
members = ["bruno", "alice"]
start = 2026-01-06
[[escalation_policies]]
name = "default"
repeat = 1
  [[escalation_policies.steps]]
  targets = ["rotation:primary"]
  delay = "5m"
  [[escalation_policies.steps]]
  targets = ["rotation:secondary", "person:chloe"]
  delay = "10m"
[[services]]
name = "api"
team = "payments"
escalation_policy = "default"
group = "off"
[[services]]
name = "web"
team = "payments"
escalation_policy = "default"
group_window = "5m"
[[services]]
name = "queue"
team = "payments"
escalation_policy = "default"
group_by = ["alertname"]
`

// scenario is a day and a half of alerts on whole minutes: each with when
// its source resolves it and how long after its incident opens it is
// acknowledged (0: never, its policy runs out).
func scenario(start time.Time) []replay.Alert {
	rng := rand.New(rand.NewSource(3))
	services := []string{"api", "web", "queue"}
	var out []replay.Alert
	for i := 0; i < 40; i++ {
		at := start.Add(time.Duration(rng.Intn(36*60)) * time.Minute)
		svc := services[rng.Intn(len(services))]
		sev := rota.SeverityCritical
		if rng.Intn(3) == 0 {
			sev = rota.SeverityWarning
		}
		ev := rota.Event{Service: svc, DedupKey: fmt.Sprintf("k%d", i), Summary: fmt.Sprintf("alert %d", i), Severity: sev, Integration: "native",
			Labels: map[string]string{"alertname": fmt.Sprintf("A%d", rng.Intn(3))}}
		a := replay.Alert{At: at, Event: ev}
		if rng.Intn(4) > 0 {
			a.ResolvedAt = at.Add(time.Duration(5+rng.Intn(90)) * time.Minute)
		}
		a.AckAfter = -1 // never: its policy runs out
		if rng.Intn(5) > 0 {
			a.AckAfter = time.Duration(1+rng.Intn(25)) * time.Minute
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// TestReplayReproducesTheEngine: the scenario run through the real
// engine (its store, outbox and clock) and through a replay of the same
// configuration reaches the same people with the same incidents, and
// interrupts them as often.
func TestReplayReproducesTheEngine(t *testing.T) {
	cfg, err := config.Parse("f.toml", []byte(fidelityConfig), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 4, 6, 0, 0, 0, time.UTC)
	alerts := scenario(start)

	// The engine, minute by minute.
	db := storetest.Open(t, store.Options{Synchronous: store.SyncNormal})
	clk := clocktest.NewFake(start)
	db.Now = clk.Now
	book := scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))
	engine := paging.New(paging.Options{Store: db, Book: book, Now: clk.Now, Burns: db,
		Notifiers: notify.NewRegistry(notify.NotifierFunc(func(context.Context, notify.Message) (notify.Receipt, error) { return notify.Receipt{}, nil }), nil)})
	ctx := context.Background()
	type ack struct {
		at time.Time
		id int64
	}
	var acks []ack
	incidentOf := map[string]int64{}
	end := start.Add(40 * time.Hour)
	next := 0
	// Planned work on api for two hours in the afternoon.
	window := rota.Maintenance{Service: "api", Start: start.Add(8 * time.Hour), End: start.Add(10 * time.Hour), Reason: "upgrade", CreatedBy: "test"}
	for now := start; now.Before(end); now = now.Add(time.Minute) {
		clk.Set(now)
		if now.Equal(window.Start) {
			if err := engine.StartMaintenance(ctx, &window); err != nil {
				t.Fatal(err)
			}
		}
		for ; next < len(alerts) && !alerts[next].At.After(now); next++ {
			a := alerts[next]
			res, err := engine.Trigger(ctx, a.Event)
			if err != nil {
				t.Fatal(err)
			}
			incidentOf[a.Event.DedupKey] = res.Incident.ID
			if res.Outcome == rota.TriggerCreated && a.AckAfter > 0 {
				acks = append(acks, ack{now.Add(a.AckAfter), res.Incident.ID})
			}
		}
		for _, a := range alerts[:next] {
			if a.ResolvedAt.Equal(now) {
				if _, err := engine.FollowUp(ctx, a.Event.Service, a.Event.DedupKey, rota.ActionResolve, "source"); err != nil && rota.ErrorCode(err) != rota.ENOTFOUND {
					t.Fatal(err)
				}
			}
		}
		for _, k := range acks {
			if k.at.Equal(now) {
				if _, err := engine.SetStatus(ctx, k.id, rota.ActionAcknowledge, "someone"); err != nil && rota.ErrorCode(err) != rota.ECONFLICT {
					t.Fatal(err)
				}
			}
		}
		if err := engine.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	recorded, err := db.Pages(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	interruptions, err := db.Interruptions(ctx, []string{"alice", "bruno", "chloe"}, time.Time{}, end.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	// The replay of the same alerts, and what the engine recorded read
	// the way a replay's figures are.
	res, err := replay.Run(ctx, cfg.Org, replay.Input{Alerts: alerts, Maintenance: []rota.Maintenance{window}}, replay.Options{From: start, To: end, Scratch: scratch(t)})
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for id := int64(1); id <= int64(res.Incidents); id++ {
		if inc, err := db.Incident(ctx, id); err == nil && inc.InMaintenance {
			held++
		}
	}
	if held == 0 {
		t.Error("no incident opened in the maintenance window: the scenario does not test it")
	}
	// Incidents are numbered in the same order by both: compare who each
	// reached.
	want, got := map[string]int{}, map[string]int{}
	for _, p := range recorded {
		want[fmt.Sprintf("%d %s", p.IncidentID, p.Person)]++
	}
	for _, p := range res.Pages {
		got[fmt.Sprintf("%d %s", p.IncidentID, p.Person)]++
	}
	if fmt.Sprint(sorted(want)) != fmt.Sprint(sorted(got)) {
		t.Errorf("incidents reached differ:\nengine %v\nreplay %v", sorted(want), sorted(got))
	}
	burns, err := db.Burns(ctx, start, end)
	if err != nil {
		t.Fatal(err)
	}
	rec := &replay.Recorded{Pages: recorded, Interruptions: interruptions}
	for _, b := range burns {
		if b.Person != "" {
			rec.Burns = append(rec.Burns, replay.Burn{Person: b.Person, Team: b.Team, Budget: b.Budget, Window: b.Window, At: b.At})
		}
	}
	incs, err := db.Incidents(ctx, rota.IncidentFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range incs {
		rec.Opened = append(rec.Opened, replay.Incident{ID: inc.ID, At: inc.CreatedAt, Service: inc.Service, Severity: inc.Severity, Deploy: inc.Deploy})
	}
	people, totals := replay.Tally(cfg.Org, rec, start, end)
	for name, p := range res.People {
		if *p != *people[name] {
			t.Errorf("%s: replay %+v, engine %+v", name, *p, *people[name])
		}
	}
	if totals != res.Totals {
		t.Errorf("totals: replay %+v, engine %+v", res.Totals, totals)
	}
	if len(recorded) < 20 {
		t.Errorf("the scenario reached only %d (incident, person) pairs: too easy", len(recorded))
	}
	t.Logf("%d alerts, %d incidents, %d pages, totals %+v", len(alerts), res.Incidents, len(recorded), totals)
}

// scratch opens replays' scratch databases under the test's directory.
func scratch(t testing.TB) replay.Scratch {
	return func(now func() time.Time) (replay.Store, func(), error) {
		db, done, err := store.OpenScratch(context.Background(), t.TempDir(), now)
		if err != nil {
			return nil, nil, err
		}
		return db, done, nil
	}
}

func sorted(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(out)
	return out
}

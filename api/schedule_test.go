package api_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

const scheduleConfig = `
[[people]]
name = "emma"
timezone = "Europe/Berlin"
[[people]]
name = "uma"
timezone = "America/New_York"
[[teams]]
name = "payments"
members = ["emma", "uma"]
timezone = "Europe/Berlin"
[[rotations]]
name = "us"
team = "payments"
members = ["uma"]
timezone = "America/New_York"
start = 2026-01-06
[[rotations]]
name = "eu"
team = "payments"
members = ["emma"]
shift = "1d"
handoff = "08:00"
active = ["daily 08:00-20:00"]
start = 2026-01-06
[[schedules]]
name = "fts"
team = "payments"
layers = ["us", "eu"]
`

// TestSchedulesInTheAPI: a schedule answers /api/v1/oncall and its
// rotation routes as a rotation does, saying which layer each shift is
// from; a restricted rotation's gap says why; overrides go on top.
func TestSchedulesInTheAPI(t *testing.T) {
	cfg, err := config.Parse("s.toml", []byte(scheduleConfig), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.Options{})
	f := &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil)), now: time.Date(2026, 3, 11, 11, 0, 0, 0, time.UTC)}
	db.Now = f.clock
	engine := paging.New(paging.Options{Store: db, Book: f.book, Now: f.clock})
	f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: engine, Alerts: db, Swaps: db, Teller: engine, SwapRequests: db, Identity: db,
		Ping: db.Ping, Settings: withToken(), Now: f.clock})
	f.srv = newServer(t, f.api)

	onCall := func() (map[string]map[string]any, map[string]map[string]any) {
		r := f.do(t, "GET", "/api/v1/oncall", adminToken, "", "")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		on, gaps := map[string]map[string]any{}, map[string]map[string]any{}
		for _, x := range r.body["oncall"].([]any) {
			on[x.(map[string]any)["rotation"].(string)] = x.(map[string]any)
		}
		for _, x := range r.body["gaps"].([]any) {
			gaps[x.(map[string]any)["rotation"].(string)] = x.(map[string]any)
		}
		return on, gaps
	}
	// 12:00 in Berlin: Europe's hours.
	on, _ := onCall()
	if s := on["fts"]; s["person"] != "emma" || s["layer"] != "eu" || s["start"] != "2026-03-11T07:00:00Z" || s["end"] != "2026-03-11T19:00:00Z" {
		t.Errorf("fts at noon in Berlin: %v", s)
	}
	// 22:00 in Berlin: New York's; eu is outside its hours.
	f.now = time.Date(2026, 3, 11, 21, 0, 0, 0, time.UTC)
	on, gaps := onCall()
	if s := on["fts"]; s["person"] != "uma" || s["layer"] != "us" || s["start"] != "2026-03-11T19:00:00Z" || s["end"] != "2026-03-12T07:00:00Z" {
		t.Errorf("fts at night in Berlin: %v", s)
	}
	if g := gaps["eu"]; g["reason"] != "outside the rotation's active hours" || g["until"] != "2026-03-12T07:00:00Z" {
		t.Errorf("eu's gap: %v", g)
	}
	// The schedule's own description, and its shifts by layer.
	r := f.do(t, "GET", "/api/v1/rotations/fts", adminToken, "", "")
	if r.status != 200 || r.body["layers"] == nil || r.body["shift"] != nil || len(r.body["next"].([]any)) != 4 {
		t.Errorf("fts: %s", r.raw)
	}
	// An override on the schedule wins over its layers.
	r = f.do(t, "POST", "/api/v1/rotations/fts/overrides", adminToken, "", `{"person":"emma","start":"2026-03-11T20:00:00Z","end":"2026-03-11T23:00:00Z","reason":"uma is travelling"}`)
	if r.status != 201 {
		t.Fatalf("override: %d %s", r.status, r.raw)
	}
	on, _ = onCall()
	if s := on["fts"]; s["person"] != "emma" || s["override"] != true || s["layer"] != nil {
		t.Errorf("fts with the override: %v", s)
	}
	if ovs, _ := db.Overrides(context.Background(), "fts"); len(ovs) != 1 {
		t.Errorf("stored: %+v", ovs)
	}
	// Shifts are traded on a layer, not on the schedule.
	r = f.do(t, "POST", "/api/v1/rotations/fts/swaps", adminToken, "", `{"a":"emma","b":"uma","shift_a_start":"2026-03-12T07:00:00Z","shift_b_start":"2026-03-12T19:00:00Z"}`)
	if r.status != 400 || !strings.Contains(r.raw, "fts is a schedule: trade shifts on one of its layers (us, eu)") {
		t.Errorf("swap on a schedule: %d %s", r.status, r.raw)
	}
	// Its page draws the final line on top and each layer below it; the
	// final line is who the API says, the override included.
	body := getPage(t, f.srv.URL, "/rotations/fts?days=3", adminToken)
	final := timelineBars(t, body, "final")
	for _, at := range []time.Time{time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 11, 21, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 11, 23, 30, 0, 0, time.UTC), time.Date(2026, 3, 12, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 13, 20, 0, 0, 0, time.UTC)} {
		f.now = at
		on, _ := onCall()
		shown, kind := "", ""
		for _, b := range final {
			if !at.Before(b.start) && at.Before(b.end) {
				shown, kind = b.person, b.kind
			}
		}
		if shown != on["fts"]["person"] || (on["fts"]["override"] == true) != (kind == "override") {
			t.Errorf("at %v the timeline shows %q (%s), the API %v", at, shown, kind, on["fts"])
		}
	}
	if eu := timelineBars(t, body, "eu"); len(eu) != 3 || eu[0].person != "emma" || eu[0].end.Sub(eu[0].start) != 12*time.Hour {
		t.Errorf("the eu layer: %+v, want emma 08:00-20:00 each of three days", eu)
	}
	if us := timelineBars(t, body, "us"); len(us) == 0 || us[0].person != "uma" {
		t.Errorf("the us layer: %+v", us)
	}
}

const swapConfig = `
[[people]]
name = "ana"
timezone = "Europe/Berlin"
[[people]]
name = "ben"
timezone = "Europe/Berlin"
[[people]]
name = "cai"
timezone = "Europe/Berlin"
[[people]]
name = "dev"
timezone = "Europe/Berlin"
[[teams]]
name = "t"
members = ["ana", "ben", "cai", "dev"]
timezone = "Europe/Berlin"
[[rotations]]
name = "daily"
team = "t"
members = ["ana", "ben"]
shift = "1d"
start = 2026-01-06
[[rotations]]
name = "layer"
team = "t"
members = ["ana", "cai"]
start = 2026-01-06
[[schedules]]
name = "sched"
team = "t"
layers = ["layer"]
[[rotations]]
name = "unused"
team = "t"
members = ["ana", "dev"]
start = 2026-01-06
[[schedules]]
name = "idle"
team = "t"
layers = ["unused"]
[[escalation_policies]]
name = "p"
steps = [{ targets = ["rotation:daily", "rotation:sched"], delay = "5m" }]
`

// TestSwapsOfferRealShifts: the swaps page offers partners on the
// rotations that page someone (a layer of a paged schedule counts; the
// layer of a schedule no policy pages does not), and, a partner chosen, at most ten
// of each one's next shifts on the rotations they share, soonest first.
func TestSwapsOfferRealShifts(t *testing.T) {
	cfg, err := config.Parse("swap.toml", []byte(swapConfig), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.Options{})
	book := scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))
	now := time.Date(2026, 3, 11, 11, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db.Now = clock
	srv := api.New(api.Options{Book: book, Overrides: db, Pager: paging.New(paging.Options{Store: db, Book: book, Now: clock}), Alerts: db, Identity: db,
		Swaps: db, SwapRequests: db, Ping: db.Ping, Settings: withToken(), Now: clock})
	ts := newServer(t, srv)
	token, _, err := db.CreateAPIToken(context.Background(), "ana", "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	body := getPage(t, ts.URL, "/swaps", token)
	partners := regexp.MustCompile(`(?s)<select id="sw-partner" name="partner">(.*?)</select>`).FindStringSubmatch(body)
	if partners == nil || !strings.Contains(partners[1], "ben") || !strings.Contains(partners[1], "cai") || strings.Contains(partners[1], "dev") {
		t.Fatalf("partners offered: %v", partners)
	}
	if strings.Contains(body, `id="sw-mine"`) || !strings.Contains(body, "Choose whom to trade with") {
		t.Errorf("with two partners and none chosen, the page offers shifts")
	}
	options := func(body, id string) []string {
		m := regexp.MustCompile(`(?s)<select id="` + id + `" name="[a-z]+">(.*?)</select>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no #%s", id)
		}
		var out []string
		for _, o := range regexp.MustCompile(`<option value="([^"]+)">`).FindAllStringSubmatch(m[1], -1) {
			out = append(out, o[1])
		}
		return out
	}
	body = getPage(t, ts.URL, "/swaps?partner=ben", token)
	mine, theirs := options(body, "sw-mine"), options(body, "sw-theirs")
	if len(mine) != 10 || len(theirs) != 10 {
		t.Errorf("ben: %d of mine and %d of his, want ten each (a daily rotation has more)", len(mine), len(theirs))
	}
	for i, v := range append(mine, theirs...) {
		if !strings.HasPrefix(v, "daily|") || i < len(mine) && !strings.HasPrefix(v, "daily|ana|") || i >= len(mine) && !strings.HasPrefix(v, "daily|ben|") {
			t.Errorf("offered %q with ben", v)
		}
	}
	if len(mine) > 1 && mine[0] > mine[1] {
		t.Errorf("not soonest first: %q", mine)
	}
	body = getPage(t, ts.URL, "/swaps?partner=cai", token)
	if mine := options(body, "sw-mine"); len(mine) == 0 || !strings.HasPrefix(mine[0], "layer|ana|") {
		t.Errorf("cai, on the schedule's layer: %q", mine)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/swaps?partner=dev", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 400 {
		t.Errorf("dev, on a layer of a schedule that pages nobody: %v %v", res.StatusCode, err)
	}
}

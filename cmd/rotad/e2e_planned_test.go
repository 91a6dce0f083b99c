package main

import (
	"encoding/json"
	"fmt"
	"github.com/rotahq/rota/clocktest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// plannedConfig: backups must beat every 2 seconds; payments-api may be
// put in maintenance. Pages go to webhooks on a receiver.
const plannedConfig = `
[server]
listen = "127.0.0.1:0"
database = "rota.db"

[log]
format = "json"

[paging]
rate_limit = "1s"

[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "RECEIVER/alice", updates = false }]
[[people]]
name = "mgr"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "RECEIVER/mgr" }]

[[teams]]
name = "payments"
members = ["alice"]
managers = ["mgr"]
timezone = "Europe/Berlin"
slo = { interruption_gap = "1s" }

[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06

[[escalation_policies]]
name = "default"
steps = [{ targets = ["rotation:primary"], delay = "1h" }]

[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY" }]
group = "off"

[[services]]
name = "backups"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY_BACKUPS" }]
  [[services.heartbeats]]
  name = "nightly"
  timeout = "2s"
`

const backupsKey = "backups-integration-key-for-e2e"

func plannedSetup(t *testing.T) (*receiver, *daemon, string) {
	t.Helper()
	rec := newReceiver(t)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(plannedConfig, "RECEIVER", rec.srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	return rec, startDaemon(t, cfgPath, "KEY="+serviceKey, "KEY_BACKUPS="+backupsKey), cfgPath
}

// TestHeartbeat: a job beats; it stops: an incident opens within the
// timeout plus a second of its last beat and pages; it beats again: the
// incident resolves.
func TestHeartbeat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec, d, _ := plannedSetup(t)
	if status, body := d.requestAs(backupsKey, "POST", "/api/v1/heartbeats/nope", ""); status != 404 || !strings.Contains(fmt.Sprint(body), "no heartbeat named") {
		t.Errorf("unknown heartbeat: %d %v", status, body)
	}
	if status, _ := d.requestAs(serviceKey, "POST", "/api/v1/heartbeats/nightly", ""); status != 404 {
		t.Errorf("another service's key: %d", status)
	}
	var last time.Time
	for i := 0; i < 3; i++ {
		status, body := d.requestAs(backupsKey, "POST", "/api/v1/heartbeats/nightly", "")
		if status != 200 || body["status"] != "up" {
			t.Fatalf("beat: %d %v", status, body)
		}
		last = clocktest.Now() // the daemon's clock too
		// Beating every second (the timeout is 2s): pacing, not a wait.
		time.Sleep(time.Second)
	}
	// Beating every second, nothing opened.
	if _, body := d.request("GET", "/api/v1/incidents", ""); len(body["incidents"].([]any)) != 0 {
		t.Fatalf("incidents while beating: %v", body)
	}
	// It stops.
	var opened time.Time
	for deadline := time.Now().Add(10 * time.Second); opened.IsZero(); time.Sleep(20 * time.Millisecond) {
		_, body := d.request("GET", "/api/v1/incidents", "")
		if incs := body["incidents"].([]any); len(incs) == 1 {
			inc := incs[0].(map[string]any)
			// When the daemon opened it, not when this loop saw it.
			opened, _ = time.Parse(time.RFC3339Nano, inc["created_at"].(string))
			if inc["service"] != "backups" || !strings.Contains(inc["summary"].(string), "heartbeat nightly missed") {
				t.Errorf("incident: %v", inc)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no incident for the missed heartbeat")
		}
	}
	if late := opened.Sub(last); late > 3*time.Second+200*time.Millisecond {
		t.Errorf("the incident opened %s after the last beat, want within the timeout (2s) plus 1s", late.Round(time.Millisecond))
	}
	rec.waitFor(t, "alice", 1, 5*time.Second)
	_, hbs := d.request("GET", "/api/v1/heartbeats", "")
	if hb := hbs["heartbeats"].([]any)[0].(map[string]any); hb["status"] != "missed" {
		t.Errorf("heartbeats: %v", hbs)
	}
	// It beats again: resolved, by the service's key.
	if status, _ := d.requestAs(backupsKey, "POST", "/api/v1/heartbeats/nightly", ""); status != 200 {
		t.Fatal(status)
	}
	_, inc := d.request("GET", "/api/v1/incidents/1", "")
	if inc["status"] != "resolved" || !strings.Contains(fmt.Sprint(inc["resolved_by"]), "service backups") {
		t.Errorf("after the beat: %v %v", inc["status"], inc["resolved_by"])
	}
	// And it is watched again: a second miss is a second incident.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body := d.request("GET", "/api/v1/incidents", "")
		if len(body["incidents"].([]any)) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no second incident")
		}
	}
}

// TestMaintenanceWindow: a window set with the service's key silences
// its alerts: recorded, paging nobody, charged to no one, and said on
// their timeline and in the report; when the window ends, what still
// fires pages and what was resolved meanwhile never does.
func TestMaintenanceWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec, d, cfgPath := plannedSetup(t)
	// Bad windows are refused, naming the problem.
	for body, want := range map[string]string{
		`{"duration":"2h","start":"2030-01-01T00:00:00Z"}`: "give duration, or start and end, not both",
		`{"duration":"-1h"}`: "duration",
		`{"start":"2020-01-01T00:00:00Z","end":"2020-01-01T02:00:00Z"}`: "end: is in the past",
		`{"duration":"9d"}`: "more than a week",
		`{}`:                "start: is required",
	} {
		status, got := d.requestAs(serviceKey, "POST", "/api/v1/services/payments-api/maintenance", body)
		if status != 400 || !strings.Contains(fmt.Sprint(got), want) {
			t.Errorf("%s: %d %v, want 400 naming %q", body, status, got, want)
		}
	}
	if status, _ := d.requestAs(backupsKey, "POST", "/api/v1/services/payments-api/maintenance", `{"duration":"1h"}`); status != 403 {
		t.Errorf("another service's key: %d", status)
	}
	status, m := d.requestAs(serviceKey, "POST", "/api/v1/services/payments-api/maintenance", `{"duration":"4s","reason":"deploy of v2"}`)
	if status != 201 || m["active"] != true {
		t.Fatalf("start: %d %v", status, m)
	}
	started := time.Now()
	end, _ := time.Parse(time.RFC3339Nano, m["end"].(string))
	firing := postAlert(t, d, "still-firing")
	fixed := postAlert(t, d, "fixed-in-time")
	// In the window, each incident's first step waits for its end, and
	// nothing is queued: the state says so, no waiting needed.
	for _, id := range []int{firing, fixed} {
		_, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		due, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(inc["escalation"].(map[string]any)["due_at"]))
		if due.Before(end.Truncate(time.Millisecond)) { // stored to the millisecond
			t.Errorf("incident %d's first step is due at %v, before the window's end %s", id, inc["escalation"], end)
		}
		if ns, _ := inc["notifications"].([]any); len(ns) != 0 {
			t.Errorf("incident %d notified in maintenance: %v", id, ns)
		}
		if !strings.Contains(fmt.Sprint(inc["timeline"]), "maintenance (deploy of v2) until") {
			t.Errorf("timeline: %v", inc["timeline"])
		}
	}
	if got := rec.to("alice"); len(got) != 0 {
		t.Fatalf("paged in maintenance: %+v", got)
	}
	if status, _ := d.request("POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", fixed), ""); status != 200 {
		t.Fatal(status)
	}
	_, list := d.request("GET", "/api/v1/maintenance", "")
	if ms := list["maintenance"].([]any); len(ms) != 1 || ms[0].(map[string]any)["reason"] != "deploy of v2" {
		t.Errorf("list: %v", list)
	}
	// The window ends: the incident still firing pages, once.
	got := rec.waitFor(t, "alice", 1, 10*time.Second)
	if at := got[0].at; at.Before(end) || at.Sub(end) > 2*time.Second {
		t.Errorf("paged at %s, the window ended at %s (set at %s)", at.Format("15:04:05.000"), end.Format("15:04:05.000"), started.Format("15:04:05.000"))
	}
	if len(got[0].alerts) != 1 || got[0].alerts[0] != int64(firing) {
		t.Errorf("paged for %v, want incident %d", got[0].alerts, firing)
	}
	// Recorded as sent, it is not sent again; the one resolved in the
	// window has nothing queued.
	waitSent(t, d, firing, 1)
	d.escalationStopped(int64(fixed), func(map[string]any) bool { return false })
	if n := len(rec.to("alice")); n != 1 {
		t.Errorf("alice paged %d times", n)
	}
	// The report counts the one resolved in the window as a page avoided
	// (the other paged when it ended), and alice's pages are the one
	// after the window.
	_, rep := d.request("GET", "/api/v1/reports/human?team=payments", "")
	if rep["maintenance_pages_avoided"] != float64(1) {
		t.Errorf("report: %v", rep["maintenance_pages_avoided"])
	}
	for _, p := range rep["people"].([]any) {
		if p := p.(map[string]any); p["person"] == "alice" && p["pages"] != float64(1) {
			t.Errorf("alice was charged %v pages, want 1", p["pages"])
		}
	}
	// A window set ahead can be cancelled; the CLI lists them.
	status, m = d.requestAs(serviceKey, "POST", "/api/v1/services/payments-api/maintenance", `{"start":"2030-01-01T00:00:00Z","end":"2030-01-01T02:00:00Z"}`)
	if status != 201 || m["active"] != false {
		t.Fatalf("ahead: %d %v", status, m)
	}
	var out, errOut strings.Builder
	if err := run([]string{"maintenance", "list", "--config", cfgPath}, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "2030-01-01T00:00:00Z") || !strings.Contains(out.String(), "payments-api") {
		t.Errorf("rotad maintenance list: %v\n%s%s", err, out.String(), errOut.String())
	}
	if status, _ := d.requestAs(serviceKey, "DELETE", fmt.Sprintf("/api/v1/maintenance/%d", int(m["id"].(float64))), ""); status != 200 {
		t.Errorf("cancel: %d", status)
	}
	if status, _ := d.requestAs(serviceKey, "DELETE", "/api/v1/maintenance/999", ""); status != 404 {
		t.Errorf("unknown window: %d", status)
	}
}

// postAlert posts an alert for payments-api and returns its incident.
func postAlert(t *testing.T, d *daemon, key string) int {
	t.Helper()
	status, body := d.requestAs(serviceKey, "POST", "/api/v1/alerts", fmt.Sprintf(`{"summary":"%s","severity":"critical","dedup_key":%q}`, key, key))
	if status != 202 {
		t.Fatalf("post: %d %v", status, body)
	}
	return int(body["incident_id"].(float64))
}

// TestReplayCLI: what a running rotad recorded is exported as JSONL and
// replayed through its configuration, beside what happened: the replay
// reaches alice as often as the daemon did.
func TestReplayCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec, d, cfgPath := plannedSetup(t)
	for _, k := range []string{"r1", "r2", "r3"} {
		postAlert(t, d, k)
	}
	rec.waitFor(t, "alice", 1, 10*time.Second)
	for id := 1; id <= 3; id++ { // the first page, then her rate limit's bundle
		waitSent(t, d, id, 1)
	}
	if status, _ := d.request("POST", "/api/v1/incidents/1/ack", ""); status != 200 {
		t.Fatalf("ack: %d", status)
	}
	from, to := clocktest.Now().Add(-time.Hour).UTC().Format(time.RFC3339), clocktest.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	jsonl := filepath.Join(t.TempDir(), "alerts.jsonl")
	var out, errOut strings.Builder
	if err := run([]string{"export-alerts", "--config", cfgPath, "--from", from, "--to", to, "--out", jsonl}, &out, &errOut); err != nil {
		t.Fatalf("export: %v %s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "exported 3 alerts") {
		t.Errorf("export said: %s", errOut.String())
	}
	data, _ := os.ReadFile(jsonl)
	if n := strings.Count(string(data), `"type":"alert"`); n != 3 || !strings.Contains(string(data), `"type":"page"`) || !strings.Contains(string(data), `"ack_after_s"`) {
		t.Errorf("JSONL (%d alerts):\n%s", n, data)
	}
	out.Reset()
	if err := run([]string{"replay", "--config", cfgPath, "--from", from, "--to", to}, &out, &errOut); err != nil {
		t.Fatalf("replay --db: %v %s", err, errOut.String())
	}
	table := out.String()
	if !strings.Contains(table, "recorded") || !strings.Contains(table, "proposed") || !strings.Contains(table, "baseline") || !strings.Contains(table, "alice") ||
		!strings.Contains(table, "agrees with what was recorded on every figure") {
		t.Errorf("replay table:\n%s", table)
	}
	t.Logf("replay table:\n%s", table)
	out.Reset()
	if err := run([]string{"replay", "--config", cfgPath, "--alerts", jsonl, "--from", from, "--to", to, "--format", "json"}, &out, &errOut); err != nil {
		t.Fatalf("replay --alerts: %v %s", err, errOut.String())
	}
	var cmp struct {
		Columns []string `json:"columns"`
		People  []struct {
			Person string `json:"person"`
			Runs   []struct {
				Incidents int `json:"incidents"`
			} `json:"runs"`
		} `json:"people"`
	}
	if err := json.Unmarshal([]byte(out.String()), &cmp); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if strings.Join(cmp.Columns, ",") != "recorded,proposed,baseline" || len(cmp.People) == 0 || cmp.People[0].Person != "alice" ||
		cmp.People[0].Runs[0].Incidents != cmp.People[0].Runs[1].Incidents {
		t.Errorf("replay JSON: %s", out.String())
	}
	if err := run([]string{"replay", "--config", cfgPath, "--alerts", jsonl, "--format", "pdf"}, &out, &errOut); err == nil {
		t.Error("--format pdf accepted")
	}
}

// TestReloadMovesDeadlines: SIGHUP moves every deadline the configuration
// changed. A heartbeat's timeout lengthened from 2s to 1h pages nobody
// when the old deadline passes; a policy's first delay shortened from 1h
// to 1s runs the next step at once (its manager is paged, the timeline
// says why); a recurring maintenance window removed pages what it held.
func TestReloadMovesDeadlines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	local := time.Now().In(berlin)
	window := fmt.Sprintf(`maintenance = ["daily %s-%s"]`, local.Add(-time.Hour).Format("15:04"), local.Add(2*time.Hour).Format("15:04"))
	twoSteps := `steps = [{ targets = ["rotation:primary"], delay = "1h" }, { targets = ["person:mgr"], delay = "1h" }]`
	before := strings.NewReplacer(
		`steps = [{ targets = ["rotation:primary"], delay = "1h" }]`, twoSteps,
		`integration_keys = [{ env = "KEY_BACKUPS" }]`, `integration_keys = [{ env = "KEY_BACKUPS" }]`+"\n"+window,
	).Replace(plannedConfig)
	after := strings.NewReplacer(
		twoSteps, `steps = [{ targets = ["rotation:primary"], delay = "1s" }, { targets = ["person:mgr"], delay = "1h" }]`,
		"\n"+window, "",
		`timeout = "2s"`, `timeout = "1h"`,
	).Replace(before)
	if before == plannedConfig || after == before || strings.Contains(after, "maintenance =") {
		t.Fatal("the test's configurations did not come out as meant")
	}
	rec := newReceiver(t)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	write := func(cfg string) {
		if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(cfg, "RECEIVER", rec.srv.URL)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(before)
	d := startDaemon(t, cfgPath, "KEY="+serviceKey, "KEY_BACKUPS="+backupsKey)

	// The heartbeat beats once: due within 2s.
	if status, _ := d.requestAs(backupsKey, "POST", "/api/v1/heartbeats/nightly", ""); status != 200 {
		t.Fatal(status)
	}
	beat := time.Now()
	// payments-api's alert pages alice; its next step (mgr) is an hour away.
	paged := postAlert(t, d, "slow-checkout")
	rec.waitFor(t, "alice", 1, 5*time.Second)
	// backups is in maintenance: its alert pages nobody until the window ends.
	status, body := d.requestAs(backupsKey, "POST", "/api/v1/alerts", `{"summary":"disk 91%","severity":"critical"}`)
	if status != 202 {
		t.Fatalf("backups alert: %d %v", status, body)
	}
	held := int(body["incident_id"].(float64))
	_, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", held), "")
	if !strings.Contains(fmt.Sprint(inc["timeline"]), "recurring maintenance until") {
		t.Fatalf("backups' alert was not held: %v", inc["timeline"])
	}

	write(after)
	d.signal(syscall.SIGHUP)
	d.waitLog("config reloaded", 10*time.Second)

	// The shortened delay: the manager is paged now, and the timeline says why.
	rec.waitFor(t, "mgr", 1, 5*time.Second)
	_, inc = d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", paged), "")
	if !strings.Contains(fmt.Sprint(inc["timeline"]), "the configuration changed policy default: step 1 waits 1s, not 1h") {
		t.Errorf("timeline of the incident whose delay changed: %v", inc["timeline"])
	}
	// The window removed: the held alert pages alice.
	rec.waitFor(t, "alice", 2, 5*time.Second)
	_, inc = d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", held), "")
	if !strings.Contains(fmt.Sprint(inc["timeline"]), "it is no longer in maintenance: the next step runs now") {
		t.Errorf("timeline of the held incident: %v", inc["timeline"])
	}

	// The heartbeat's old deadline passes (time that must pass: nothing
	// to wait for, as nothing must happen).
	time.Sleep(time.Until(beat.Add(3 * time.Second)))
	_, hbs := d.request("GET", "/api/v1/heartbeats", "")
	hb := hbs["heartbeats"].([]any)[0].(map[string]any)
	if hb["status"] != "up" || hb["timeout"] != "1h" {
		t.Errorf("heartbeat after the reload: %v", hb)
	}
	_, list := d.request("GET", "/api/v1/incidents?service=backups", "")
	for _, i := range list["incidents"].([]any) {
		if s := fmt.Sprint(i.(map[string]any)["summary"]); strings.Contains(s, "heartbeat") {
			t.Errorf("a false heartbeat incident after the reload: %v", i)
		}
	}
}

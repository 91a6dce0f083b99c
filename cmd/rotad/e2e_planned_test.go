package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

func plannedSetup(t *testing.T) (*receiver, *daemon) {
	t.Helper()
	rec := newReceiver(t)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(plannedConfig, "RECEIVER", rec.srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	return rec, startDaemon(t, cfgPath, "KEY="+serviceKey, "KEY_BACKUPS="+backupsKey)
}

// TestHeartbeat: a job beats; it stops: an incident opens within the
// timeout plus a second of its last beat and pages; it beats again: the
// incident resolves.
func TestHeartbeat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec, d := plannedSetup(t)
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
		last = time.Now()
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
			opened = time.Now()
			inc := incs[0].(map[string]any)
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

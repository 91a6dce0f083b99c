package main

import (
	"fmt"
	"github.com/rotahq/rota/clocktest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const deployE2EConfig = `
# Pages to one person come a second apart at the closest, not a minute.
[paging]
rate_limit = "1s"

[server]
listen = "127.0.0.1:0"
database = "rota.db"

[log]
format = "json"

[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "RECEIVER/alice" }]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
github = ["bruno-gh"]
contacts = [{ type = "webhook", address = "RECEIVER/bruno" }]
[[people]]
name = "carol"
timezone = "Europe/Berlin"
emails = ["carol@example.com"]
contacts = [{ type = "webhook", address = "RECEIVER/carol" }]

[[teams]]
name = "payments"
members = ["alice", "bruno", "carol"]
timezone = "Europe/Berlin"

[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06

[[escalation_policies]]
name = "default"
steps = [{ targets = ["rotation:primary"], delay = "3s" }]

[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY" }]
[[services]]
name = "search-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY2" }]
`

const serviceKey2 = "second-integration-key-for-e2e"

// TestDeployAuthorPagedFirst: a deploy, then an alert 10 minutes later:
// the author alone is paged first, with why (the merger only when the
// author cannot be); the on-call after the grace (the policy's first
// delay, 3s) when nobody acknowledges. The timeline and the audit log
// name the key that recorded the deploy. An alert 2 hours after a deploy
// pages only the on-call.
func TestDeployAuthorPagedFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec := newReceiver(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(deployE2EConfig, "RECEIVER", rec.srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfgPath, "KEY="+serviceKey, "KEY2="+serviceKey2)

	now := clocktest.Now().UTC()
	deploy := fmt.Sprintf(`{"commit":"abc1234def5678","author":"bruno-gh","merged_by":"Carol@Example.com","deployed_at":%q,"compare_url":"https://github.com/acme/payments/compare/a...b"}`,
		now.Add(-10*time.Minute).Format(time.RFC3339))
	if status, body := d.requestAs(serviceKey, "POST", "/api/v1/deploys", deploy); status != 201 || body["author_person"] != "bruno" || body["merger_person"] != "carol" {
		t.Fatalf("deploy: %d %v", status, body)
	}
	old := fmt.Sprintf(`{"commit":"old0000","author":"bruno-gh","deployed_at":%q}`, now.Add(-2*time.Hour).Format(time.RFC3339))
	if status, _ := d.requestAs(serviceKey2, "POST", "/api/v1/deploys", old); status != 201 {
		t.Fatal(status)
	}

	posted := time.Now()
	if status, _ := d.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"5xx above 2%","severity":"critical"}`); status != 202 {
		t.Fatal(status)
	}
	rec.waitFor(t, "bruno", 1, 5*time.Second)
	if n := len(rec.to("alice")); n != 0 {
		t.Fatalf("the on-call was paged before the author's step delay")
	}
	_, a := d.request("GET", "/api/v1/alerts/1", "")
	reasons := map[string]string{}
	for _, n := range a["notifications"].([]any) {
		n := n.(map[string]any)
		reasons[n["person"].(string)], _ = n["reason"].(string)
	}
	if !strings.HasPrefix(reasons["bruno"], "you deployed abc1234 10 min ago (merged by Carol@Example.com): https://github.com/acme/payments/compare/a...b") {
		t.Errorf("reasons: %v", reasons)
	}
	if _, paged := reasons["carol"]; paged {
		t.Errorf("the merger was paged though the author could be: %v", reasons)
	}
	var said []string
	for _, e := range a["timeline"].([]any) {
		said = append(said, fmt.Sprint(e.(map[string]any)["message"]))
	}
	if tl := strings.Join(said, "\n"); !strings.Contains(tl, "suspects deploy abc1234 to payments-api, rolled out 10 min before: author bruno-gh, merged by Carol@Example.com; recorded by service payments-api's key env:KEY") {
		t.Errorf("the timeline does not name the deploy and its key:\n%s", tl)
	}
	_, audit := d.request("GET", "/api/v1/audit?action=deploy.record", "")
	if !strings.Contains(fmt.Sprint(audit), "service payments-api's key env:KEY") {
		t.Errorf("the audit log does not name the key that recorded the deploy: %v", audit)
	}
	if sus := a["suspected_deploy"].(map[string]any); sus["commit"] != "abc1234def5678" {
		t.Errorf("suspected deploy: %v", sus)
	}

	// Nobody acknowledges: after the step delay, the on-call.
	got := rec.waitFor(t, "alice", 1, 6*time.Second)
	if wait := got[0].at.Sub(posted); wait < 3*time.Second || wait > 4500*time.Millisecond {
		t.Errorf("the on-call was paged %s after the alert, want about 3s", wait)
	}

	// Two hours after its deploy, search-api's alert pages the on-call only.
	if status, _ := d.requestAs(serviceKey2, "POST", "/api/v1/alerts", `{"summary":"slow","severity":"critical"}`); status != 202 {
		t.Fatal(status)
	}
	got = rec.waitFor(t, "alice", 2, 5*time.Second)
	if len(got[1].alerts) != 1 || got[1].alerts[0] != 2 {
		t.Errorf("alice's second page: %+v", got[1])
	}
	// Its notifications, all decided when it was triggered, reach
	// nobody but the on-call.
	_, a = d.request("GET", "/api/v1/alerts/2", "")
	for _, n := range a["notifications"].([]any) {
		if p := n.(map[string]any)["person"]; p != "alice" {
			t.Errorf("search-api's alert notified %v (the old deploy is outside the window)", p)
		}
	}
	if n := len(rec.to("bruno")); n != 1 {
		t.Errorf("bruno paged %d times, want once", n)
	}
	if n := len(rec.to("carol")); n != 0 {
		t.Errorf("carol, the merger, paged %d times", n)
	}
	if a["suspected_deploy"] != nil {
		t.Errorf("suspected deploy two hours later: %v", a["suspected_deploy"])
	}
}

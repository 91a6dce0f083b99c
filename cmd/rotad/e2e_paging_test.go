package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook endpoint on loopback that records what rotad
// sends, standing in for Slack.
type receiver struct {
	mu  sync.Mutex
	got []received
	srv *httptest.Server
}

type received struct {
	person string
	alerts []int64
	text   string
	at     time.Time
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			Person    string `json:"person"`
			Text      string `json:"text"`
			Incidents []struct {
				ID int64 `json:"id"`
			} `json:"incidents"`
		}
		json.NewDecoder(req.Body).Decode(&body)
		rec := received{person: body.Person, text: body.Text, at: time.Now()}
		for _, a := range body.Incidents {
			rec.alerts = append(rec.alerts, a.ID)
		}
		r.mu.Lock()
		r.got = append(r.got, rec)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) to(person string) []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, g := range r.got {
		if g.person == person {
			out = append(out, g)
		}
	}
	return out
}

// waitFor polls until n messages reached person, or fails.
func (r *receiver) waitFor(t *testing.T, person string, n int, within time.Duration) []received {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := r.to(person)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s received %d messages in %s, want %d", person, len(got), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const pagingConfig = `
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
contacts = [{ type = "slack", address = "RECEIVER/bruno" }]
[[people]]
name = "mgr"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "RECEIVER/mgr" }]

[[teams]]
name = "payments"
members = ["alice", "bruno"]
managers = ["mgr"]
timezone = "Europe/Berlin"

[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06

[[escalation_policies]]
name = "default"
  [[escalation_policies.steps]]
  targets = ["rotation:primary"]
  delay = "4s"
  [[escalation_policies.steps]]
  targets = ["person:bruno"]
  delay = "1m"

[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY" }]
# One incident per alert: three escalations to follow across the kill.
group = "off"
`

const serviceKey = "example-integration-key-for-e2e"

// TestPagingSurvivesKill9: alerts posted in PagerDuty and Alertmanager
// form page the on-call at once; rotad is killed with SIGKILL before the
// next step; restarted, it fires that step on time and sends nothing again
// that it had recorded as sent.
func TestPagingSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec := newReceiver(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(pagingConfig, "RECEIVER", rec.srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfgPath, "KEY="+serviceKey)

	pd := fmt.Sprintf(`{"routing_key":%q,"event_action":"trigger","dedup_key":"pd-1","payload":{"summary":"checkout 5xx","source":"lb","severity":"critical"}}`, serviceKey)
	posted := time.Now()
	status, body := d.requestAs("", "POST", "/v2/enqueue", pd)
	if status != 202 || body["status"] != "success" {
		t.Fatalf("pagerduty event: %d %v", status, body)
	}
	am, err := os.ReadFile("../../api/testdata/alertmanager/webhook-v4.firing.json")
	if err != nil {
		t.Fatal(err)
	}
	status, body = d.requestAs(serviceKey, "POST", "/api/v1/integrations/alertmanager", string(am))
	if status != 202 || len(body["alerts"].([]any)) != 2 {
		t.Fatalf("alertmanager webhook: %d %v", status, body)
	}
	got := rec.waitFor(t, "alice", 3, 5*time.Second)
	if lat := got[0].at.Sub(posted); lat > time.Second {
		t.Errorf("first notification %s after the post", lat)
	}

	// Wait until every notification is recorded as sent, then kill -9.
	deadline := time.Now().Add(5 * time.Second)
	for id := 1; id <= 3; id++ {
		for {
			_, a := d.request("GET", fmt.Sprintf("/api/v1/alerts/%d", id), "")
			ns, _ := a["notifications"].([]any)
			if len(ns) == 1 && ns[0].(map[string]any)["status"] == "sent" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("alert %d's notification not recorded as sent: %v", id, a)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.done
	if len(rec.to("bruno")) != 0 {
		t.Fatal("step 2 fired before its delay")
	}

	// Restarted, the daemon fires step 2 when it falls due (4s after the
	// alerts were created) and sends alice nothing more.
	d2 := startDaemon(t, cfgPath, "KEY="+serviceKey)
	got = rec.waitFor(t, "bruno", 3, 10*time.Second)
	for _, g := range got {
		if late := g.at.Sub(posted.Add(4 * time.Second)); late > time.Second {
			t.Errorf("step 2 fired %s after it was due", late)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(rec.to("alice")); n != 3 {
		t.Errorf("alice received %d messages, want 3: something was sent twice", n)
	}
	if n := len(rec.to("bruno")); n != 3 {
		t.Errorf("bruno received %d messages, want 3", n)
	}
	// Three pages in a week burned alice's weekly human budget, and her
	// manager was told; whatever else burned (off-hours budgets at night,
	// the team's 80% warning, bruno's week), no notice came twice, across
	// the kill and the restart.
	rec.mu.Lock()
	texts := map[string]int{}
	for _, g := range rec.got {
		if g.person == "mgr" {
			texts[g.text]++
		}
	}
	rec.mu.Unlock()
	sawAlice := false
	for text, n := range texts {
		if n != 1 {
			t.Errorf("notice sent %d times: %s", n, text)
		}
		if strings.Contains(text, "alice (team payments) burned the weekly human budget: 3 pages this week, budget 2") {
			sawAlice = true
		}
	}
	if !sawAlice {
		t.Errorf("no notice of alice's weekly burn among %d: %v", len(texts), texts)
	}
	// The timeline tells the story.
	_, a := d2.request("GET", "/api/v1/alerts/1", "")
	var kinds []string
	for _, e := range a["timeline"].([]any) {
		// Burn notes depend on the hour (off-hours budgets) and are
		// written by accounting, after the delivery and apart from the
		// escalation: they may fall anywhere in it.
		if k := e.(map[string]any)["kind"].(string); k != "burn" {
			kinds = append(kinds, k)
		}
	}
	if got := strings.Join(kinds, ","); !strings.HasPrefix(got, "triggered,escalated,notified,escalated,notified") {
		t.Errorf("timeline: %v", kinds)
	}
	// Acknowledging with the service's key stops the escalation.
	status, a = d2.requestAs(serviceKey, "POST", "/api/v1/alerts/1/ack", `{"by":"bruno"}`)
	if status != 200 || a["status"] != "acknowledged" {
		t.Fatalf("ack: %d %v", status, a)
	}
}

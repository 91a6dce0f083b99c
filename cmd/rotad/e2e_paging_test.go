package main

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/rotahq/rota/clocktest"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	// kind is page, notice, update or post.
	kind     string
	person   string
	delivery string // X-Rota-Delivery
	alerts   []int64
	text     string
	at       time.Time
}

func newReceiver(t *testing.T) *receiver { return startReceiver(t, httptest.NewServer) }

// newTLSReceiver is a receiver over HTTPS, its certificate its own (a
// private CA's, as far as rotad can tell): srv.Certificate().
func newTLSReceiver(t *testing.T) *receiver { return startReceiver(t, httptest.NewTLSServer) }

func startReceiver(t *testing.T, start func(http.Handler) *httptest.Server) *receiver {
	r := &receiver{}
	r.srv = start(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			Kind      string `json:"kind"`
			Person    string `json:"person"`
			Text      string `json:"text"`
			Incidents []struct {
				ID int64 `json:"id"`
			} `json:"incidents"`
		}
		json.NewDecoder(req.Body).Decode(&body)
		rec := received{kind: body.Kind, person: body.Person, text: body.Text, at: time.Now(), delivery: req.Header.Get("X-Rota-Delivery")}
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

// to lists what reached person, status updates aside (webhooks take
// them by default: "escalated to bruno").
func (r *receiver) to(person string) []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, g := range r.got {
		if g.person == person && g.kind != "update" {
			out = append(out, g)
		}
	}
	return out
}

// waitForUpdate polls until a status update reached person, or fails.
func (r *receiver) waitForUpdate(t *testing.T, person string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		for _, g := range r.got {
			if g.person == person && g.kind == "update" {
				r.mu.Unlock()
				return
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no status update reached %s in %s", person, within)
		}
	}
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

# Messages to one person a second apart at the closest, not a minute.
[paging]
rate_limit = "1s"

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
# A second of quiet makes the next notification a new page.
slo = { interruption_gap = "1s" }

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
[[services]]
name = "batch"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY_BATCH" }]
# One incident per alert: each alert is a page of its own.
group = "off"
`

const serviceKey = "example-integration-key-for-e2e"
const batchKey = "batch-integration-key-for-e2e"

// pagingSetup writes pagingConfig, its webhooks going to a new receiver,
// and returns the receiver, the file and the environment rotad needs.
func pagingSetup(t *testing.T) (*receiver, string, []string) {
	rec := newReceiver(t)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(pagingConfig, "RECEIVER", rec.srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	return rec, cfgPath, []string{"KEY=" + serviceKey, "KEY_BATCH=" + batchKey}
}

// TestPagingSurvivesKill9: a PagerDuty event and an Alertmanager group
// on one service are one incident, which pages the on-call at once;
// rotad is killed with SIGKILL before the next step; restarted, it fires
// that step on time and sends nothing again that it had recorded as sent.
func TestPagingSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec, cfgPath, env := pagingSetup(t)
	d := startDaemon(t, cfgPath, env...)

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
	for _, r := range body["alerts"].([]any) {
		if r := r.(map[string]any); r["outcome"] != "grouped" || r["incident_id"].(float64) != 1 {
			t.Errorf("alertmanager alert: %v", r)
		}
	}
	got := rec.waitFor(t, "alice", 1, 5*time.Second)
	if lat := got[0].at.Sub(posted); lat > time.Second {
		t.Errorf("first notification %s after the post", lat)
	}

	// Wait until the notification is recorded as sent, then kill -9.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, a := d.request("GET", "/api/v1/incidents/1", "")
		ns, _ := a["notifications"].([]any)
		if len(ns) == 1 && ns[0].(map[string]any)["status"] == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("incident 1's notification not recorded as sent: %v", a)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.done
	if len(rec.to("bruno")) != 0 {
		t.Fatal("step 2 fired before its delay")
	}

	// Restarted, the daemon fires step 2 when it falls due (4s after the
	// incident was created) and sends alice nothing more.
	d2 := startDaemon(t, cfgPath, env...)
	got = rec.waitFor(t, "bruno", 1, 10*time.Second)
	if late := got[0].at.Sub(posted.Add(4 * time.Second)); late > time.Second {
		t.Errorf("step 2 fired %s after it was due", late)
	}
	// alice is told where the incident went (a status update, queued with
	// step 2): whatever the restart would have sent her again came before.
	rec.waitForUpdate(t, "alice", 10*time.Second)
	if n := len(rec.to("alice")); n != 1 {
		t.Errorf("alice received %d messages, want 1: something was sent twice", n)
	}
	if n := len(rec.to("bruno")); n != 1 {
		t.Errorf("bruno received %d messages, want 1", n)
	}
	// The timeline tells the story, once the last delivery is recorded
	// (a receiver has a message before rotad records it).
	var a map[string]any
	var kinds []string
	joined := 0
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, a = d2.request("GET", "/api/v1/incidents/1", "")
		if n := strings.Count(fmt.Sprint(a["timeline"]), "kind:notified"); n >= 3 || time.Now().After(deadline) {
			break
		}
	}
	for _, e := range a["timeline"].([]any) {
		// Burn notes depend on the hour (off-hours budgets) and are
		// written by accounting, apart from the escalation; the alerts
		// joining race the first notification: either may fall anywhere.
		switch k := e.(map[string]any)["kind"].(string); k {
		case "burn":
		case "alert":
			joined++
		default:
			kinds = append(kinds, k)
		}
	}
	// The last "notified" is alice's webhook told where the incident went
	// (a status update; webhooks take them by default).
	if got := strings.Join(kinds, ","); got != "triggered,escalated,notified,escalated,notified,notified" || joined != 2 {
		t.Errorf("timeline: %v and %d alerts joined", kinds, joined)
	}
	if a["alert_count"].(float64) != 3 || len(a["alerts"].([]any)) != 3 {
		t.Errorf("incident: %v", a)
	}
	// Acknowledging one of its alerts with the service's key stops it.
	status, a = d2.requestAs(serviceKey, "POST", "/api/v1/alerts/1/ack", "")
	if status != 200 || a["status"] != "acknowledged" || a["incident"].(map[string]any)["status"] != "acknowledged" {
		t.Fatalf("ack: %d %v", status, a)
	}
}

// TestAccountingSurvivesKill9: alerts page alice one by one, each its own
// interruption, while rotad is killed with SIGKILL again and again, at
// random moments, between recording pages and accounting them among
// others, and restarted. In the end every burn is recorded, and the
// manager was told of each exactly once.
func TestAccountingSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec, cfgPath, env := pagingSetup(t)
	d := startDaemon(t, cfgPath, env...)
	const alerts = 8
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 0
	for i := 0; i < alerts; i++ {
		status, _ := d.requestAs(batchKey, "POST", "/api/v1/alerts", fmt.Sprintf(`{"summary":"queue %d stuck","severity":"critical","dedup_key":"q%d"}`, i, i))
		if status != 202 {
			t.Fatalf("alert %d: %d", i, status)
		}
		// Wait for the page, then kill at once or a few milliseconds on:
		// before, during or after its accounting.
		rec.waitFor(t, "alice", i+1, 10*time.Second)
		if i%2 == 1 {
			time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
			d.cmd.Process.Kill()
			<-d.done
			kills++
			d = startDaemon(t, cfgPath, env...)
		}
		// A second and a bit of quiet: the next page is a new
		// interruption. This is not a wait for an event: the daemon's
		// clock must pass its interruption gap.
		time.Sleep(1200 * time.Millisecond)
	}
	// Let the last daemon account what is left and deliver its notices.
	deadline := time.Now().Add(10 * time.Second)
	var burns []any
	for {
		_, rep := d.request("GET", "/api/v1/reports/human?team=payments&from="+url.QueryEscape(clocktest.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), "")
		burns, _ = rep["burns"].([]any)
		if len(burns) > 0 && len(burnNotices(rec)) >= len(burns) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A graceful stop finishes what is under way and sends nothing more:
	// every notice there will be has arrived.
	d.signal(syscall.SIGTERM)
	<-d.done
	notices := burnNotices(rec)
	// alice's third page of the week burned her weekly budget, whatever
	// else burned at this hour (off-hours, the team's warning).
	weekly := false
	for _, b := range burns {
		b := b.(map[string]any)
		if b["person"] == "alice" && b["budget"] == "weekly" {
			weekly = true
		}
	}
	if !weekly {
		t.Errorf("no weekly burn for alice among %v (after %d kills)", burns, kills)
	}
	if len(notices) != len(burns) {
		t.Errorf("%d notices for %d burns (after %d kills): %v", len(notices), len(burns), kills, notices)
	}
	for text, n := range notices {
		if n != 1 {
			t.Errorf("notice sent %d times: %s", n, text)
		}
	}
}

// burnNotices counts the manager's messages (notices, all of them) by
// text, as a receiver that drops at-least-once duplicates by their
// X-Rota-Delivery header sees them: a kill between sending a notice and
// recording it sends it again, with the same delivery id.
func burnNotices(rec *receiver) map[string]int {
	texts := map[string]int{}
	seen := map[string]bool{}
	for _, g := range rec.to("mgr") {
		if g.delivery == "" || !seen[g.delivery] {
			seen[g.delivery] = true
			texts[g.text]++
		}
	}
	return texts
}

// TestWebhooksTrustAPrivateCA: a webhook receiver whose certificate comes
// from a private CA is refused (the notification's error says why, and
// rotad logs it at WARN) until [tls] ca_file names that CA; then alice's
// page reaches it.
func TestWebhooksTrustAPrivateCA(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec := newTLSReceiver(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "private-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rec.srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := strings.ReplaceAll(pagingConfig, "RECEIVER", rec.srv.URL)
	if !strings.HasPrefix(rec.srv.URL, "https://") {
		t.Fatal(rec.srv.URL)
	}
	env := []string{"KEY=" + serviceKey, "KEY_BATCH=" + batchKey}
	for _, trust := range []bool{false, true} {
		cfgPath := filepath.Join(t.TempDir(), "rota.toml")
		c := cfg
		if trust {
			c = "[tls]\nca_file = " + strconv.Quote(ca) + "\n" + cfg
		}
		if err := os.WriteFile(cfgPath, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		d := startDaemon(t, cfgPath, env...)
		if status, _ := d.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"5xx","severity":"critical"}`); status != 202 {
			t.Fatal(status)
		}
		if trust {
			rec.waitFor(t, "alice", 1, 5*time.Second)
			continue
		}
		warned := d.waitLog("notification not delivered: retrying", 10*time.Second)
		if !strings.Contains(fmt.Sprint(warned["err"]), "certificate") {
			t.Errorf("the WARN does not name the certificate: %v", warned)
		}
		if n := len(rec.to("alice")); n != 0 {
			t.Fatalf("delivered to an untrusted receiver: %d", n)
		}
	}
}

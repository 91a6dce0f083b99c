package main

import (
	"encoding/json"
	"fmt"
	"github.com/rotahq/rota/clocktest"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotahq/rota/paging/notify/slack"
	"github.com/rotahq/rota/paging/notify/slack/slacktest"
	"github.com/rotahq/rota/paging/notify/twilio/twiliotest"
)

const (
	e2eSlackToken  = "xoxb-0000-e2e"
	e2eSlackSecret = "e2e-slack-signing-secret-0000000"
)

// slackE2EConfig: alice is paged in Slack and by SMS, bruno in Slack
// (found by email), and the service posts to #payments; dana is step 2,
// by SMS, three seconds on.
const slackE2EConfig = `
[server]
listen = "127.0.0.1:0"
database = "rota.db"
public_url = "https://rota.example.com"

[log]
format = "json"

[paging]
rate_limit = "2s"

[twilio]
account_sid = { env = "TWILIO_ACCOUNT_SID" }
auth_token = { env = "TWILIO_AUTH_TOKEN" }
from = "+15005550006"
api_url = "TWILIO_FAKE"

[slack]
bot_token = { env = "SLACK_BOT_TOKEN" }
signing_secret = { env = "SLACK_SIGNING_SECRET" }
api_url = "SLACK_FAKE"

[[channels]]
name = "payments-alerts"
type = "slack"
channel = "C0PAYMENTS"

[[channels]]
name = "payments-teams"
type = "teams"
url = { env = "TEAMS_URL" }

[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "slack", address = "U0ALICE" }, { type = "sms", address = "+4915112345001" }]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
emails = ["bruno@example.com"]
contacts = [{ type = "slack", address = "bruno@example.com" }]
[[people]]
name = "dana"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345004" }]

[[teams]]
name = "payments"
members = ["alice", "bruno", "dana"]
timezone = "Europe/Berlin"

[[rotations]]
name = "payments"
team = "payments"
members = ["alice"]
start = 2026-01-06

[[escalation_policies]]
name = "payments"
steps = [{ targets = ["rotation:payments", "person:bruno"], delay = "3s" }, { targets = ["person:dana"], delay = "1h" }]

[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "payments"
integration_keys = [{ env = "KEY" }]
channels = ["payments-alerts", "payments-teams"]
group_by = ["alertname"]
`

type slackE2E struct {
	d      *daemon
	slack  *slacktest.Server
	twilio *twiliotest.Server
	// teams receives the Teams channel's Adaptive Cards.
	teams *cardSink
}

// cardSink is a Teams Workflows webhook: it keeps what is posted.
type cardSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	cards []string
}

func newCardSink(t *testing.T) *cardSink {
	c := &cardSink{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.cards = append(c.cards, string(b))
		c.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *cardSink) wait(t *testing.T, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c.mu.Lock()
		got := append([]string(nil), c.cards...)
		c.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
	}
}

func startSlackE2E(t *testing.T, limit bool) *slackE2E {
	t.Helper()
	fake := slacktest.NewServer(e2eSlackToken)
	t.Cleanup(fake.Close)
	fake.AddUser("U0ALICE", "alice@example.com")
	fake.AddUser("U0BRUNO", "bruno@example.com")
	if limit {
		// Slack's chat.postMessage: about one a second per channel, with
		// a short burst.
		fake.LimitPerChannel(time.Second, 2)
	}
	tw := twiliotest.NewServer(e2eTwilioSID, e2eTwilioToken)
	t.Cleanup(tw.Close)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	cfg := strings.NewReplacer("TWILIO_FAKE", tw.URL, "SLACK_FAKE", fake.URL).Replace(slackE2EConfig)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cards := newCardSink(t)
	d := startDaemon(t, cfgPath, "KEY="+serviceKey, "TEAMS_URL="+cards.srv.URL+"/workflows/payments", "TWILIO_ACCOUNT_SID="+e2eTwilioSID, "TWILIO_AUTH_TOKEN="+e2eTwilioToken,
		"SLACK_BOT_TOKEN="+e2eSlackToken, "SLACK_SIGNING_SECRET="+e2eSlackSecret)
	return &slackE2E{d: d, slack: fake, twilio: tw, teams: cards}
}

// press posts a button press to rotad as Slack would.
func (e *slackE2E) press(t *testing.T, user, action string, incident int) {
	t.Helper()
	form := url.Values{"payload": {slacktest.BlockActionsPayload(user, "T0ACME", action, fmt.Sprint(incident), e.slack.ResponseURL())}}
	res, err := http.DefaultClient.Do(slacktest.SignedRequest("http://"+e.d.addr+"/slack/interactions", e2eSlackSecret, clocktest.Now(), form)) // signed on the daemon's clock
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("press: %d %s", res.StatusCode, b)
	}
}

func actionIDs(t *testing.T, blocks json.RawMessage) string {
	t.Helper()
	var bs []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(blocks, &bs); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bs {
		for _, e := range b.Elements {
			if b.Type == "actions" {
				out = append(out, e.ActionID)
			}
		}
	}
	return strings.Join(out, ",")
}

// TestSlackEndToEnd: an alert pages alice in Slack and by SMS, bruno in
// Slack, and posts to #payments; alice presses Acknowledge: the SMS
// escalation stops, every message is edited in place, and everyone
// paged is told in its thread.
func TestSlackEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	e := startSlackE2E(t, false)
	status, body := e.d.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"card auth failing","severity":"critical","dedup_key":"a","details":{"alertname":"CardAuth"}}`)
	if status != 202 {
		t.Fatalf("post: %d %v", status, body)
	}
	id := int(body["incident_id"].(float64))
	alice := e.slack.WaitMessages(t, "DU0ALICE", 1, 10*time.Second)
	bruno := e.slack.WaitMessages(t, "DU0BRUNO", 1, 10*time.Second)
	post := e.slack.WaitMessages(t, "C0PAYMENTS", 1, 10*time.Second)
	if sms := e.twilio.Wait(1, 10*time.Second); len(sms) != 1 || sms[0].To != "+4915112345001" {
		t.Fatalf("alice's SMS: %+v", sms)
	}
	for _, m := range [][]slacktest.Message{alice, bruno, post} {
		if got := actionIDs(t, m[0].Blocks); got != "rota_ack,rota_escalate,rota_resolve" {
			t.Errorf("buttons: %s", got)
		}
		if !strings.Contains(string(m[0].Blocks), "card auth failing") || !strings.Contains(string(m[0].Blocks), fmt.Sprintf("https://rota.example.com/incidents/%d|#%d", id, id)) {
			t.Errorf("message: %s", m[0].Blocks)
		}
	}
	// Pages are recorded as sent before a person could answer.
	waitSent(t, e.d, id, 3)

	e.press(t, "U0ALICE", slack.ActionAck, id)
	_, inc := e.d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
	if inc["status"] != "acknowledged" || inc["acknowledged_by"] != "alice (slack)" {
		t.Fatalf("after the press: %v", inc)
	}
	for _, conv := range []string{"DU0ALICE", "DU0BRUNO", "C0PAYMENTS"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			ms := e.slack.Messages(conv)
			if len(ms) == 1 && ms[0].Updates == 1 && len(ms[0].Replies) == 1 {
				if got := actionIDs(t, ms[0].Blocks); got != "rota_escalate,rota_resolve" {
					t.Errorf("%s: buttons after the acknowledgement: %s", conv, got)
				}
				if want := fmt.Sprintf("#%d Acknowledged by alice (slack)", id); ms[0].Replies[0].Text != want {
					t.Errorf("%s: thread says %q, want %q", conv, ms[0].Replies[0].Text, want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not updated: %+v\n%s", conv, ms, e.d.dump())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The Teams channel had the incident as a card, then the update.
	cards := e.teams.wait(t, 2)
	if len(cards) != 2 || !strings.Contains(cards[0], "application/vnd.microsoft.card.adaptive") || !strings.Contains(cards[0], "card auth failing") ||
		!strings.Contains(cards[1], "acknowledged by alice (slack)") {
		t.Errorf("Teams cards: %q", cards)
	}
	// The escalation stopped: dana (step 2, due 3s after the page) is
	// never texted, nothing is due or queued for her; alice's SMS takes
	// no updates.
	e.d.escalationStopped(int64(id), func(n map[string]any) bool {
		return n["person"] != "dana" && (n["channel"] != "sms" || n["kind"] == "page")
	})
	if reqs := e.twilio.Requests(); len(reqs) != 1 {
		t.Errorf("SMS after the acknowledgement: %+v", reqs)
	}
	// None of it is a page: alice and bruno were each paged once.
	_, rep := e.d.request("GET", "/api/v1/incidents/"+fmt.Sprint(id), "")
	if ns, _ := rep["notifications"].([]any); len(ns) == 0 {
		t.Errorf("no notifications on the incident: %v", rep)
	}
}

// waitSent waits until an incident has n notifications sent.
func waitSent(t *testing.T, d *daemon, id, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		sent := 0
		ns, _ := inc["notifications"].([]any)
		for _, x := range ns {
			if x.(map[string]any)["status"] == "sent" {
				sent++
			}
		}
		if sent >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("incident %d: %d notifications sent, want %d: %v", id, sent, n, inc)
		}
	}
}

// TestSlackStorm: 500 alerts of 20 kinds in a few seconds reach one
// Slack workspace as 20 incidents: every one posted to the channel, and
// alice's DMs listing all 20, within Slack's per-channel limit (never a
// 429), nothing lost.
func TestSlackStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	// Mostly waiting (paced by real time): it runs beside the others of
	// its kind (t.Parallel), which is also a busy machine for each.
	t.Parallel()
	e := startSlackE2E(t, true)
	ids := map[int]bool{}
	for i := 0; i < 500; i++ {
		kind := i % 20
		status, body := e.d.requestAs(serviceKey, "POST", "/api/v1/alerts",
			fmt.Sprintf(`{"summary":"storm %d","severity":"critical","dedup_key":"s%d","details":{"alertname":"Storm%d"}}`, kind, i, kind))
		if status != 202 {
			t.Fatalf("post %d: %d %v", i, status, body)
		}
		ids[int(body["incident_id"].(float64))] = true
	}
	if len(ids) != 20 {
		t.Fatalf("500 alerts of 20 kinds made %d incidents", len(ids))
	}
	posts := e.slack.WaitMessages(t, "C0PAYMENTS", 20, 90*time.Second)
	if len(posts) != 20 {
		t.Fatalf("%d posts of 20 incidents\n%s", len(posts), e.d.dump())
	}
	// alice's DMs list every incident (bundled by her rate limit).
	seen := map[int]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for len(seen) < 20 && time.Now().Before(deadline) {
		for _, m := range e.slack.Messages("DU0ALICE") {
			for id := range ids {
				if strings.Contains(string(m.Blocks), fmt.Sprintf("/incidents/%d|#%d", id, id)) {
					seen[id] = true
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(seen) != 20 {
		t.Errorf("alice's DMs list %d of 20 incidents", len(seen))
	}
	if n := e.slack.Limited(); n != 0 {
		t.Errorf("Slack refused %d posts with 429: rota outpaced the channel's limit", n)
	}
	if most := e.slack.MaxPerWindow("C0PAYMENTS", time.Second); most > 2 {
		t.Errorf("%d posts to the channel within one second", most)
	}
	// Every alert is held: 500 across the 20 incidents.
	total := 0
	for id := range ids {
		_, inc := e.d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		total += int(inc["alert_count"].(float64))
	}
	if total != 500 {
		t.Errorf("the incidents hold %d alerts, want 500", total)
	}
	var first, last time.Time
	for _, c := range e.slack.Calls() {
		if c.Method == "chat.postMessage" && c.Channel == "C0PAYMENTS" && c.ThreadTS == "" && c.Status == 200 {
			if first.IsZero() {
				first = c.At
			}
			last = c.At
		}
	}
	t.Logf("20 posts in %s; alice got %d DMs", last.Sub(first).Round(time.Millisecond), len(e.slack.Messages("DU0ALICE")))
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rotahq/rota/paging/notify/slack"
	"github.com/rotahq/rota/paging/notify/slack/slacktest"
	"github.com/rotahq/rota/paging/notify/twilio/twiliotest"
)

// dayConfig is a team on a night shift: alice on call (SMS; she answers
// in Slack too, found there by her email), bruno (SMS) taking an
// override, carol (webhook) who deploys, dana (webhook) step 2, mia their
// manager. payments-api posts its incidents to #payments. Budgets are tight (two
// interruptions a week, one off-hours incident in six months) so that the
// night burns them; payments-api pages a deploy's author first; web's
// warnings wait for business hours; backups must beat every 2s.
const dayConfig = `
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

[[people]]
name = "alice"
timezone = "Europe/Berlin"
github = ["alice-gh"]
emails = ["alice@example.com"]
contacts = [{ type = "sms", address = "+4915112345001" }]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
github = ["bruno-gh"]
contacts = [{ type = "sms", address = "+4915112345002" }]
[[people]]
name = "carol"
timezone = "Europe/Berlin"
github = ["carol-gh"]
contacts = [{ type = "webhook", address = "RECEIVER/carol" }]
[[people]]
name = "dana"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "RECEIVER/dana" }]
[[people]]
name = "mia"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "RECEIVER/mia" }]

[[teams]]
name = "payments"
members = ["alice", "bruno", "carol", "dana"]
managers = ["mia"]
timezone = "Europe/Berlin"
slo = { pages_per_week = 2, offhours_incidents = 1, interruption_gap = "1s" }

[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06

[[escalation_policies]]
name = "default"
steps = [{ targets = ["rotation:primary"], delay = "3s" }, { targets = ["person:dana"], delay = "1h" }]

[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY" }]
channels = ["payments-alerts"]
group_by = ["alertname"]
deploy_routing = "author-first"
deploy_grace = "2s"

[[services]]
name = "web"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY_WEB" }]
group = "off"
low_urgency = ["warning"]

[[services]]
name = "storm"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY_STORM" }]
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

const (
	dayWebKey   = "web-integration-key-for-the-day-00"
	dayStormKey = "storm-integration-key-for-the-day0"
)

// TestReplayReproducesAScriptedDay: a real rotad runs a night compressed
// into seconds — a heartbeat missed, an alert through every intake
// (native, PagerDuty Events v2, Alertmanager, Grafana, Opsgenie), acks by
// API, SMS and Slack, deploys whose author (and, when the author is
// unknown, merger) is paged first, a storm of 30 alerts, a maintenance
// window, an override, a warning held by quiet hours, and the budgets it
// burns — then rotad replay --db with the same configuration agrees with
// what was recorded on every figure, for every person and team.
func TestReplayReproducesAScriptedDay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	t.Parallel() // it mostly waits on real time
	rec := newReceiver(t)
	fakeSlack := slacktest.NewServer(e2eSlackToken)
	t.Cleanup(fakeSlack.Close)
	fakeSlack.AddUser("U0ALICE", "alice@example.com")
	tw := twiliotest.NewServer(e2eTwilioSID, e2eTwilioToken)
	t.Cleanup(tw.Close)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	cfg := strings.NewReplacer("TWILIO_FAKE", tw.URL, "SLACK_FAKE", fakeSlack.URL, "RECEIVER", rec.srv.URL).Replace(dayConfig)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KEY": serviceKey, "KEY_WEB": dayWebKey, "KEY_STORM": dayStormKey, "KEY_BACKUPS": backupsKey,
		"TWILIO_ACCOUNT_SID": e2eTwilioSID, "TWILIO_AUTH_TOKEN": e2eTwilioToken, "SLACK_BOT_TOKEN": e2eSlackToken, "SLACK_SIGNING_SECRET": e2eSlackSecret}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	// A Wednesday, 23:00 in Berlin: off hours, sleep hours, and far from
	// the morning that would release the held warning.
	night := time.Date(2026, 3, 4, 22, 0, 0, 0, time.UTC)
	began := time.Now()
	d := startDaemon(t, cfgPath, append(envList, "ROTAD_CLOCK_OFFSET="+night.Sub(began).String())...)
	daemonNow := func() time.Time { return night.Add(time.Since(began)) }
	from := daemonNow().Add(-time.Minute)

	// smsTo waits for the n-th SMS to number and returns its text.
	smsTo := func(number string, n int) string {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var bodies []string
			for _, r := range tw.Requests() {
				if r.Kind == "sms" && r.To == number {
					bodies = append(bodies, r.Body)
				}
			}
			if len(bodies) >= n {
				return bodies[n-1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d SMS to %s after 15s, want %d:\n%s", len(bodies), number, n, d.dump())
			}
		}
	}
	// replyCode finds the code an SMS gives the incident with summary.
	replyCode := func(sms, summary string) string {
		t.Helper()
		if m := regexp.MustCompile(regexp.QuoteMeta(summary) + `[^;]*\((\d+)\)`).FindStringSubmatch(sms); m != nil {
			return m[1] // a bundle: "summary (3)"
		}
		if m := regexp.MustCompile(`Reply (\d+)a ack`).FindStringSubmatch(sms); m != nil && strings.Contains(sms, summary) {
			return m[1]
		}
		t.Fatalf("no reply code for %q in %q", summary, sms)
		return ""
	}
	smsReply := func(from, body string) {
		t.Helper()
		reply := url.Values{"MessageSid": {"SMin" + fmt.Sprint(time.Now().UnixNano())}, "From": {from}, "To": {"+15005550006"}, "Body": {body}, "AccountSid": {e2eTwilioSID}}
		if code, twiml := twilioPost(t, d, "/twilio/sms", reply, true); code != 200 || !strings.Contains(twiml, "cknowledged") {
			t.Fatalf("SMS reply %q: %d %s", body, code, twiml)
		}
	}
	press := func(user, action string, incident int) {
		t.Helper()
		form := url.Values{"payload": {slacktest.BlockActionsPayload(user, "T0ACME", action, fmt.Sprint(incident), fakeSlack.ResponseURL())}}
		res, err := http.DefaultClient.Do(slacktest.SignedRequest("http://"+d.addr+"/slack/interactions", e2eSlackSecret, daemonNow(), form))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("press: %d %s", res.StatusCode, b)
		}
	}
	post := func(key, path, body string, want int) map[string]any {
		t.Helper()
		status, got := d.requestAs(key, "POST", path, body)
		if status != want {
			t.Fatalf("POST %s %s: %d %v, want %d", path, body, status, got, want)
		}
		return got
	}
	incidentOf := func(summary string) int {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, list := d.request("GET", "/api/v1/incidents?limit=200", "")
			for _, x := range list["incidents"].([]any) {
				if inc := x.(map[string]any); strings.Contains(fmt.Sprint(inc["summary"]), summary) {
					return int(inc["id"].(float64))
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no incident %q", summary)
			}
		}
	}
	ack := func(id int) {
		t.Helper()
		post(e2eToken, fmt.Sprintf("/api/v1/incidents/%d/ack", id), "", 200)
	}
	// settle lets alice's rate limit (2s) and the interruption gap (1s)
	// pass, so that each phase begins on its own.
	settle := func() { time.Sleep(2500 * time.Millisecond) }
	alice, bruno := "+4915112345001", "+4915112345002"

	// 1. The nightly backup beats once and then misses: alice is paged.
	post(backupsKey, "/api/v1/heartbeats/nightly", "", 200)
	hb := incidentOf("heartbeat nightly missed")
	smsTo(alice, 1)
	ack(hb)
	settle()

	// 2. An alert through every intake on payments-api.
	now := daemonNow().UTC().Format(time.RFC3339)
	post(serviceKey, "/api/v1/alerts", `{"summary":"native checkout 5xx","severity":"critical","dedup_key":"native-1","details":{"alertname":"Native"}}`, 202)
	post("", "/v2/enqueue", fmt.Sprintf(`{"routing_key":%q,"event_action":"trigger","dedup_key":"pd-1","payload":{"summary":"pd card auth failing","source":"lb","severity":"critical","custom_details":{"alertname":"PD"}}}`, serviceKey), 202)
	am := func(version, name, status string) string {
		return fmt.Sprintf(`{"version":%q,"groupKey":"{}:{alertname=\"%s\"}","status":%q,"receiver":"rota","groupLabels":{"alertname":%q},"commonLabels":{"alertname":%q},
			"alerts":[{"status":%q,"labels":{"alertname":%q,"severity":"critical"},"annotations":{"summary":"%s ledger lag"},"startsAt":%q,"fingerprint":"f%s"}]}`,
			version, name, status, name, name, status, name, strings.ToLower(name), now, name)
	}
	post(serviceKey, "/api/v1/integrations/alertmanager", am("4", "AM", "firing"), 202)
	post(serviceKey, "/api/v1/integrations/grafana", am("1", "Grafana", "firing"), 202)
	og := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+d.addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "GenieKey "+serviceKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 202 {
			t.Fatalf("opsgenie %s: %d", path, res.StatusCode)
		}
	}
	og("/v2/alerts", `{"message":"og disk full","alias":"og-1","priority":"P1","details":{"alertname":"OG"}}`)
	native := incidentOf("native checkout 5xx")
	pd := incidentOf("pd card auth failing")
	incidentOf("am ledger lag")
	// The first alert paged alice at once; the API acknowledges it before
	// her rate limit releases the others as one bundle.
	smsTo(alice, 2)
	ack(native)
	bundle := smsTo(alice, 3)
	waitSent(t, d, pd, 2) // the SMS and the post recorded before she answers
	press("U0ALICE", slack.ActionAck, pd)
	smsReply(alice, replyCode(bundle, "am ledger lag")+"a")
	// The sources resolve or close what they sent; Grafana's is left to
	// escalate to dana.
	og("/v2/alerts/og-1/close?identifierType=alias", `{}`)
	rec.waitFor(t, "dana", 1, 10*time.Second)
	post(serviceKey, "/api/v1/integrations/alertmanager", am("4", "AM", "resolved"), 202)
	settle()

	// 3. Deploys: carol's, merged by bruno, pages carol alone first; one
	// by someone unknown pages its merger, bruno.
	deploy := func(author string) {
		post(serviceKey, "/api/v1/deploys", fmt.Sprintf(`{"commit":"c%d","author":%q,"merged_by":"bruno-gh","deployed_at":%q}`,
			time.Now().UnixNano(), author, daemonNow().Add(-time.Minute).UTC().Format(time.RFC3339)), 201)
	}
	deploy("carol-gh")
	post(serviceKey, "/api/v1/alerts", `{"summary":"regression after carol's deploy","severity":"critical","dedup_key":"d-1","details":{"alertname":"Deploy1"}}`, 202)
	rec.waitFor(t, "carol", 1, 10*time.Second)
	ack(incidentOf("regression after carol's deploy"))
	settle()
	deploy("someone@elsewhere.example")
	post(serviceKey, "/api/v1/alerts", `{"summary":"regression after an unknown deploy","severity":"critical","dedup_key":"d-2","details":{"alertname":"Deploy2"}}`, 202)
	reg := incidentOf("regression after an unknown deploy")
	smsTo(bruno, 1)
	ack(reg)
	settle()

	// 4. A storm: 30 alerts at once on storm, resolved by their source
	// two seconds on.
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			post("", "/v2/enqueue", fmt.Sprintf(`{"routing_key":%q,"event_action":"trigger","dedup_key":"s-%d","payload":{"summary":"storm %d","source":"k8s","severity":"error"}}`, dayStormKey, i, i), 202)
		}(i)
	}
	wg.Wait()
	time.Sleep(2 * time.Second)
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			post("", "/v2/enqueue", fmt.Sprintf(`{"routing_key":%q,"event_action":"resolve","dedup_key":"s-%d"}`, dayStormKey, i), 202)
		}(i)
	}
	wg.Wait()
	settle()

	// 5. Maintenance on web for 3s: its alert waits for the end, then
	// pages alice.
	post(dayWebKey, "/api/v1/services/web/maintenance", `{"duration":"3s","reason":"upgrade"}`, 201)
	post(dayWebKey, "/api/v1/alerts", `{"summary":"web down in the window","severity":"critical","dedup_key":"m-1"}`, 202)
	held := incidentOf("web down in the window")
	waitSent(t, d, held, 2)
	ack(held)
	settle()

	// 6. An override gives bruno the next minute; he answers by SMS.
	at := daemonNow().UTC()
	post(e2eToken, "/api/v1/rotations/primary/overrides", fmt.Sprintf(`{"person":"bruno","start":%q,"end":%q}`,
		at.Format(time.RFC3339), at.Add(time.Minute).Format(time.RFC3339)), 201)
	post(dayWebKey, "/api/v1/alerts", `{"summary":"web slow for bruno","severity":"critical","dedup_key":"o-1"}`, 202)
	sms := smsTo(bruno, 2)
	smsReply(bruno, replyCode(sms, "web slow for bruno")+"a")

	// 7. A warning at night waits for the morning: nobody is paged.
	post(dayWebKey, "/api/v1/alerts", `{"summary":"web cert expires in 20 days","severity":"warning","dedup_key":"q-1"}`, 202)
	settle()

	// The night is over: the daemon stops, and what it recorded is
	// replayed with the configuration it ran under.
	to := daemonNow().Add(time.Second)
	d.signal(syscall.SIGTERM)
	<-d.done
	var out, errOut strings.Builder
	args := []string{"replay", "--config", cfgPath, "--db", filepath.Join(filepath.Dir(cfgPath), "rota.db"),
		"--from", from.UTC().Format(time.RFC3339Nano), "--to", to.UTC().Format(time.RFC3339Nano)}
	if err := run(append(args, "--format", "json"), &out, &errOut); err != nil {
		t.Fatalf("replay: %v %s", err, errOut.String())
	}
	var cmp struct {
		Columns []string `json:"columns"`
		Totals  []struct {
			Incidents             int     `json:"incidents"`
			Interruptions         int     `json:"interruptions"`
			OffHours              int     `json:"offhours_incidents"`
			OffHoursInterruptions int     `json:"offhours_interruptions"`
			Sleep                 int     `json:"sleep_hour_pages"`
			Burns                 int     `json:"burns"`
			AuthorPages           int     `json:"pages_to_deploy_authors"`
			AuthorFirst           float64 `json:"deploy_incidents_author_first"`
		} `json:"totals"`
		Differences []string `json:"differences"`
	}
	if err := json.Unmarshal([]byte(out.String()), &cmp); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	out.Reset()
	if err := run(args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	t.Logf("rotad replay:\n%s", out.String())
	if len(cmp.Differences) > 0 {
		t.Errorf("the replay differs from what was recorded:\n%s", strings.Join(cmp.Differences, "\n"))
	}
	// The night did what it was scripted to: the figures the replay
	// agreed with are not all zeros.
	recorded := cmp.Totals[0]
	if recorded.Incidents < 15 || recorded.AuthorPages != 2 || recorded.AuthorFirst != 1 || recorded.Burns < 2 || recorded.Sleep == 0 || recorded.OffHoursInterruptions < 5 {
		t.Errorf("recorded figures: %+v", recorded)
	}
	if !strings.Contains(out.String(), "agrees with what was recorded on every figure") {
		t.Errorf("the table does not say the replay agrees:\n%s", out.String())
	}
}

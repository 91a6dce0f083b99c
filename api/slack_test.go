package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/notify/slack"
	"github.com/rotahq/rota/paging/notify/slack/slacktest"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

const (
	slackToken  = "xoxb-0000-rota-test"
	slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
)

// slackConfig: alice is DMed by user id, bruno by email (the app looks
// him up); carol is in Slack but not on payments; incidents are posted
// to #payments too. %s is the primary rotation's start and handoff,
// which the fixture sets (startedYesterday) so that alice is on call
// whatever the day the test runs.
const slackConfig = `
[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "slack", address = "U0ALICE" }, { type = "sms", address = "+4915112345001", delay = "5m" }]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
emails = ["bruno@example.com"]
contacts = [{ type = "slack", address = "bruno@example.com" }]
[[people]]
name = "carol"
timezone = "Europe/Berlin"
github = ["carol-gh"]
contacts = [{ type = "slack", address = "U0CAROL" }, { type = "sms", address = "+4915112345003", delay = "5m" }]
[[teams]]
name = "payments"
members = ["alice", "bruno"]
timezone = "Europe/Berlin"
[[people]]
name = "dave"
timezone = "Europe/Berlin"
contacts = [{ type = "slack", address = "U0DAVE" }]
[[teams]]
name = "search"
members = ["carol", "dave"]
timezone = "Europe/Berlin"
[[rotations]]
name = "primary"
team = "payments"
members = ["alice", "bruno"]
%s
[[channels]]
name = "payments-alerts"
type = "slack"
channel = "C0PAYMENTS"
[[escalation_policies]]
name = "default"
steps = [{ targets = ["rotation:primary"], delay = "30m" }, { targets = ["person:bruno"], delay = "30m" }]
[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY" }]
channels = ["payments-alerts"]
group = "off"
deploy_authors = "org"
`

type slackFixture struct {
	*fixture
	fake   *slacktest.Server
	engine *paging.Engine
}

// newSlackFixture runs the engine (its loop on real timers) and the store
// on the run's clock, and the server on now (nil: the run's clock too).
func newSlackFixture(t *testing.T, now func() time.Time) *slackFixture {
	t.Helper()
	clocktest.Reproduce(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf(slackConfig, startedYesterday(clocktest.Now(), berlin))
	cfg, err := config.Parse("slack.toml", []byte(toml), t.TempDir(), func(k string) (string, bool) { return searchKey, k == "KEY" })
	if err != nil {
		t.Fatal(err)
	}
	if now == nil {
		now = clocktest.Now
	}
	fake := slacktest.NewServer(slackToken)
	t.Cleanup(fake.Close)
	fake.AddUser("U0ALICE", "alice@example.com")
	fake.AddUser("U0BRUNO", "bruno@example.com")
	fake.AddUser("U0CAROL", "carol@example.com")
	fake.AddUser("U0DAVE", "dave@example.com")
	fake.AddUser("U0STRANGER", "stranger@example.com")
	app := slack.New(slack.Options{BotToken: slackToken, APIURL: fake.URL, Pace: time.Millisecond})
	reg := notify.NewRegistry(nil, nil)
	reg.Register(rota.ContactSlack, app)
	db := storetest.Open(t, store.Options{Synchronous: store.SyncNormal})
	f := &slackFixture{fixture: &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))}, fake: fake}
	if sh, ok := f.book.Roster().OnCall("primary", clocktest.Now()); !ok || sh.Person != "alice" {
		t.Fatalf("the fixture wants alice on call on primary, not %+v (%v)", sh, ok)
	}
	// No rate limit to speak of: the tests page people several times.
	engine := paging.New(paging.Options{Store: db, Book: f.book, PublicURL: publicURL, Notifiers: reg, Now: clocktest.Now, RateLimit: time.Millisecond})
	f.engine = engine
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { engine.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	st := withToken()
	st.SlackSigningSecret, st.PublicURL = slackSecret, publicURL
	f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: engine, Alerts: db, Deploys: db, Ping: db.Ping, Identity: db,
		Slack: app, Replays: db, Settings: st, Now: now})
	f.srv = newServer(t, f.api)
	return f
}

// startedYesterday is a weekly rotation's start and handoff such that its
// first shift began yesterday at 10:00 in loc, as at, and lasts a week:
// its first member is on call at at, whatever the day.
func startedYesterday(at time.Time, loc *time.Location) string {
	y := at.In(loc).AddDate(0, 0, -1)
	return fmt.Sprintf("start = %s\nhandoff = \"%s 10:00\"", y.Format("2006-01-02"), strings.ToLower(y.Weekday().String()))
}

// slack posts form to path as Slack would, signed at ts with secret.
func (f *slackFixture) slack(t *testing.T, path, secret string, ts time.Time, form url.Values) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(slacktest.SignedRequest(f.srv.URL+path, secret, ts, form))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func press(user, action string, incident int64, responseURL string) url.Values {
	return url.Values{"payload": {slacktest.BlockActionsPayload(user, "T0ACME", action, fmt.Sprint(incident), responseURL)}}
}

func command(user, text string) url.Values {
	return url.Values{"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {"T0ACME"}, "team_domain": {"acme"}, "channel_id": {"C0PAYMENTS"},
		"channel_name": {"payments"}, "user_id": {user}, "user_name": {"someone"}, "command": {"/rota"}, "text": {text},
		"response_url": {"https://hooks.slack.com/commands/T0ACME/1/abc"}, "trigger_id": {"1.2.3"}}
}

func (f *slackFixture) alert(t *testing.T, key string) int64 {
	t.Helper()
	r := f.do(t, "POST", "/api/v1/alerts", searchKey, "", fmt.Sprintf(`{"summary":"card auth failing on %s","severity":"critical","dedup_key":%q}`, key, key))
	if r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.raw)
	}
	return int64(r.body["incident_id"].(float64))
}

// waitFor waits until cond holds, looking every few milliseconds, and
// fails t when it has not within 10s: long enough for a busy machine,
// and only a failure waits that long.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestSlackSignatures: only requests Slack signed with the app's secret,
// in the last five minutes and not seen before, are acted on; Slack's
// documented example is accepted as signed.
func TestSlackSignatures(t *testing.T) {
	f := newSlackFixture(t, nil)
	id := f.alert(t, "k1")
	f.fake.WaitMessages(t, "DU0ALICE", 1, 5*time.Second)
	now := clocktest.Now()
	for _, tt := range []struct {
		name   string
		secret string
		at     time.Time
		want   int
		says   string
	}{
		{"forged", "not-the-secret", now, 401, "does not match"},
		{"stale", slackSecret, now.Add(-6 * time.Minute), 401, "stale"},
		{"from the future", slackSecret, now.Add(6 * time.Minute), 401, "stale"},
	} {
		code, body := f.slack(t, "/slack/interactions", tt.secret, tt.at, press("U0ALICE", slack.ActionAck, id, f.fake.ResponseURL()))
		if code != tt.want || !strings.Contains(body, tt.says) {
			t.Errorf("%s: %d %s", tt.name, code, body)
		}
	}
	unsigned, _ := http.Post(f.srv.URL+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader(command("U0ALICE", "help").Encode()))
	if unsigned.StatusCode != 401 {
		t.Errorf("unsigned: %d", unsigned.StatusCode)
	}
	unsigned.Body.Close()
	if inc := f.incident(t, id); inc.Status != rota.StatusTriggered {
		t.Fatalf("acted on a refused request: %+v", inc)
	}
	// Signed and fresh: acted on once; the same request again is a replay.
	req := press("U0ALICE", slack.ActionAck, id, f.fake.ResponseURL())
	if code, body := f.slack(t, "/slack/interactions", slackSecret, now, req); code != 200 {
		t.Fatalf("signed press: %d %s", code, body)
	}
	if code, body := f.slack(t, "/slack/interactions", slackSecret, now, req); code != 409 || !strings.Contains(body, "replay") {
		t.Errorf("replay: %d %s", code, body)
	}

	// Slack's documented signing example (a slash command of 2018),
	// received at its time: the signature checks; its user is nobody
	// here, and is told so.
	doc := newSlackFixture(t, func() time.Time { return time.Unix(1531420618, 0).Add(30 * time.Second) })
	body := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	r, _ := http.NewRequest("POST", doc.srv.URL+"/slack/commands", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", "1531420618")
	r.Header.Set("X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "Usage") {
		t.Errorf("Slack's documented request: %d %s", res.StatusCode, b)
	}
}

func (f *slackFixture) incident(t *testing.T, id int64) rota.Incident {
	t.Helper()
	inc, err := f.db.Incident(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// buttons lists the action ids of a message's buttons.
func buttons(t *testing.T, blocks json.RawMessage) []string {
	t.Helper()
	var bs []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(blocks, &bs); err != nil {
		t.Fatalf("blocks: %v: %s", err, blocks)
	}
	var out []string
	for _, b := range bs {
		if b.Type == "actions" {
			for _, e := range b.Elements {
				out = append(out, e.ActionID)
			}
		}
	}
	return out
}

// TestSlackButtons: a press acts as the presser's person, with their
// role; the messages are edited in place and their threads told.
func TestSlackButtons(t *testing.T) {
	f := newSlackFixture(t, nil)
	id := f.alert(t, "k1")
	dm := f.fake.WaitMessages(t, "DU0ALICE", 1, 5*time.Second)[0]
	if got := buttons(t, dm.Blocks); strings.Join(got, ",") != "rota_ack,rota_escalate,rota_resolve" {
		t.Errorf("page buttons: %v", got)
	}
	f.fake.WaitMessages(t, "C0PAYMENTS", 1, 5*time.Second)
	// Both sends recorded (the message ids their edits need): an
	// acknowledgement between a send and its record does not edit that
	// message (noted for issue 24's "who hears an update").
	waitFor(t, "the DM and the post recorded", func() bool {
		_, ns, err := f.db.Timeline(context.Background(), id)
		sent := 0
		for _, n := range ns {
			if n.Channel == rota.ContactSlack && n.Status == rota.NotifySent && n.ExternalID != "" {
				sent++
			}
		}
		return err == nil && sent >= 2
	})

	// carol is in Slack but not on payments: refused, told why.
	if code, body := f.slack(t, "/slack/interactions", slackSecret, clocktest.Now(), press("U0CAROL", slack.ActionResolve, id, f.fake.ResponseURL())); code != 200 {
		t.Fatalf("carol: %d %s", code, body)
	}
	// Someone rota does not know: told so.
	f.slack(t, "/slack/interactions", slackSecret, clocktest.Now(), press("U0STRANGER", slack.ActionAck, id, f.fake.ResponseURL()))
	waitFor(t, "two refusals answered", func() bool { return len(f.fake.Responses()) >= 2 })
	resp := strings.Join(f.fake.Responses(), "\n")
	if !strings.Contains(resp, "carol is not on team payments") || !strings.Contains(resp, "not a person in rota") {
		t.Errorf("answers: %s", resp)
	}
	if inc := f.incident(t, id); inc.Status != rota.StatusTriggered {
		t.Fatalf("a refused press acted: %+v", inc)
	}

	// alice acknowledges from her DM.
	if code, body := f.slack(t, "/slack/interactions", slackSecret, clocktest.Now(), press("U0ALICE", slack.ActionAck, id, f.fake.ResponseURL())); code != 200 {
		t.Fatalf("ack: %d %s", code, body)
	}
	if inc := f.incident(t, id); inc.Status != rota.StatusAcknowledged || inc.AckedBy != "alice (slack)" {
		t.Fatalf("after the press: %+v", inc)
	}
	// Her DM and the channel's post are edited: no Acknowledge button
	// now; each thread says who acknowledged.
	for _, conv := range []string{"DU0ALICE", "C0PAYMENTS"} {
		waitFor(t, conv+" updated", func() bool {
			ms := f.fake.Messages(conv)
			return len(ms) == 1 && ms[0].Updates == 1 && len(ms[0].Replies) == 1
		})
		m := f.fake.Messages(conv)[0]
		if got := buttons(t, m.Blocks); strings.Join(got, ",") != "rota_escalate,rota_resolve" {
			t.Errorf("%s buttons after ack: %v", conv, got)
		}
		if !strings.Contains(m.Replies[0].Text, fmt.Sprintf("#%d Acknowledged by alice (slack)", id)) {
			t.Errorf("%s thread: %q", conv, m.Replies[0].Text)
		}
	}
	// bruno, known by email only, resolves: looked up in the workspace.
	if code, body := f.slack(t, "/slack/interactions", slackSecret, clocktest.Now(), press("U0BRUNO", slack.ActionResolve, id, f.fake.ResponseURL())); code != 200 {
		t.Fatalf("resolve: %d %s", code, body)
	}
	if inc := f.incident(t, id); inc.Status != rota.StatusResolved || inc.ResolvedBy != "bruno (slack)" {
		t.Fatalf("after bruno's press: %+v", inc)
	}
	waitFor(t, "the post shows resolved", func() bool {
		ms := f.fake.Messages("C0PAYMENTS")
		return len(ms) == 1 && ms[0].Updates == 2
	})
	if got := buttons(t, f.fake.Messages("C0PAYMENTS")[0].Blocks); len(got) != 0 {
		t.Errorf("buttons on a resolved incident: %v", got)
	}
	// The audit log has both.
	entries, err := f.db.AuditLog(context.Background(), rota.AuditQuery{All: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range entries {
		acts = append(acts, e.Actor+" "+e.Action)
	}
	if got := strings.Join(acts, "|"); !strings.Contains(got, "alice (slack) incident.acknowledge") || !strings.Contains(got, "bruno (slack) incident.resolve") {
		t.Errorf("audit: %s", got)
	}
}

// TestSlackCommands: /rota answers the user alone.
func TestSlackCommands(t *testing.T) {
	f := newSlackFixture(t, nil)
	id := f.alert(t, "k1")
	run := func(user, text string) string {
		t.Helper()
		code, body := f.slack(t, "/slack/commands", slackSecret, clocktest.Now(), command(user, text))
		var out struct{ ResponseType, Text string }
		json.Unmarshal([]byte(body), &out)
		var raw map[string]string
		json.Unmarshal([]byte(body), &raw)
		if code != 200 || raw["response_type"] != "ephemeral" {
			t.Fatalf("%s: %d %s", text, code, body)
		}
		return raw["text"]
	}
	// Slack cannot be asked who a user is: the user is told so, without
	// what went wrong inside (that is for the log).
	f.fake.FailNext("users.info", slacktest.Failure{Status: 500, Error: "internal_error"})
	if got := run("U0NEWCOMER", "ack 1"); !strings.Contains(got, "rota cannot tell who you are (Slack user U0NEWCOMER) right now") ||
		strings.Contains(got, "internal_error") || strings.Contains(got, "500") {
		t.Errorf("an unknown user while Slack fails: %q", got)
	}
	if got := run("U0ALICE", "oncall"); !strings.Contains(got, "*primary*:") || !strings.Contains(got, "until") {
		t.Errorf("oncall: %q", got)
	}
	if got := run("U0ALICE", "oncall nowhere"); !strings.Contains(got, `no rotation named "nowhere"`) {
		t.Errorf("oncall nowhere: %q", got)
	}
	if got := run("U0ALICE", fmt.Sprintf("ack %d", id)); !strings.Contains(got, "is now acknowledged") {
		t.Errorf("ack: %q", got)
	}
	if got := run("U0CAROL", fmt.Sprintf("resolve #%d", id)); !strings.Contains(got, "carol is not on team payments") {
		t.Errorf("carol resolves: %q", got)
	}
	if got := run("U0ALICE", "resolve"); !strings.Contains(got, "Usage: `/rota resolve N`") {
		t.Errorf("resolve alone: %q", got)
	}
	if got := run("U0ALICE", "dance"); !strings.Contains(got, `does not know "dance"`) {
		t.Errorf("unknown: %q", got)
	}
	// An override for oneself, now for 2h.
	got := run("U0BRUNO", "override primary 2h")
	if !strings.Contains(got, "You are on call for primary from") {
		t.Fatalf("override: %q", got)
	}
	ovs, err := f.db.Overrides(context.Background(), "primary")
	if err != nil || len(ovs) != 1 || ovs[0].Person != "bruno" || ovs[0].CreatedBy != "bruno (slack)" || ovs[0].End.Sub(ovs[0].Start) != 2*time.Hour {
		t.Errorf("overrides: %+v %v", ovs, err)
	}
	if sh, ok := f.book.Roster().OnCall("primary", clocktest.Now()); !ok || sh.Person != "bruno" {
		t.Errorf("on call after the override: %+v", sh)
	}
	// carol may not put herself on payments' rotation.
	day := clocktest.Now().Add(24 * time.Hour).UTC().Format("2006-01-02")
	if got := run("U0CAROL", "override primary "+day+"T10:00 "+day+"T12:00"); !strings.Contains(got, "carol is not on team payments") {
		t.Errorf("carol's override: %q", got)
	}
	if got := run("U0ALICE", "override primary tomorrow"); !strings.Contains(got, "Usage") {
		t.Errorf("bad override: %q", got)
	}
}

// TestAPagedAuthorFromAnotherTeamActs: payments-api pages deploy authors
// of any team (deploy_authors = "org"); carol, on search, deployed, is
// paged first, and acknowledges one incident from Slack, one with her
// API token and one by SMS: each audited under payments, saying she
// acted as paged. dave, neither on the team nor paged, is refused with
// the same words by the API, a Slack button and /rota.
func TestAPagedAuthorFromAnotherTeamActs(t *testing.T) {
	f := newSlackFixture(t, nil)
	ctx := context.Background()
	if r := f.do(t, "POST", "/api/v1/deploys", searchKey, "", `{"commit":"c0ffee1234","author":"carol-gh"}`); r.status != 201 {
		t.Fatalf("deploy: %d %s", r.status, r.raw)
	}
	paged := func(key string) int64 {
		t.Helper()
		id := f.alert(t, key)
		waitFor(t, "carol paged for "+key, func() bool {
			incs, err := f.db.IncidentsPaging(ctx, "carol")
			return err == nil && slices.ContainsFunc(incs, func(inc rota.Incident) bool { return inc.ID == id })
		})
		return id
	}
	acked := func(id int64, by string) {
		t.Helper()
		if inc := f.incident(t, id); inc.Status != rota.StatusAcknowledged || inc.AckedBy != by {
			t.Errorf("incident %d: %s by %q, want acknowledged by %s", id, inc.Status, inc.AckedBy, by)
		}
	}

	// Slack.
	bySlack := paged("k1")
	f.fake.WaitMessages(t, "DU0CAROL", 1, 5*time.Second)
	if code, body := f.slack(t, "/slack/interactions", slackSecret, clocktest.Now(), press("U0CAROL", slack.ActionAck, bySlack, f.fake.ResponseURL())); code != 200 {
		t.Fatalf("carol's press: %d %s", code, body)
	}
	waitFor(t, "the press acted", func() bool { return f.incident(t, bySlack).Status == rota.StatusAcknowledged })
	acked(bySlack, "carol (slack)")

	// The API, with her personal token.
	token, _, err := f.db.CreateAPIToken(ctx, "carol", "laptop", "carol")
	if err != nil {
		t.Fatal(err)
	}
	byAPI := paged("k2")
	if r := f.do(t, "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", byAPI), token, "", ""); r.status != 200 {
		t.Fatalf("carol's API ack: %d %s", r.status, r.raw)
	}
	acked(byAPI, "carol (token)")

	// SMS: "4" acknowledges the incident that paged her last.
	bySMS := paged("k3")
	answer, known, err := f.engine.HandleSMS(ctx, "+4915112345003", "4", "SM-carol-1")
	if err != nil || !known || !strings.Contains(answer, fmt.Sprintf("Acknowledged #%d", bySMS)) {
		t.Fatalf("carol's SMS: %q %v %v", answer, known, err)
	}
	acked(bySMS, "carol (sms)")

	entries, err := f.db.AuditLog(ctx, rota.AuditQuery{All: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, e := range entries {
		if e.Action == "incident.acknowledge" && e.Team == "payments" && strings.Contains(e.Detail, "not on team payments: acted as paged for it") {
			audited[e.Actor] = true
		}
	}
	for _, by := range []string{"carol (slack)", "carol (token)", "carol (sms)"} {
		if !audited[by] {
			t.Errorf("no audit entry for %s's acknowledgement: %+v", by, entries)
		}
	}

	// dave, on search too, was paged for nothing: refused, in the same
	// words, by the API and by Slack.
	other := paged("k4")
	want := fmt.Sprintf("dave is not on team payments, which service payments-api belongs to, and was not paged for incident %d", other)
	daveToken, _, err := f.db.CreateAPIToken(ctx, "dave", "laptop", "dave")
	if err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", other), daveToken, "", ""); r.status != 403 || r.errorMessage() != want {
		t.Errorf("dave's API ack: %d %s", r.status, r.raw)
	}
	if code, body := f.slack(t, "/slack/interactions", slackSecret, clocktest.Now(), press("U0DAVE", slack.ActionAck, other, f.fake.ResponseURL())); code != 200 {
		t.Fatalf("dave's press: %d %s", code, body)
	}
	waitFor(t, "dave's press answered", func() bool { return strings.Contains(strings.Join(f.fake.Responses(), "\n"), want) })
	code, body := f.slack(t, "/slack/commands", slackSecret, clocktest.Now(), command("U0DAVE", fmt.Sprintf("ack %d", other)))
	var said map[string]string
	json.Unmarshal([]byte(body), &said)
	if got := said["text"]; code != 200 || got != want {
		t.Errorf("dave's /rota ack: %q, want %q", got, want)
	}
	if inc := f.incident(t, other); inc.Status != rota.StatusTriggered {
		t.Errorf("a refused act changed incident %d: %s", other, inc.Status)
	}
}

package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/notify/twilio"
	"github.com/rotahq/rota/paging/notify/twilio/twiliotest"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

const (
	twSID       = "AC00000000000000000000000000000001"
	twToken     = "0123456789abcdef0123456789abcdef"
	twSecondary = "fedcba9876543210fedcba9876543210"
	publicURL   = "https://rota.example.com"
	aliceNumber = "+4915112345001"
)

const twilioConfig = `
[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [
  { type = "sms", address = "+4915112345001" },
  { type = "voice", address = "+4915112345001", delay = "10m" },
]
[[teams]]
name = "payments"
members = ["alice"]
timezone = "Europe/Berlin"
[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06
[[escalation_policies]]
name = "default"
steps = [{ targets = ["rotation:primary"], delay = "30m" }]
[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY" }]
# One incident per alert: these tests page alerts one by one.
group = "off"
`

type twilioFixture struct {
	*fixture
	fake   *twiliotest.Server
	engine *paging.Engine
	clock  *runClock
}

// runClock is the run's clock (clocktest.Now) moved on by what a test
// skips: the engine's loop runs on real timers, and a test that needs
// time to pass (a rate limit to run out) skips it rather than sleeps.
type runClock struct{ skipped atomic.Int64 }

func (c *runClock) Now() time.Time { return clocktest.Now().Add(time.Duration(c.skipped.Load())) }

// Skip moves the clock on by d.
func (c *runClock) Skip(d time.Duration) { c.skipped.Add(int64(d)) }

// newTwilioFixture runs the engine (its loop on real timers), the store
// and the server on the fixture's clock: the run's, moved on by what the
// test skips.
func newTwilioFixture(t *testing.T, extra ...string) *twilioFixture {
	t.Helper()
	clocktest.Reproduce(t)
	cfg, err := config.Parse("twilio.toml", []byte(twilioConfig+strings.Join(extra, "\n")), t.TempDir(), func(k string) (string, bool) { return searchKey, k == "KEY" })
	if err != nil {
		t.Fatal(err)
	}
	clock := &runClock{}
	db := storetest.Open(t, store.Options{Synchronous: store.SyncNormal})
	db.Now = clock.Now
	fake := twiliotest.NewServer(twSID, twToken)
	t.Cleanup(fake.Close)
	tw, err := twilio.New(twilio.Options{AccountSID: twSID, AuthToken: twToken, From: "+15005550006", PublicURL: publicURL, APIURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	f := &twilioFixture{fixture: &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))}, fake: fake, clock: clock}
	f.engine = paging.New(paging.Options{Store: db, Book: f.book, PublicURL: publicURL, RateLimit: cfg.Paging.RateLimit, Now: clock.Now,
		Notifiers: registry(map[rota.Channel]notify.Notifier{"sms": tw.SMS(), "voice": tw.Voice()})})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.engine.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	st := withToken()
	st.TwilioTokens, st.PublicURL = []string{twToken, twSecondary}, publicURL
	f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: f.engine, Twilio: f.engine, Alerts: db, Ping: db.Ping, Settings: st, Now: clock.Now})
	f.srv = newServer(t, f.api)
	return f
}

// page posts an alert and waits for its SMS to reach the fake Twilio.
func (f *twilioFixture) page(t *testing.T, key string) (int64, twiliotest.Request) {
	t.Helper()
	before := len(f.fake.Requests())
	r := f.do(t, "POST", "/api/v1/alerts", searchKey, "", fmt.Sprintf(`{"summary":"5xx on %s","severity":"critical","dedup_key":%q}`, key, key))
	if r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.raw)
	}
	reqs := f.fake.Wait(before+1, 5*time.Second)
	if len(reqs) <= before {
		t.Fatal("no SMS reached Twilio")
	}
	// A person answers seconds later, when the engine has long recorded
	// the send; wait for that record rather than race it.
	id := int64(r.body["alert_id"].(float64))
	waitFor(t, "the SMS recorded as sent", func() bool {
		_, ns, _ := f.db.Timeline(context.Background(), id)
		return len(ns) > 0 && ns[0].Status == rota.NotifySent
	})
	return id, reqs[before]
}

// twilio calls a webhook as Twilio would: signed with token for the
// public URL of path.
func (f *twilioFixture) twilio(t *testing.T, token, path string, params url.Values) (int, string) {
	t.Helper()
	res, err := twiliotest.Post(http.DefaultClient, token, publicURL+path, f.srv.URL+path, params)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// smsSeq numbers inbound messages: each has a SID of its own, as Twilio's.
var smsSeq atomic.Int64

func sms(from, body string) url.Values {
	return url.Values{"MessageSid": {fmt.Sprintf("SM%032d", smsSeq.Add(1))}, "AccountSid": {twSID}, "From": {from}, "To": {"+15005550006"}, "Body": {body},
		"NumMedia": {"0"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}, "FromCountry": {"DE"}}
}

func (f *twilioFixture) status(t *testing.T, id int64) rota.Status {
	t.Helper()
	a, err := f.db.Incident(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Status
}

func TestTwilioSignatures(t *testing.T) {
	f := newTwilioFixture(t)
	id, msg := f.page(t, "k1")
	if !strings.Contains(msg.Body, "Reply 1a ack, 1c resolve") || msg.To != aliceNumber || msg.StatusCallback != fmt.Sprintf("%s/twilio/status?n=1", publicURL) {
		t.Fatalf("sms: %+v", msg)
	}
	params := sms(aliceNumber, "1a")

	// Unsigned, wrongly keyed, for another URL, tampered: refused.
	req, _ := http.NewRequest("POST", f.srv.URL+"/twilio/sms", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := f.send(t, req); r.status != 403 {
		t.Errorf("unsigned: %d", r.status)
	}
	if code, _ := f.twilio(t, "0000000000000000000000000000000a", "/twilio/sms", params); code != 403 {
		t.Errorf("wrong token: %d", code)
	}
	res, _ := twiliotest.Post(http.DefaultClient, twToken, "https://evil.example.com/twilio/sms", f.srv.URL+"/twilio/sms", params)
	if res.StatusCode != 403 {
		t.Errorf("signed for another URL: %d", res.StatusCode)
	}
	tampered, _ := http.NewRequest("POST", f.srv.URL+"/twilio/sms", strings.NewReader(strings.Replace(params.Encode(), "Body=1a", "Body=1c", 1)))
	tampered.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tampered.Header.Set("X-Twilio-Signature", twiliotest.Sign(twToken, publicURL+"/twilio/sms", params))
	if r := f.send(t, tampered); r.status != 403 {
		t.Errorf("tampered body: %d", r.status)
	}
	if f.status(t, id) != rota.StatusTriggered {
		t.Fatal("a refused request changed the alert")
	}

	// Signed with the secondary token during a rotation: accepted, and
	// the reply acknowledges.
	code, body := f.twilio(t, twSecondary, "/twilio/sms", params)
	if code != 200 || !strings.Contains(body, "<Message>Acknowledged #1 payments-api: 5xx on k1</Message>") {
		t.Fatalf("signed reply: %d %s", code, body)
	}
	if f.status(t, id) != rota.StatusAcknowledged {
		t.Fatal("the reply did not acknowledge")
	}
	tl := f.do(t, "GET", fmt.Sprintf("/api/v1/incidents/%d", id), adminToken, "", "")
	if tl.body["acknowledged_by"] != "alice (sms)" {
		t.Errorf("acknowledged by %v", tl.body["acknowledged_by"])
	}
}

func TestSMSReplies(t *testing.T) {
	f := newTwilioFixture(t)
	a, _ := f.page(t, "k1")
	// A second alert within the minute is held back by the rate limit.
	f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"b","severity":"critical","dedup_key":"k2"}`)
	// A stranger's reply changes nothing and gets no answer.
	code, body := f.twilio(t, twToken, "/twilio/sms", sms("+12125550199", "aa"))
	if code != 200 || strings.Contains(body, "<Message>") || f.status(t, a) != rota.StatusTriggered {
		t.Fatalf("stranger: %d %s", code, body)
	}
	// An unknown reply gets help naming the open alerts and their codes.
	_, body = f.twilio(t, twToken, "/twilio/sms", sms(aliceNumber, "what?"))
	if !strings.Contains(body, "Sorry, I did not understand. Reply 1a to ack, 1c to resolve, 1e to escalate, aa to ack all. Open: (1) triggered payments-api: 5xx on k1") {
		t.Errorf("help: %s", body)
	}
	_, body = f.twilio(t, twToken, "/twilio/sms", sms(aliceNumber, "9a"))
	if !strings.Contains(body, "No incident has code 9.") {
		t.Errorf("unknown code: %s", body)
	}
	// "6" resolves the alert that paged most recently.
	_, body = f.twilio(t, twToken, "/twilio/sms", sms(aliceNumber, "6"))
	if !strings.Contains(body, "Resolved #1") || f.status(t, a) != rota.StatusResolved {
		t.Errorf("resolve: %s", body)
	}
	_, body = f.twilio(t, twToken, "/twilio/sms", sms(aliceNumber, "1a"))
	if !strings.Contains(body, "#1 is already resolved (by alice (sms)).") {
		t.Errorf("code of a resolved alert: %s", body)
	}
	_, body = f.twilio(t, twToken, "/twilio/sms", sms(aliceNumber, "4"))
	if !strings.Contains(body, "Nothing to acknowledge") {
		t.Errorf("nothing left: %s", body)
	}
}

func TestSMSAckAll(t *testing.T) {
	f := newTwilioFixture(t)
	a, _ := f.page(t, "k1")
	// Two more alerts for alice arrive within the minute and are held.
	f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"b","severity":"critical","dedup_key":"k2"}`)
	f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"c","severity":"critical","dedup_key":"k3"}`)
	_, body := f.twilio(t, twToken, "/twilio/sms", sms(aliceNumber, "aa"))
	// Only what reached alice is hers to acknowledge with aa.
	if !strings.Contains(body, "Acknowledged 1: #1") || f.status(t, a) != rota.StatusAcknowledged {
		t.Errorf("aa: %s", body)
	}
	if f.status(t, 2) != rota.StatusTriggered {
		t.Error("aa acknowledged an alert that never reached the person")
	}
}

func TestVoiceKeys(t *testing.T) {
	f := newTwilioFixture(t)
	id, _ := f.page(t, "k1")
	// Notification 2 is alice's voice call (due in 10 minutes); a key
	// press on its call is what the callback carries.
	params := url.Values{"CallSid": {"CA1"}, "From": {"+15005550006"}, "To": {aliceNumber}, "Digits": {"*"}}
	code, body := f.twilio(t, twToken, "/twilio/voice?n=2", params)
	if code != 200 || !strings.Contains(body, "<Gather") || !strings.Contains(body, "Alert on payments api") {
		t.Fatalf("*: %d %s", code, body)
	}
	params.Set("Digits", "6")
	code, body = f.twilio(t, twToken, "/twilio/voice?n=2", params)
	if code != 200 || !strings.Contains(body, "Alert resolved. Thank you. Goodbye.") || f.status(t, id) != rota.StatusResolved {
		t.Fatalf("6: %d %s", code, body)
	}
	params.Set("Digits", "4")
	_, body = f.twilio(t, twToken, "/twilio/voice?n=2", params)
	if !strings.Contains(body, "already resolved by alice (voice)") {
		t.Errorf("4 after resolve: %s", body)
	}
	if code, _ := f.twilio(t, twToken, "/twilio/voice?n=999", params); code != 404 {
		t.Errorf("unknown notification: %d", code)
	}
	if code, _ := f.twilio(t, twToken, "/twilio/voice?n=x", params); code != 400 {
		t.Errorf("bad notification id: %d", code)
	}
}

func TestStatusUndeliveredFailsOverToVoice(t *testing.T) {
	f := newTwilioFixture(t)
	id, msg := f.page(t, "k1")
	n := url.Values{"MessageSid": {msg.SID}, "MessageStatus": {"delivered"}, "AccountSid": {twSID}, "To": {aliceNumber}}
	if code, _ := f.twilio(t, twToken, "/twilio/status?n=1", n); code != 204 {
		t.Fatalf("delivered: %d", code)
	}
	// A later report for the same message says it was not delivered after
	// all (as carriers do): the voice call, due in 10 minutes, goes now.
	n.Set("MessageStatus", "undelivered")
	n.Set("ErrorCode", "30003")
	if code, body := f.twilio(t, twToken, "/twilio/status?n=1", n); code != 204 {
		t.Fatalf("undelivered: %d %s", code, body)
	}
	reqs := f.fake.Wait(2, 5*time.Second)
	if len(reqs) != 2 || reqs[1].Kind != "call" || reqs[1].To != aliceNumber {
		t.Fatalf("no failover call: %+v", reqs)
	}
	r := f.do(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", id), adminToken, "", "")
	var msgs []string
	for _, e := range r.body["timeline"].([]any) {
		msgs = append(msgs, e.(map[string]any)["message"].(string))
	}
	if all := strings.Join(msgs, "\n"); !strings.Contains(all, "sms to alice undelivered (Twilio error 30003); trying voice at once") {
		t.Errorf("timeline:\n%s", all)
	}
	// A report with another message's SID is refused.
	n.Set("MessageSid", "SM999")
	if code, _ := f.twilio(t, twToken, "/twilio/status?n=1", n); code != 409 {
		t.Errorf("mismatched SID: %d", code)
	}
}

func TestTwilioNotConfigured(t *testing.T) {
	f := newIngestFixture(t) // no Twilio settings
	res, _ := twiliotest.Post(http.DefaultClient, twToken, publicURL+"/twilio/sms", f.srv.URL+"/twilio/sms", sms(aliceNumber, "4"))
	if res.StatusCode != 404 {
		t.Errorf("status %d", res.StatusCode)
	}
}

// TestShadowCopies: a learner shadowing the rotation gets a copy of the
// page, marked as such; cannot acknowledge it; is not charged a page.
func TestShadowCopies(t *testing.T) {
	f := newTwilioFixture(t, `
[[people]]
name = "newbie"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345009" }]
[[teams]]
name = "learners"
members = ["newbie"]
timezone = "Europe/Berlin"
[[rotations]]
name = "learning"
team = "learners"
members = ["newbie"]
start = 2026-01-06
shadow_of = "primary"
`)
	r := f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"5xx","severity":"critical","dedup_key":"k1"}`)
	id := int64(r.body["alert_id"].(float64))
	reqs := f.fake.Wait(2, 5*time.Second)
	var copyMsg string
	for _, q := range reqs {
		if q.To == "+4915112345009" {
			copyMsg = q.Body
		}
	}
	if len(reqs) != 2 || !strings.HasPrefix(copyMsg, "[shadow copy, no reply needed] payments-api: 5xx") {
		t.Fatalf("requests: %+v", reqs)
	}
	// Wait for both sends to be recorded, as a reply would.
	waitFor(t, "both sends recorded", func() bool {
		_, ns, _ := f.db.Timeline(context.Background(), id)
		return len(ns) == 3 && ns[0].Status == rota.NotifySent && ns[2].Status == rota.NotifySent
	})
	_, body := f.twilio(t, twToken, "/twilio/sms", sms("+4915112345009", "aa"))
	if !strings.Contains(body, "Nothing acknowledged. Refused #1: you are shadowing, the on-call acts.") {
		t.Errorf("aa from the shadow: %s", body)
	}
	_, body = f.twilio(t, twToken, "/twilio/sms", sms("+4915112345009", "4"))
	if !strings.Contains(body, "Refused: newbie is shadowing incident 1: only the on-call can acknowledge, resolve or escalate it.") || f.status(t, id) != rota.StatusTriggered {
		t.Fatalf("ack from the shadow: %s", body)
	}
	pages, _ := f.db.Pages(context.Background(), time.Time{})
	if len(pages) != 1 || pages[0].Person != "alice" {
		t.Errorf("pages: %+v (the shadow must not be charged)", pages)
	}
	_, body = f.twilio(t, twToken, "/twilio/sms", sms(aliceNumber, "4"))
	if !strings.Contains(body, "Acknowledged #1") {
		t.Errorf("ack from the on-call: %s", body)
	}
	r = f.do(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", id), adminToken, "", "")
	var msgs []string
	for _, e := range r.body["timeline"].([]any) {
		msgs = append(msgs, e.(map[string]any)["message"].(string))
	}
	if all := strings.Join(msgs, "\n"); !strings.Contains(all, "step 1: shadow copy to newbie") || !strings.Contains(all, "shadow copy to newbie (sms)") {
		t.Errorf("timeline:\n%s", all)
	}
}

// TestSMSReplayRefused: a captured, validly signed "4" sent again later
// does not acknowledge the incident paging the person then.
func TestSMSReplayRefused(t *testing.T) {
	f := newTwilioFixture(t)
	a, _ := f.page(t, "k1")
	reply := sms(aliceNumber, "4")
	if _, body := f.twilio(t, twToken, "/twilio/sms", reply); !strings.Contains(body, "Acknowledged #") || f.status(t, a) != rota.StatusAcknowledged {
		t.Fatalf("the reply: %s", body)
	}
	f.clock.Skip(config.DefaultRateLimit + time.Second) // past the rate limit: a page of its own
	b, _ := f.page(t, "k2")
	code, body := f.twilio(t, twToken, "/twilio/sms", reply)
	if code != 200 || strings.Contains(body, "<Message>") || f.status(t, b) != rota.StatusTriggered {
		t.Errorf("the replay: %d %s, incident %d is %s", code, body, b, f.status(t, b))
	}
}

// registry registers notifiers by channel; the others are logged.
func registry(by map[rota.Channel]notify.Notifier) *notify.Registry {
	r := notify.NewRegistry(nil, nil)
	for c, n := range by {
		r.Register(c, n)
	}
	return r
}

// TestEscalateBySMSAndKey: "5" (or "1e") replies and key 5 on a call
// run the incident's next step now.
func TestEscalateBySMSAndKey(t *testing.T) {
	f := newTwilioFixture(t)
	id, _ := f.page(t, "k1")
	_, body := f.twilio(t, twToken, "/twilio/sms", sms(aliceNumber, "1e"))
	if !strings.Contains(body, fmt.Sprintf("Escalated #%d payments-api: the next step is paged now.", id)) {
		t.Fatalf("1e: %s", body)
	}
	r := f.do(t, "GET", fmt.Sprintf("/api/v1/incidents/%d", id), adminToken, "", "")
	if !strings.Contains(fmt.Sprint(r.body["timeline"]), "escalated by alice (sms): the next step runs now") {
		t.Errorf("timeline: %v", r.body["timeline"])
	}
	// Key 5 on alice's call (notification 2) escalates too; its policy
	// has one step, so it starts again from the first.
	params := url.Values{"CallSid": {"CA5"}, "From": {"+15005550006"}, "To": {aliceNumber}, "Digits": {"5"}}
	code, twiml := f.twilio(t, twToken, "/twilio/voice?n=2", params)
	if code != 200 || !strings.Contains(twiml, "Escalated: the next step is paged now. Goodbye.") {
		t.Fatalf("5: %d %s", code, twiml)
	}
	if code, twiml = f.twilio(t, twToken, "/twilio/voice?n=2", params); !strings.Contains(twiml, "already answered") {
		t.Errorf("the same press again: %d %s", code, twiml)
	}
	// The call script says the key.
	params.Set("Digits", "*")
	params.Set("CallSid", "CA6")
	if _, twiml = f.twilio(t, twToken, "/twilio/voice?n=2", params); !strings.Contains(twiml, "5 to escalate") {
		t.Errorf("script: %s", twiml)
	}
}

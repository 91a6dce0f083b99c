package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota/paging/notify/twilio/twiliotest"
)

const (
	e2eTwilioSID   = "AC0000000000000000000000000000e2e0"
	e2eTwilioToken = "0123456789abcdef0123456789abcdef"
	e2ePublicURL   = "https://rota.example.com"
)

const twilioE2EConfig = `
[server]
listen = "127.0.0.1:0"
database = "rota.db"
public_url = "https://rota.example.com"

[log]
format = "json"

[twilio]
account_sid = { env = "TWILIO_ACCOUNT_SID" }
auth_token = { env = "TWILIO_AUTH_TOKEN" }
from = "+15005550006"
api_url = "FAKE"

[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345001" }, { type = "voice", address = "+4915112345001", delay = "10m" }]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345002" }]
[[people]]
name = "carol"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345003" }, { type = "voice", address = "+4915112345003", delay = "10m" }]

[[teams]]
name = "payments"
members = ["alice", "bruno", "carol"]
timezone = "Europe/Berlin"

[[rotations]]
name = "payments"
team = "payments"
members = ["alice"]
start = 2026-01-06
[[rotations]]
name = "web"
team = "payments"
members = ["carol"]
start = 2026-01-06

[[escalation_policies]]
name = "payments"
steps = [{ targets = ["rotation:payments"], delay = "3s" }, { targets = ["person:bruno"], delay = "1h" }]
[[escalation_policies]]
name = "web"
steps = [{ targets = ["rotation:web"], delay = "1h" }]

[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "payments"
integration_keys = [{ env = "KEY" }]
[[services]]
name = "web"
team = "payments"
escalation_policy = "web"
integration_keys = [{ env = "WEB_KEY" }]
`

const webKey = "web-integration-key-for-e2e-0000"

// twilioPost calls rotad's webhook as Twilio would, signed for the public
// URL, sent to where rotad listens.
func twilioPost(t *testing.T, d *daemon, pathAndQuery string, params url.Values, sign bool) (int, string) {
	t.Helper()
	target := "http://" + d.addr + pathAndQuery
	var res *http.Response
	var err error
	if sign {
		res, err = twiliotest.Post(http.DefaultClient, e2eTwilioToken, e2ePublicURL+pathAndQuery, target, params)
	} else {
		res, err = http.PostForm(target, params)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// callbackPath turns a callback URL Twilio was given into its path and
// query on rotad.
func callbackPath(t *testing.T, full string) string {
	t.Helper()
	if !strings.HasPrefix(full, e2ePublicURL+"/") {
		t.Fatalf("callback %q is not under the public URL", full)
	}
	return strings.TrimPrefix(full, e2ePublicURL)
}

func alertStatus(t *testing.T, d *daemon, id int) string {
	t.Helper()
	_, a := d.request("GET", fmt.Sprintf("/api/v1/alerts/%d", id), "")
	return a["status"].(string)
}

func TestTwilioEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	fake := twiliotest.NewServer(e2eTwilioSID, e2eTwilioToken)
	defer fake.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(twilioE2EConfig, "FAKE", fake.URL, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfgPath, "KEY="+serviceKey, "WEB_KEY="+webKey, "TWILIO_ACCOUNT_SID="+e2eTwilioSID, "TWILIO_AUTH_TOKEN="+e2eTwilioToken)

	// An alert pages the on-call by SMS.
	status, body := d.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"checkout 5xx","severity":"critical","dedup_key":"a"}`)
	if status != 202 {
		t.Fatalf("post: %d %v", status, body)
	}
	reqs := fake.Wait(1, 5*time.Second)
	if len(reqs) != 1 || reqs[0].Kind != "sms" || reqs[0].To != "+4915112345001" || !strings.Contains(reqs[0].Body, "payments-api CRITICAL: checkout 5xx. Reply 1a ack, 1c resolve") {
		t.Fatalf("sms: %+v", reqs)
	}

	// A person answers once the send is recorded (seconds, not the
	// microseconds a test could take).
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, a := d.request("GET", "/api/v1/alerts/1", "")
		if ns, _ := a["notifications"].([]any); len(ns) > 0 && ns[0].(map[string]any)["status"] == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the SMS was not recorded as sent")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// An unsigned reply is refused; a signed "4" acknowledges.
	reply := url.Values{"MessageSid": {"SMin1"}, "From": {"+4915112345001"}, "To": {"+15005550006"}, "Body": {"4"}, "AccountSid": {e2eTwilioSID}}
	if code, _ := twilioPost(t, d, "/twilio/sms", reply, false); code != 403 {
		t.Fatalf("unsigned reply: %d", code)
	}
	if alertStatus(t, d, 1) != "triggered" {
		t.Fatal("an unsigned reply changed the alert")
	}
	code, twiml := twilioPost(t, d, "/twilio/sms", reply, true)
	if code != 200 || !strings.Contains(twiml, "<Message>Acknowledged #1 payments-api: checkout 5xx</Message>") {
		t.Fatalf("signed reply: %d %s", code, twiml)
	}
	// Escalation stops: bruno is never paged (step 2 was due after 3s):
	// no step is due and nothing is queued for him.
	d.escalationStopped(1, func(n map[string]any) bool { return n["person"] != "bruno" })
	for _, r := range fake.Requests() {
		if r.To == "+4915112345002" {
			t.Fatal("step 2 paged bruno after the acknowledgement")
		}
	}

	// Another alert pages carol by SMS; Twilio reports it undelivered, and
	// carol's voice call (due in 10 minutes) goes out at once.
	status, _ = d.requestAs(webKey, "POST", "/api/v1/alerts", `{"summary":"web down","severity":"critical","dedup_key":"b"}`)
	if status != 202 {
		t.Fatal(status)
	}
	reqs = fake.Wait(2, 5*time.Second)
	if len(reqs) != 2 || reqs[1].To != "+4915112345003" {
		t.Fatalf("carol's sms: %+v", reqs)
	}
	report := url.Values{"MessageSid": {reqs[1].SID}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}, "AccountSid": {e2eTwilioSID}}
	if code, _ := twilioPost(t, d, callbackPath(t, reqs[1].StatusCallback), report, true); code != 204 {
		t.Fatalf("status callback: %d", code)
	}
	reqs = fake.Wait(3, 5*time.Second)
	if len(reqs) != 3 || reqs[2].Kind != "call" || reqs[2].To != "+4915112345003" {
		t.Fatalf("no failover call: %+v\n%s", reqs, d.dump())
	}
	call := reqs[2]
	// The call's Gather posts the key press to its action URL: 6 resolves.
	i := strings.Index(call.Twiml, `action="`)
	action := call.Twiml[i+len(`action="`):]
	action = strings.ReplaceAll(action[:strings.Index(action, `"`)], "&amp;", "&")
	keys := url.Values{"CallSid": {call.SID}, "Digits": {"6"}, "From": {"+15005550006"}, "To": {"+4915112345003"}, "AccountSid": {e2eTwilioSID}}
	code, twiml = twilioPost(t, d, callbackPath(t, action), keys, true)
	if code != 200 || !strings.Contains(twiml, "Alert resolved.") {
		t.Fatalf("key press: %d %s", code, twiml)
	}
	if s := alertStatus(t, d, 2); s != "resolved" {
		t.Fatalf("alert 2 is %s after 6", s)
	}
	_, a := d.request("GET", "/api/v1/alerts/2", "")
	if a["resolved_by"] != "carol (voice)" {
		t.Errorf("resolved by %v", a["resolved_by"])
	}
}

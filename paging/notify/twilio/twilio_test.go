package twilio

import (
	"context"
	"fmt"
	"math/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/notify/twilio/twiliotest"
)

const (
	accountSID = "AC00000000000000000000000000000001"
	authToken  = "0123456789abcdef0123456789abcdef"
)

func TestSignatureVector(t *testing.T) {
	params := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"}, "Caller": {"+14158675309"}, "From": {"+14158675309"}}
	const want = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	if got := twiliotest.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params); got != want {
		t.Errorf("from-spec signature %s, want %s", got, want)
	}
	v := twclient.NewRequestValidator("12345")
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	if !v.Validate("https://mycompany.com/myapp.php?foo=1&bar=2", flat, want) {
		t.Error("twilio-go rejects the published vector")
	}
}

func TestSignaturesAgree(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	word := func() string {
		const chars = "abcXYZ019+ -_/%&=?é"
		b := make([]rune, 1+rng.Intn(12))
		for i := range b {
			b[i] = []rune(chars)[rng.Intn(len([]rune(chars)))]
		}
		return string(b)
	}
	for i := 0; i < 500; i++ {
		params := url.Values{}
		flat := map[string]string{}
		for j := 0; j < rng.Intn(8); j++ {
			k, v := word(), word()
			params.Set(k, v)
			flat[k] = v
		}
		u := "https://rota.example.com/twilio/sms?n=" + fmt.Sprint(rng.Intn(1000))
		sig := twiliotest.Sign(authToken, u, params)
		validator := twclient.NewRequestValidator(authToken)
		if !validator.Validate(u, flat, sig) {
			t.Fatalf("twilio-go rejects %v", params)
		}
		if validator.Validate(u+"0", flat, sig) {
			t.Fatalf("twilio-go accepts a signature for another URL")
		}
	}
}

func newTwilio(t *testing.T, fake *twiliotest.Server, messagingSID string) *Twilio {
	t.Helper()
	tw, err := New(Options{AccountSID: accountSID, AuthToken: authToken, From: "+15005550006",
		MessagingServiceSID: messagingSID, PublicURL: "https://rota.example.com", APIURL: fake.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

var testAlert = rota.Incident{ID: 42, Service: "payments-api", Summary: "5xx > 2% on checkout & <cart>", Severity: "critical",
	CreatedAt: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)}

func TestTwilioSMSAndCall(t *testing.T) {
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	tw := newTwilio(t, fake, "")
	m := notify.Message{NotificationID: 7, Person: "alice", Channel: "sms", Address: "+4915112345001",
		Incidents: []rota.Incident{testAlert}, Text: "payments-api CRITICAL: 5xx. Reply 1a ack, 1c resolve", Now: testAlert.CreatedAt.Add(3 * time.Minute)}
	rc, err := tw.SMS().Notify(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	m.Channel = "voice"
	rc2, err := tw.Voice().Notify(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	sms, call := reqs[0], reqs[1]
	if sms.Kind != "sms" || sms.To != "+4915112345001" || sms.From != "+15005550006" || sms.Body != m.Text ||
		sms.StatusCallback != "https://rota.example.com/twilio/status?n=7" || rc.ID != sms.SID {
		t.Errorf("sms: %+v (receipt %s)", sms, rc.ID)
	}
	if call.Kind != "call" || call.From != "+15005550006" || call.StatusCallback != "https://rota.example.com/twilio/status?n=7" || rc2.ID != call.SID {
		t.Errorf("call: %+v", call)
	}
	for _, want := range []string{`<Gather numDigits="1" action="https://rota.example.com/twilio/voice?n=7" method="POST"`,
		"Alert on payments api, triggered 3 minutes ago.", "5xx  above  2 percent on checkout &amp;  below cart above .",
		notify.KeysPrompt, "<Pause length=\"1\"></Pause>", "Goodbye.</Say><Hangup></Hangup>"} {
		if !strings.Contains(call.Twiml, want) {
			t.Errorf("call TwiML lacks %q:\n%s", want, call.Twiml)
		}
	}
	if strings.Count(call.Twiml, "<Gather") != 2 {
		t.Errorf("the message is not repeated once: %s", call.Twiml)
	}

	// A messaging service sends SMS in place of the number.
	tw2 := newTwilio(t, fake, "MG0000000000000000000000000000001")
	if _, err := tw2.SMS().Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if r := fake.Requests()[2]; r.MessagingSID != "MG0000000000000000000000000000001" || r.From != "" {
		t.Errorf("messaging service: %+v", r)
	}
}

func TestTwilioErrors(t *testing.T) {
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	tw := newTwilio(t, fake, "")
	m := notify.Message{NotificationID: 1, Address: "+4915112345001", Incidents: []rota.Incident{testAlert}, Text: "x", Now: testAlert.CreatedAt.Add(3 * time.Minute)}
	for _, tt := range []struct {
		failure   twiliotest.Failure
		permanent bool
		message   string
	}{
		{twiliotest.Failure{Status: 400, Code: 21211, Message: "The 'To' number is not a valid phone number."}, true, "twilio refused the SMS to +4915112345001: 21211 The 'To' number is not a valid phone number. (HTTP 400)"},
		{twiliotest.Failure{Status: 429, Code: 20429, Message: "Too Many Requests"}, false, "20429"},
		{twiliotest.Failure{Status: 503, Code: 20500, Message: "Service Unavailable"}, false, "20500"},
		{twiliotest.Failure{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}, true, "21610"},
	} {
		fake.FailNext(m.Address, tt.failure)
		_, err := tw.SMS().Notify(context.Background(), m)
		if err == nil || notify.IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("%d: %v (permanent %v)", tt.failure.Code, err, notify.IsPermanent(err))
		}
	}
	bad, _ := New(Options{AccountSID: accountSID, AuthToken: "wrong", From: "+15005550006", APIURL: fake.URL})
	if _, err := bad.SMS().Notify(context.Background(), m); !notify.IsPermanent(err) || !strings.Contains(err.Error(), "20003") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := New(Options{AccountSID: accountSID, AuthToken: "has-dashes", From: "+15005550006"}); err == nil {
		t.Error("a token twilio-go would refuse is accepted at start")
	}
	fake.Close()
	if _, err := tw.SMS().Notify(context.Background(), m); err == nil || notify.IsPermanent(err) {
		t.Errorf("Twilio unreachable should be retried: %v", err)
	}
}

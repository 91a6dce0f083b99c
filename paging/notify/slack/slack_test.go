package slack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/notify/slack"
	"github.com/rotahq/rota/paging/notify/slack/slacktest"
	"github.com/rotahq/rota/paging/notify/webhook"
)

// Slack's documented signing example
// (https://api.slack.com/authentication/verifying-requests-from-slack).
const (
	docSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	docTimestamp = 1531420618
	docBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

const botToken = "xoxb-1234-5678-rota"

func TestSignDocumentedExample(t *testing.T) {
	if got := slack.Sign(docSecret, strconv.Itoa(docTimestamp), []byte(docBody)); got != docSignature {
		t.Errorf("Sign = %s, want Slack's %s", got, docSignature)
	}
}

func TestVerify(t *testing.T) {
	signedAt := time.Unix(docTimestamp, 0)
	header := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set("X-Slack-Request-Timestamp", ts)
		}
		if sig != "" {
			h.Set("X-Slack-Signature", sig)
		}
		return h
	}
	ts := strconv.Itoa(docTimestamp)
	for _, c := range []struct {
		name   string
		secret string
		h      http.Header
		body   string
		now    time.Time
		ok     bool
	}{
		{"documented example a minute later", docSecret, header(ts, docSignature), docBody, signedAt.Add(time.Minute), true},
		{"at the moment of signing", docSecret, header(ts, docSignature), docBody, signedAt, true},
		{"six minutes later: stale", docSecret, header(ts, docSignature), docBody, signedAt.Add(6 * time.Minute), false},
		{"six minutes earlier: stale", docSecret, header(ts, docSignature), docBody, signedAt.Add(-6 * time.Minute), false},
		{"changed body", docSecret, header(ts, docSignature), strings.Replace(docBody, "roadrunner", "coyote", 1), signedAt.Add(time.Minute), false},
		{"wrong secret", docSecret + "x", header(ts, docSignature), docBody, signedAt.Add(time.Minute), false},
		{"other timestamp", docSecret, header(strconv.Itoa(docTimestamp+1), docSignature), docBody, signedAt.Add(time.Minute), false},
		{"no signature", docSecret, header(ts, ""), docBody, signedAt.Add(time.Minute), false},
		{"no timestamp", docSecret, header("", docSignature), docBody, signedAt.Add(time.Minute), false},
		{"no headers", docSecret, http.Header{}, docBody, signedAt.Add(time.Minute), false},
		{"non-numeric timestamp", docSecret, header("153142061B", docSignature), docBody, signedAt.Add(time.Minute), false},
		{"v1 signature", docSecret, header(ts, strings.Replace(docSignature, "v0=", "v1=", 1)), docBody, signedAt.Add(time.Minute), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := slack.Verify(c.secret, c.h, []byte(c.body), c.now)
			if (err == nil) != c.ok {
				t.Errorf("Verify: %v, want ok %v", err, c.ok)
			}
		})
	}
}

// TestSignatureAgreesWithSlackGo checks rota's signature against
// slack-go's verifier, which only accepts a current timestamp, and
// slacktest.SignedRequest against Verify.
func TestSignatureAgreesWithSlackGo(t *testing.T) {
	form := url.Values{"payload": {slacktest.BlockActionsPayload("U1", "T1", slack.ActionAck, "42", "https://hooks.slack.com/actions/T1/1/x")}}
	now := time.Now()
	req := slacktest.SignedRequest("https://rota.example.com/slack/interactions", docSecret, now, form)
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || string(body) != form.Encode() {
		t.Errorf("request %s %q, body %q", req.Method, req.Header.Get("Content-Type"), body)
	}
	if got := req.Header.Get("X-Slack-Request-Timestamp"); got != strconv.FormatInt(now.Unix(), 10) {
		t.Errorf("timestamp header %q", got)
	}
	if err := slack.Verify(docSecret, req.Header, body, now); err != nil {
		t.Errorf("Verify refuses slacktest's request: %v", err)
	}
	for _, c := range []struct {
		secret string
		ok     bool
	}{{docSecret, true}, {"another secret", false}} {
		sv, err := slackgo.NewSecretsVerifier(req.Header, c.secret)
		if err != nil {
			t.Fatalf("slack-go: %v", err)
		}
		sv.Write(body)
		if err := sv.Ensure(); (err == nil) != c.ok {
			t.Errorf("slack-go verifier with secret %q: %v, want ok %v", c.secret, err, c.ok)
		}
	}
}

func TestParseCommand(t *testing.T) {
	form, err := url.ParseQuery(docBody)
	if err != nil {
		t.Fatal(err)
	}
	c, err := slack.ParseCommand(form)
	if err != nil {
		t.Fatal(err)
	}
	want := slack.Command{User: "U2CERLKJA", Team: "T1DC2JH3J", Command: "/webhook-collect",
		ResponseURL: "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN"}
	if c.User != want.User || c.Team != want.Team || c.Command != want.Command || c.ResponseURL != want.ResponseURL || len(c.Args) != 0 {
		t.Errorf("documented command: %+v, want %+v", c, want)
	}

	form.Set("text", "  ack   12 ")
	if c, err := slack.ParseCommand(form); err != nil || !slices.Equal(c.Args, []string{"ack", "12"}) {
		t.Errorf("text %q: %q, %v", form.Get("text"), c.Args, err)
	}
	form.Del("user_id")
	if _, err := slack.ParseCommand(form); err == nil {
		t.Error("a command with no user_id is accepted")
	}
}

func TestParsePress(t *testing.T) {
	const responseURL = "https://hooks.slack.com/actions/T0CAG/1509734234/x"
	for _, action := range []string{slack.ActionAck, slack.ActionEscalate, slack.ActionResolve} {
		form := url.Values{"payload": {slacktest.BlockActionsPayload("U045VRZFT", "T0CAG", action, "42", responseURL)}}
		p, ok, err := slack.ParsePress(form)
		want := slack.Press{User: "U045VRZFT", Team: "T0CAG", Action: action, Incident: 42, ResponseURL: responseURL}
		if err != nil || !ok || p != want {
			t.Errorf("%s: %+v %v %v, want %+v", action, p, ok, err, want)
		}
	}

	for _, c := range []struct {
		name    string
		form    url.Values
		ok, err bool
	}{
		{"another app's button", url.Values{"payload": {slacktest.BlockActionsPayload("U1", "T1", "open_dashboard", "42", responseURL)}}, false, false},
		{"not a block action", url.Values{"payload": {`{"type":"view_submission","user":{"id":"U1"},"team":{"id":"T1"}}`}}, false, false},
		{"value not a number", url.Values{"payload": {slacktest.BlockActionsPayload("U1", "T1", slack.ActionAck, "forty-two", responseURL)}}, false, true},
		{"value zero", url.Values{"payload": {slacktest.BlockActionsPayload("U1", "T1", slack.ActionResolve, "0", responseURL)}}, false, true},
		{"value negative", url.Values{"payload": {slacktest.BlockActionsPayload("U1", "T1", slack.ActionResolve, "-3", responseURL)}}, false, true},
		{"no payload", url.Values{"token": {"x"}}, false, true},
		{"payload not JSON", url.Values{"payload": {"type=block_actions"}}, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, ok, err := slack.ParsePress(c.form)
			if ok != c.ok || (err != nil) != c.err {
				t.Errorf("%+v, ok %v, err %v; want ok %v, an error %v", p, ok, err, c.ok, c.err)
			}
		})
	}
}

// block is a Block Kit block, as much of it as the tests read.
type block struct {
	Type     string `json:"type"`
	BlockID  string `json:"block_id"`
	Text     *struct{ Type, Text string }
	Elements []struct {
		Type     string          `json:"type"`
		ActionID string          `json:"action_id"`
		Value    string          `json:"value"`
		Text     json.RawMessage `json:"text"`
	} `json:"elements"`
}

func decodeBlocks(t *testing.T, raw json.RawMessage) []block {
	t.Helper()
	var bs []block
	if err := json.Unmarshal(raw, &bs); err != nil {
		t.Fatalf("blocks %s: %v", raw, err)
	}
	return bs
}

func renderBlocks(t *testing.T, m notify.Message) []block {
	t.Helper()
	raw, err := json.Marshal(slack.Blocks(m))
	if err != nil {
		t.Fatal(err)
	}
	return decodeBlocks(t, raw)
}

// buttons lists the buttons of blocks as "action_id=value".
func buttons(bs []block) []string {
	var out []string
	for _, b := range bs {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			out = append(out, e.ActionID+"="+e.Value)
		}
	}
	return out
}

// texts is all the text of blocks, a line each.
func texts(bs []block) string {
	var lines []string
	for _, b := range bs {
		if b.Text != nil {
			lines = append(lines, b.Text.Text)
		}
		for _, e := range b.Elements {
			var s string
			if json.Unmarshal(e.Text, &s) == nil {
				lines = append(lines, s)
			}
		}
	}
	return strings.Join(lines, "\n")
}

func count(bs []block, typ string) int {
	n := 0
	for _, b := range bs {
		if b.Type == typ {
			n++
		}
	}
	return n
}

func incident(id int64, status rota.Status) rota.Incident {
	inc := rota.Incident{ID: id, Service: "payments", Summary: "card auth failing", Severity: rota.SeverityCritical, Status: status, AlertCount: 1,
		CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	switch status {
	case rota.StatusAcknowledged:
		inc.AckedBy = "alice"
	case rota.StatusResolved:
		inc.AckedBy, inc.ResolvedBy = "alice", "bob"
	}
	return inc
}

func page(address string, incs ...rota.Incident) notify.Message {
	return notify.Message{NotificationID: 1, Kind: notify.KindPage, Person: "alice", Channel: rota.ContactSlack, Address: address,
		Incidents: incs, Text: "payments: card auth failing [critical] #7", Now: time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC)}
}

func TestBlocks(t *testing.T) {
	all := []string{slack.ActionAck + "=7", slack.ActionEscalate + "=7", slack.ActionResolve + "=7"}
	shadow := page("U1", incident(7, rota.StatusTriggered))
	shadow.Shadow = true
	post := page("#ops", incident(7, rota.StatusTriggered))
	post.Kind = notify.KindPost
	update := page("U1", incident(7, rota.StatusAcknowledged))
	update.Kind, update.Update = notify.KindUpdate, &notify.Update{Action: rota.ActionAcknowledge, By: "alice (slack)"}
	notice := notify.Message{Kind: notify.KindNotice, Text: "You are on call from 09:00 <today>"}
	for _, c := range []struct {
		name    string
		m       notify.Message
		buttons []string
		text    []string
	}{
		{"triggered", page("U1", incident(7, rota.StatusTriggered)), all, []string{"*payments* card auth failing #7", "Triggered"}},
		{"acknowledged", page("U1", incident(7, rota.StatusAcknowledged)), all[1:], []string{"Acknowledged by alice"}},
		{"resolved", page("U1", incident(7, rota.StatusResolved)), nil, []string{":white_check_mark:", "Resolved by bob"}},
		{"shadow", shadow, nil, []string{"Shadow copy"}},
		{"post to a channel", post, all, nil},
		{"update", update, nil, []string{"#7 Acknowledged by alice (slack)"}},
		{"notice", notice, nil, []string{"You are on call from 09:00 &lt;today&gt;"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			bs := renderBlocks(t, c.m)
			if got := buttons(bs); !slices.Equal(got, c.buttons) {
				t.Errorf("buttons %q, want %q", got, c.buttons)
			}
			for _, want := range c.text {
				if !strings.Contains(texts(bs), want) {
					t.Errorf("no %q in\n%s", want, texts(bs))
				}
			}
		})
	}
}

func TestBlocksEscape(t *testing.T) {
	inc := incident(7, rota.StatusTriggered)
	inc.Summary, inc.Service = "<!channel> & co", "a<b>"
	m := page("U1", inc)
	m.Reason = "you deployed <abc1234>"
	got := texts(renderBlocks(t, m))
	for _, want := range []string{"&lt;!channel&gt; &amp; co", "*a&lt;b&gt;*", "Why you: you deployed &lt;abc1234&gt;"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "<!channel>") {
		t.Errorf("a summary mentions @channel:\n%s", got)
	}
}

func TestBlocksBundle(t *testing.T) {
	var incs []rota.Incident
	for i := range 12 {
		incs = append(incs, incident(int64(100+i), rota.StatusTriggered))
	}
	bs := renderBlocks(t, page("U1", incs...))
	if n := count(bs, "actions"); n != 10 {
		t.Errorf("%d incidents with buttons, want 10", n)
	}
	got := texts(bs)
	// Past ten, each incident is a line, without buttons: none is left
	// out of the message.
	for _, want := range []string{"12 incidents for you", "#109", "And 2 more:", "• :red_circle: *payments* card auth failing #110", "#111"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if len(bs) > 50 {
		t.Errorf("%d blocks: Slack allows 50", len(bs))
	}
	// A storm's bundle of 500 stays within Slack's limits, listing each
	// (or saying how many more it could not).
	incs = nil
	for i := range 500 {
		incs = append(incs, incident(int64(1000+i), rota.StatusTriggered))
	}
	bs = renderBlocks(t, page("U1", incs...))
	if got := texts(bs); len(bs) > 50 || !strings.Contains(got, "#1050") || !strings.Contains(got, "#1499") && !strings.Contains(got, "more: see rota.") {
		t.Errorf("500 incidents: %d blocks\n%.2000s", len(bs), got)
	}
}

// newApp starts a fake Slack and the app speaking to it; pace 1ms
// unless opts says otherwise.
func newApp(t *testing.T, opts slack.Options) (*slack.Slack, *slacktest.Server) {
	t.Helper()
	fake := slacktest.NewServer(botToken)
	t.Cleanup(fake.Close)
	if opts.BotToken == "" {
		opts.BotToken = botToken
	}
	opts.APIURL = fake.URL
	if opts.Pace == 0 {
		opts.Pace = time.Millisecond
	}
	return slack.New(opts), fake
}

// methods lists the calls' methods.
func methods(calls []slacktest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Method)
	}
	return out
}

func TestNotifyPageDM(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	m := page("U123", incident(7, rota.StatusTriggered))
	r, err := app.Notify(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	ms := fake.Messages("DU123")
	if len(ms) != 1 {
		t.Fatalf("messages in the DM: %+v", ms)
	}
	if r.ID != "DU123/"+ms[0].TS {
		t.Errorf("receipt %q, want DU123/%s", r.ID, ms[0].TS)
	}
	if ms[0].Text != m.Text {
		t.Errorf("text %q, want %q", ms[0].Text, m.Text)
	}
	if got := buttons(decodeBlocks(t, ms[0].Blocks)); len(got) != 3 {
		t.Errorf("buttons %q", got)
	}
	if calls := fake.Calls(); len(calls) != 1 || calls[0].Method != "chat.postMessage" || calls[0].Channel != "DU123" {
		t.Errorf("calls %+v", calls)
	}
}

func TestNotifyPageByEmail(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	fake.AddUser("U777", "alice@example.com")
	for _, addr := range []string{"alice@example.com", "Alice@Example.com"} {
		if _, err := app.Notify(context.Background(), page(addr, incident(7, rota.StatusTriggered))); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := methods(fake.Calls()), []string{"users.lookupByEmail", "chat.postMessage", "chat.postMessage"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q (the user id cached)", got, want)
	}
	if n := len(fake.Messages("DU777")); n != 2 {
		t.Errorf("%d messages in the DM, want 2", n)
	}

	_, err := app.Notify(context.Background(), page("nobody@example.com", incident(7, rota.StatusTriggered)))
	if !notify.IsPermanent(err) {
		t.Errorf("an email not in the workspace: %v, want permanent", err)
	}
}

func TestNotifyPostToChannel(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	m := page("#payments", incident(7, rota.StatusTriggered))
	m.Kind, m.Person = notify.KindPost, ""
	r, err := app.Notify(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	ms := fake.Messages("payments")
	if len(ms) != 1 || r.ID != "payments/"+ms[0].TS {
		t.Errorf("receipt %q, messages %+v", r.ID, ms)
	}
	if c := fake.Calls()[0]; c.Channel != "payments" {
		t.Errorf("posted to %q", c.Channel)
	}
}

func TestNotifyUpdate(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	ctx := context.Background()
	r, err := app.Notify(ctx, page("U123", incident(7, rota.StatusTriggered)))
	if err != nil {
		t.Fatal(err)
	}
	up := page("U123", incident(7, rota.StatusAcknowledged))
	up.Kind, up.Text = notify.KindUpdate, "payments: card auth failing #7 - acknowledged by alice"
	up.Update = &notify.Update{Action: rota.ActionAcknowledge, By: "alice (slack)", Thread: r.ID}
	ur, err := app.Notify(ctx, up)
	if err != nil {
		t.Fatal(err)
	}

	ms := fake.Messages("DU123")
	if len(ms) != 1 {
		t.Fatalf("the update is not in the first message's thread: %+v", ms)
	}
	first := ms[0]
	if first.Updates != 1 {
		t.Errorf("the first message was edited %d times, want 1", first.Updates)
	}
	bs := decodeBlocks(t, first.Blocks)
	if got, want := buttons(bs), []string{slack.ActionEscalate + "=7", slack.ActionResolve + "=7"}; !slices.Equal(got, want) {
		t.Errorf("buttons once acknowledged %q, want %q", got, want)
	}
	if !strings.Contains(texts(bs), "Acknowledged by alice") {
		t.Errorf("the edited message does not say it is acknowledged:\n%s", texts(bs))
	}
	if len(first.Replies) != 1 || first.Replies[0].Text != "#7 Acknowledged by alice (slack)" {
		t.Fatalf("replies %+v", first.Replies)
	}
	if ur.ID != "DU123/"+first.Replies[0].TS {
		t.Errorf("update receipt %q, want the reply's", ur.ID)
	}
	calls := fake.Calls()
	if got, want := methods(calls), []string{"chat.postMessage", "chat.update", "chat.postMessage"}; !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if calls[1].TS != first.TS || calls[2].ThreadTS != first.TS {
		t.Errorf("chat.update of %q, reply in thread %q; want %q", calls[1].TS, calls[2].ThreadTS, first.TS)
	}
}

func TestNotifyUpdateBundle(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	ctx := context.Background()
	r, err := app.Notify(ctx, page("U123", incident(7, rota.StatusTriggered), incident(8, rota.StatusTriggered)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(r.ID, "/bundle") || !strings.HasPrefix(r.ID, "DU123/") {
		t.Fatalf("bundle receipt %q", r.ID)
	}
	up := page("U123", incident(8, rota.StatusResolved))
	up.Kind, up.Update = notify.KindUpdate, &notify.Update{Action: rota.ActionResolve, By: "bob (web)", Thread: r.ID}
	if _, err := app.Notify(ctx, up); err != nil {
		t.Fatal(err)
	}
	if got, want := methods(fake.Calls()), []string{"chat.postMessage", "chat.postMessage"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q: a bundle is not edited", got, want)
	}
	ms := fake.Messages("DU123")
	if len(ms) != 1 || ms[0].Updates != 0 || len(ms[0].Replies) != 1 || ms[0].Replies[0].Text != "#8 Resolved by bob (web)" {
		t.Errorf("messages %+v", ms)
	}
}

func TestNotifyUpdateMessageGone(t *testing.T) {
	ctx := context.Background()
	update := func(thread string) notify.Message {
		up := page("#ops", incident(7, rota.StatusAcknowledged))
		up.Kind, up.Update = notify.KindUpdate, &notify.Update{Action: rota.ActionAcknowledge, By: "alice (slack)", Thread: thread}
		return up
	}

	t.Run("deleted", func(t *testing.T) {
		app, fake := newApp(t, slack.Options{})
		post := page("#ops", incident(7, rota.StatusTriggered))
		post.Kind = notify.KindPost
		r, err := app.Notify(ctx, post)
		if err != nil {
			t.Fatal(err)
		}
		fake.FailNext("chat.update", slacktest.Failure{Error: "message_not_found"})
		if _, err := app.Notify(ctx, update(r.ID)); err != nil {
			t.Fatalf("an update of a deleted message: %v", err)
		}
		ms := fake.Messages("ops")
		if len(ms) != 1 || ms[0].Updates != 0 || len(ms[0].Replies) != 1 || ms[0].Replies[0].Text != "#7 Acknowledged by alice (slack)" {
			t.Errorf("messages %+v", ms)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		app, fake := newApp(t, slack.Options{})
		if _, err := app.Notify(ctx, update("C0GONE/1600000000.000100")); err != nil {
			t.Fatalf("an update of an unknown message: %v", err)
		}
		calls := fake.Calls()
		if len(calls) != 2 || calls[0].Method != "chat.update" || calls[0].Error != "message_not_found" ||
			calls[1].Method != "chat.postMessage" || calls[1].Channel != "C0GONE" || calls[1].ThreadTS != "1600000000.000100" {
			t.Errorf("calls %+v", calls)
		}
	})

	t.Run("other failure", func(t *testing.T) {
		app, fake := newApp(t, slack.Options{})
		fake.FailNext("chat.update", slacktest.Failure{Status: http.StatusServiceUnavailable})
		if _, err := app.Notify(ctx, update("C0OPS/1600000000.000100")); err == nil || notify.IsPermanent(err) {
			t.Errorf("chat.update answering 503: %v, want a retry", err)
		}
		if got := methods(fake.Calls()); !slices.Equal(got, []string{"chat.update"}) {
			t.Errorf("calls %q: the reply waits for the retry", got)
		}
	})
}

func TestNotifyErrors(t *testing.T) {
	for _, c := range []struct {
		name       string
		fail       slacktest.Failure
		permanent  bool
		retryAfter time.Duration // 0: none asked
	}{
		{"429 with Retry-After", slacktest.Failure{Status: http.StatusTooManyRequests, RetryAfter: 3}, false, 3 * time.Second},
		{"ratelimited error", slacktest.Failure{Error: "ratelimited"}, false, 30 * time.Second},
		{"channel_not_found", slacktest.Failure{Error: "channel_not_found"}, true, 0},
		{"is_archived", slacktest.Failure{Error: "is_archived"}, true, 0},
		{"invalid_blocks", slacktest.Failure{Error: "invalid_blocks"}, true, 0},
		{"500", slacktest.Failure{Status: http.StatusInternalServerError}, false, 0},
		{"429 without Retry-After", slacktest.Failure{Status: http.StatusTooManyRequests}, false, 0},
		{"internal_error", slacktest.Failure{Error: "internal_error"}, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			app, fake := newApp(t, slack.Options{})
			fake.FailNext("chat.postMessage", c.fail)
			_, err := app.Notify(context.Background(), page("U1", incident(7, rota.StatusTriggered)))
			if err == nil {
				t.Fatal("no error")
			}
			if notify.IsPermanent(err) != c.permanent {
				t.Errorf("%v: permanent %v, want %v", err, notify.IsPermanent(err), c.permanent)
			}
			d, ok := notify.RetryAfterOf(err)
			if ok != (c.retryAfter > 0) || d != c.retryAfter {
				t.Errorf("%v: retry after %v (%v), want %v", err, d, ok, c.retryAfter)
			}
			if calls := fake.Calls(); len(calls) != 1 || calls[0].Status != max(c.fail.Status, http.StatusOK) {
				t.Errorf("calls %+v", calls)
			}
			// The failure is used up: the next send goes through.
			if _, err := app.Notify(context.Background(), page("U1", incident(7, rota.StatusTriggered))); err != nil {
				t.Errorf("the next send: %v", err)
			}
		})
	}

	t.Run("wrong token", func(t *testing.T) {
		app, _ := newApp(t, slack.Options{BotToken: "xoxb-revoked"})
		if _, err := app.Notify(context.Background(), page("U1", incident(7, rota.StatusTriggered))); !notify.IsPermanent(err) {
			t.Errorf("invalid_auth: %v, want permanent", err)
		}
	})
	t.Run("no address", func(t *testing.T) {
		app, fake := newApp(t, slack.Options{})
		if _, err := app.Notify(context.Background(), page("", incident(7, rota.StatusTriggered))); !notify.IsPermanent(err) || len(fake.Calls()) != 0 {
			t.Errorf("no address: %v, want permanent", err)
		}
	})
}

func TestNotifySlackRateLimit(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	fake.LimitPerChannel(time.Hour, 1)
	ctx := context.Background()
	if _, err := app.Notify(ctx, page("U1", incident(7, rota.StatusTriggered))); err != nil {
		t.Fatal(err)
	}
	_, err := app.Notify(ctx, page("U1", incident(8, rota.StatusTriggered)))
	if d, ok := notify.RetryAfterOf(err); !ok || d != time.Hour {
		t.Errorf("past Slack's limit: %v, want a retry after 1h", err)
	}
	if _, err := app.Notify(ctx, page("U2", incident(8, rota.StatusTriggered))); err != nil {
		t.Errorf("another conversation: %v", err)
	}
	if fake.Limited() != 1 {
		t.Errorf("%d posts limited, want 1", fake.Limited())
	}
}

func TestNotifyIncomingWebhook(t *testing.T) {
	var (
		mu   sync.Mutex
		got  map[string]any
		hits int
	)
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		json.NewDecoder(r.Body).Decode(&got)
	}))
	defer hook.Close()
	app, fake := newApp(t, slack.Options{Webhook: webhook.Notifier{Client: hook.Client()}})
	m := page(hook.URL+"/services/T000/B000/XXXX", incident(7, rota.StatusTriggered))
	if _, err := app.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 1 || got["text"] != m.Text {
		t.Errorf("%d posts to the webhook, body %v; want text %q", hits, got, m.Text)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("the Web API was called: %+v", calls)
	}
}

func TestPacing(t *testing.T) {
	// The app paces on the real clock (slack.Options takes no clock), so
	// the margins are what a busy machine may take: a post may reach the
	// fake up to pace/4 after its turn, and the two sends at once may
	// start up to 2*pace-maxWait after the last turn.
	const pace, maxWait = 400 * time.Millisecond, 450 * time.Millisecond
	app, fake := newApp(t, slack.Options{Pace: pace, MaxWait: maxWait})
	ctx := context.Background()
	post := page("#ops", incident(7, rota.StatusTriggered))
	post.Kind = notify.KindPost

	start := time.Now()
	for i := range 3 {
		if _, err := app.Notify(ctx, post); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	if took := time.Since(start); took < 2*pace-20*time.Millisecond {
		t.Errorf("3 sends took %s, want about %s", took, 2*pace)
	}
	if n := fake.MaxPerWindow("ops", pace*3/4); n != 1 {
		t.Errorf("%d posts within %s, want 1", n, pace*3/4)
	}
	if n := fake.MaxPerWindow("ops", 10*pace); n != 3 {
		t.Errorf("%d posts within %s, want 3", n, 10*pace)
	}

	// Two more at once: one waits a turn (< MaxWait), the other's turn
	// is two paces off, beyond MaxWait: it goes back to the outbox.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := app.Notify(ctx, post)
			errs <- err
		}()
	}
	var refused []error
	for range 2 {
		if err := <-errs; err != nil {
			refused = append(refused, err)
		}
	}
	if len(refused) != 1 {
		t.Fatalf("errors %v, want one refused", refused)
	}
	if d, ok := notify.RetryAfterOf(refused[0]); !ok || d <= maxWait || d > 2*pace {
		t.Errorf("%v: retry after %s (%v), want in (%s, %s]", refused[0], d, ok, maxWait, 2*pace)
	}
	if notify.IsPermanent(refused[0]) {
		t.Errorf("pacing is permanent: %v", refused[0])
	}
	if n := len(fake.Messages("ops")); n != 4 {
		t.Errorf("%d messages, want 4", n)
	}
	if n := fake.MaxPerWindow("ops", pace*3/4); n != 1 {
		t.Errorf("%d posts within %s, want 1", n, pace*3/4)
	}
}

func TestPacingPerChannel(t *testing.T) {
	// A pace of an hour: a second message to a channel would wait far
	// beyond MaxWait; another channel's does not wait at all.
	app, fake := newApp(t, slack.Options{Pace: time.Hour, MaxWait: 10 * time.Millisecond})
	ctx := context.Background()
	send := func(to string) error {
		m := page(to, incident(7, rota.StatusTriggered))
		m.Kind = notify.KindPost
		_, err := app.Notify(ctx, m)
		return err
	}
	if err := send("#a"); err != nil {
		t.Fatal(err)
	}
	if d, ok := notify.RetryAfterOf(send("#a")); !ok || d < time.Hour-time.Minute {
		t.Errorf("a second message to #a: retry after %s (%v), want about an hour", d, ok)
	}
	start := time.Now()
	if err := send("#b"); err != nil {
		t.Fatal(err)
	}
	if err := send("U1"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("#b and U1 waited %s for #a", took)
	}
	if n := len(fake.Calls()); n != 3 {
		t.Errorf("%d calls, want 3: the refused one is not sent", n)
	}
}

func TestUserIDAndEmailOf(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	fake.AddUser("U1", "Alice@Example.com")
	fake.AddUser("U2", "bob@example.com")
	fake.AddUser("U3", "")
	ctx := context.Background()
	lookups := func(method string) int {
		n := 0
		for _, c := range fake.Calls() {
			if c.Method == method {
				n++
			}
		}
		return n
	}

	for range 2 {
		if id, err := app.UserID(ctx, "alice@example.com"); err != nil || id != "U1" {
			t.Errorf("UserID(alice) = %q, %v", id, err)
		}
	}
	if n := lookups("users.lookupByEmail"); n != 1 {
		t.Errorf("%d users.lookupByEmail, want 1 (cached)", n)
	}
	// Known from the lookup: no users.info.
	if e, err := app.EmailOf(ctx, "U1"); err != nil || e != "alice@example.com" {
		t.Errorf("EmailOf(U1) = %q, %v", e, err)
	}
	for range 2 {
		if e, err := app.EmailOf(ctx, "U2"); err != nil || e != "bob@example.com" {
			t.Errorf("EmailOf(U2) = %q, %v", e, err)
		}
	}
	if n := lookups("users.info"); n != 1 {
		t.Errorf("%d users.info, want 1 (cached)", n)
	}
	if id, err := app.UserID(ctx, "BOB@example.com"); err != nil || id != "U2" || lookups("users.lookupByEmail") != 1 {
		t.Errorf("UserID(bob) = %q, %v: want U2 from the cache", id, err)
	}

	if _, err := app.EmailOf(ctx, "U9"); !notify.IsPermanent(err) {
		t.Errorf("EmailOf an unknown user: %v, want permanent", err)
	}
	if _, err := app.EmailOf(ctx, "U3"); !notify.IsPermanent(err) || !strings.Contains(err.Error(), "users:read.email") {
		t.Errorf("EmailOf a user whose email is hidden: %v", err)
	}
	if _, err := app.UserID(ctx, "carol@example.com"); !notify.IsPermanent(err) {
		t.Errorf("UserID of an email not in the workspace: %v, want permanent", err)
	}
}

func TestSetUserGroup(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	fake.AddUser("U1", "alice@example.com")
	ctx := context.Background()
	if err := app.SetUserGroup(ctx, "S0ONCALL", []string{"alice@example.com", "U2"}); err != nil {
		t.Fatal(err)
	}
	if got := fake.UserGroup("S0ONCALL"); !slices.Equal(got, []string{"U1", "U2"}) {
		t.Errorf("members %q, want [U1 U2]", got)
	}
	calls := fake.Calls()
	if last := calls[len(calls)-1]; last.Method != "usergroups.users.update" || last.Usergroup != "S0ONCALL" || last.Users != "U1,U2" {
		t.Errorf("call %+v", last)
	}

	before := len(fake.Calls())
	if err := app.SetUserGroup(ctx, "S0ONCALL", nil); err != nil || len(fake.Calls()) != before {
		t.Errorf("nobody on call: %v, %d calls; want none", err, len(fake.Calls())-before)
	}
	if got := fake.UserGroup("S0ONCALL"); !slices.Equal(got, []string{"U1", "U2"}) {
		t.Errorf("members %q after nobody on call, want them left", got)
	}

	if err := app.SetUserGroup(ctx, "S0ONCALL", []string{"U3", "nobody@example.com"}); !notify.IsPermanent(err) {
		t.Errorf("an unknown email: %v, want permanent", err)
	}
	fake.FailNext("usergroups.users.update", slacktest.Failure{Error: "no_such_subteam"})
	if err := app.SetUserGroup(ctx, "S0GONE", []string{"U1"}); !notify.IsPermanent(err) {
		t.Errorf("no_such_subteam: %v, want permanent", err)
	}
}

func TestRespond(t *testing.T) {
	app, fake := newApp(t, slack.Options{})
	if err := app.Respond(context.Background(), fake.ResponseURL(), "You cannot resolve #7: it is not your service's"); err != nil {
		t.Fatal(err)
	}
	if got := fake.Responses(); !slices.Equal(got, []string{"You cannot resolve #7: it is not your service's"}) {
		t.Errorf("responses %q", got)
	}
	if n := len(fake.Calls()); n != 0 {
		t.Errorf("%d Web API calls for a response", n)
	}
}

// Package slacktest is a fake of Slack's Web API at the wire, for tests
// across rota: an HTTP server that answers the methods rota's Slack app
// calls (chat.postMessage, chat.update, users.lookupByEmail, users.info,
// usergroups.users.update) as Slack does, keeps the conversations they
// make, records every call, and fails or rate-limits on demand. Point
// slack.Options.APIURL at Server.URL.
//
// It also builds what Slack posts to rota: signed requests
// (SignedRequest) and button presses (BlockActionsPayload), and records
// what rota posts back to a response_url (ResponseURL, Responses).
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotahq/rota/paging/notify/slack"
)

// Server is a fake Slack Web API. It is safe for concurrent use.
type Server struct {
	// URL is the base of the Web API, ending in "/api/": pass it as
	// slack.Options.APIURL.
	URL string

	srv   *httptest.Server
	token string

	mu sync.Mutex
	// seq numbers messages, for their ts.
	seq   int64
	calls []Call
	// emails maps user ids to emails; users lowercased emails to ids.
	emails map[string]string
	users  map[string]string
	convs  map[string][]*message
	fail   map[string][]Failure
	// every and burst are the per-channel posting limit (every == 0:
	// none); tat is each channel's theoretical arrival time.
	every     time.Duration
	burst     int
	tat       map[string]time.Time
	limited   int
	groups    map[string][]string
	responses []string
	// now is the fake's clock (see SetClock).
	now func() time.Time
}

// Call is one Web API call the fake received, in the order received.
type Call struct {
	// Method is the Web API method ("chat.postMessage").
	Method string
	// Channel is the conversation, as Slack names it in its answer: a
	// DM to user U1 is "DU1", "#ops" is "ops".
	Channel string
	// TS is the message's ts: the one given to a new message, the one
	// edited by chat.update.
	TS, ThreadTS string
	Text         string
	Blocks       json.RawMessage
	// Usergroup and Users are usergroups.users.update's fields (Users
	// comma-separated, as sent).
	Usergroup, Users string
	At               time.Time
	// Status is the HTTP status answered; Error is Slack's error code
	// when the answer was not ok ("" when it was).
	Status int
	Error  string
}

// Message is a top-level message of a conversation as it stands now,
// its thread replies attached.
type Message struct {
	Channel, TS, Text string
	Blocks            json.RawMessage
	Replies           []Message
	// Updates counts the chat.update calls that edited it.
	Updates int
}

type message struct {
	ts, text string
	blocks   json.RawMessage
	replies  []*message
	updates  int
}

// Failure is an answer FailNext queues for a method.
type Failure struct {
	// Status is the HTTP status (0 means 200). A 429 carries a
	// Retry-After header of RetryAfter seconds when RetryAfter > 0.
	Status     int
	RetryAfter int
	// Error is Slack's error code in the body {"ok":false,"error":…};
	// "ratelimited" for a 429 and "internal_error" otherwise when empty.
	Error string
}

// NewServer starts a fake workspace whose bot token is botToken: calls
// with another token are answered {"ok":false,"error":"invalid_auth"},
// calls with none "not_authed". The token is read from an
// "Authorization: Bearer" header or a "token" form field, as Slack does
// (slack-go sends the latter for most methods).
func NewServer(botToken string) *Server {
	s := &Server{token: botToken, emails: map[string]string{}, users: map[string]string{}, convs: map[string][]*message{},
		fail: map[string][]Failure{}, tat: map[string]time.Time{}, groups: map[string][]string{}, now: time.Now}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/api/"
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// AddUser adds a member of the workspace, found by users.lookupByEmail
// and users.info.
func (s *Server) AddUser(id, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emails[id] = email
	s.users[strings.ToLower(email)] = id
}

// Calls returns every Web API call received so far, in order, refused
// ones included.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Messages returns the top-level messages of a conversation in the
// order posted, each as last edited, with its thread replies. channel is
// named as in Call.Channel; a user id or "#name" is accepted too.
func (s *Server) Messages(channel string) []Message {
	channel = conversation(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.convs[channel] {
		out = append(out, m.export(channel))
	}
	return out
}

func (m *message) export(channel string) Message {
	e := Message{Channel: channel, TS: m.ts, Text: m.text, Blocks: slices.Clone(m.blocks), Updates: m.updates}
	for _, r := range m.replies {
		e.Replies = append(e.Replies, r.export(channel))
	}
	return e
}

// WaitMessages waits until channel has at least n top-level messages and
// returns them; it fails the test when timeout passes first. Call it
// from the test's goroutine.
func (s *Server) WaitMessages(t testing.TB, channel string, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ms := s.Messages(channel)
		if len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("slacktest: %d messages in %s after %s, want %d: %+v", len(ms), channel, timeout, n, ms)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FailNext makes the next call of method (after the token is checked)
// answer f instead; failures queued for one method are answered in
// order, one a call.
func (s *Server) FailNext(method string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = append(s.fail[method], f)
}

// LimitPerChannel enforces a posting limit per conversation, as Slack
// does (about one message a second, with short bursts): a token bucket
// per channel holding at most burst tokens, refilled by one every
// `every`, each chat.postMessage (thread replies included) taking one. A
// post finding no token is answered 429 with a Retry-After of the
// seconds until the next token (rounded up, at least 1) and counted in
// Limited. Buckets start full; every <= 0 lifts the limit.
func (s *Server) LimitPerChannel(every time.Duration, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.every, s.burst = every, max(burst, 1)
	s.tat = map[string]time.Time{}
}

// SetClock makes now the fake's clock, time.Now until then: calls are
// timed on it (Call.At, MaxPerWindow), and the limit of LimitPerChannel
// refills on it, so that a test moves time on rather than sleeps. now is
// called with the fake's lock held: it must not call the fake.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Limited returns how many posts the limit of LimitPerChannel refused.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// MaxPerWindow returns the most chat.postMessage calls to channel that
// were accepted within any window of the given length (a half-open
// interval, so posts exactly `window` apart are not in one window): to
// assert the pace of a sender. channel is named as for Messages; a
// window <= 0 holds none.
func (s *Server) MaxPerWindow(channel string, window time.Duration) int {
	if window <= 0 {
		return 0
	}
	channel = conversation(channel)
	var at []time.Time
	for _, c := range s.Calls() {
		if c.Method == "chat.postMessage" && c.Channel == channel && c.Status == http.StatusOK && c.Error == "" {
			at = append(at, c.At)
		}
	}
	most, first := 0, 0
	for last := range at {
		for at[last].Sub(at[first]) >= window {
			first++
		}
		most = max(most, last-first+1)
	}
	return most
}

// UserGroup returns a user group's members as the last
// usergroups.users.update set them.
func (s *Server) UserGroup(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.groups[id])
}

// ResponseURL is a response_url on this server, to put in what Slack
// posts to rota: what is posted to it is kept for Responses.
func (s *Server) ResponseURL() string { return s.srv.URL + "/response_url" }

// Responses returns the texts posted to ResponseURL, in order.
func (s *Server) Responses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.responses)
}

// conversation is the id Slack answers for a channel argument: a DM for
// a user id, a channel name without its '#'.
func conversation(channel string) string {
	switch {
	case strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W"):
		return "D" + channel
	case strings.HasPrefix(channel, "#"):
		return channel[1:]
	}
	return channel
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/response_url" {
		s.serveResponse(w, r)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	form, err := readForm(r)
	if err != nil {
		answer(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	c := Call{Method: method, Channel: conversation(form.Get("channel")), TS: form.Get("ts"), ThreadTS: form.Get("thread_ts"),
		Text: form.Get("text"), Usergroup: form.Get("usergroup"), Users: form.Get("users")}
	if b := form.Get("blocks"); b != "" {
		c.Blocks = json.RawMessage(b)
	}

	s.mu.Lock()
	// Taken under the lock, the calls' times follow their order.
	c.At = s.now()
	status, header, body := s.call(&c, r, form)
	if !body.ok() {
		c.Error, _ = body["error"].(string)
	}
	c.Status = status
	s.calls = append(s.calls, c)
	s.mu.Unlock()

	for k, v := range header {
		w.Header()[k] = v
	}
	answer(w, status, body)
}

// reply is a Web API answer's JSON.
type reply map[string]any

func (b reply) ok() bool { ok, _ := b["ok"].(bool); return ok }

func failed(code string) reply { return reply{"ok": false, "error": code} }

// call answers c, with s.mu held; it fills in c.TS for a new message.
func (s *Server) call(c *Call, r *http.Request, form url.Values) (int, http.Header, reply) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = form.Get("token")
	}
	switch token {
	case s.token:
	case "":
		return http.StatusOK, nil, failed("not_authed")
	default:
		return http.StatusOK, nil, failed("invalid_auth")
	}
	if fs := s.fail[c.Method]; len(fs) > 0 {
		f := fs[0]
		s.fail[c.Method] = fs[1:]
		return f.answer()
	}
	switch c.Method {
	case "chat.postMessage":
		return s.postMessage(c, form)
	case "chat.update":
		return http.StatusOK, nil, s.update(c, form)
	case "users.lookupByEmail":
		id, ok := s.users[strings.ToLower(form.Get("email"))]
		if !ok {
			return http.StatusOK, nil, failed("users_not_found")
		}
		return http.StatusOK, nil, reply{"ok": true, "user": s.user(id)}
	case "users.info":
		id := form.Get("user")
		if _, ok := s.emails[id]; !ok {
			return http.StatusOK, nil, failed("user_not_found")
		}
		return http.StatusOK, nil, reply{"ok": true, "user": s.user(id)}
	case "usergroups.users.update":
		return http.StatusOK, nil, s.setGroup(form)
	}
	return http.StatusOK, nil, failed("unknown_method")
}

func (f Failure) answer() (int, http.Header, reply) {
	status, code, h := f.Status, f.Error, http.Header{}
	if status == 0 {
		status = http.StatusOK
	}
	if code == "" {
		code = "internal_error"
		if status == http.StatusTooManyRequests {
			code = "ratelimited"
		}
	}
	if status == http.StatusTooManyRequests && f.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	return status, h, failed(code)
}

func (s *Server) postMessage(c *Call, form url.Values) (int, http.Header, reply) {
	if c.Channel == "" {
		return http.StatusOK, nil, failed("channel_not_found")
	}
	if c.Text == "" && c.Blocks == nil && form.Get("attachments") == "" {
		return http.StatusOK, nil, failed("no_text")
	}
	if c.Blocks != nil && !validBlocks(c.Blocks) {
		return http.StatusOK, nil, failed("invalid_blocks")
	}
	if s.every > 0 {
		if wait, ok := s.take(c.Channel, c.At); !ok {
			s.limited++
			secs := max(int((wait+time.Second-1)/time.Second), 1)
			return http.StatusTooManyRequests, http.Header{"Retry-After": {strconv.Itoa(secs)}}, failed("ratelimited")
		}
	}
	s.seq++
	c.TS = fmt.Sprintf("%d.%06d", 1700000000+s.seq/1000000, s.seq%1000000)
	m := &message{ts: c.TS, text: c.Text, blocks: c.Blocks}
	var parent *message
	if c.ThreadTS != "" {
		parent = s.find(c.Channel, c.ThreadTS, false)
	}
	if parent != nil {
		parent.replies = append(parent.replies, m)
	} else {
		// As Slack does, a reply to a message that is not there is
		// posted in the channel itself.
		s.convs[c.Channel] = append(s.convs[c.Channel], m)
	}
	return http.StatusOK, nil, reply{"ok": true, "channel": c.Channel, "ts": c.TS, "message": s.messageJSON(m, parent)}
}

// take takes a token of channel's bucket at now (GCRA: the bucket is
// full when tat <= now); when there is none, it says how long until one.
func (s *Server) take(channel string, now time.Time) (time.Duration, bool) {
	tolerance := time.Duration(s.burst-1) * s.every
	tat := s.tat[channel]
	if tat.Before(now) {
		tat = now
	}
	if early := tat.Sub(now) - tolerance; early > 0 {
		return early, false
	}
	s.tat[channel] = tat.Add(s.every)
	return 0, true
}

func (s *Server) update(c *Call, form url.Values) reply {
	m := s.find(c.Channel, c.TS, true)
	if m == nil {
		return failed("message_not_found")
	}
	if _, ok := form["blocks"]; ok {
		if c.Blocks != nil && !validBlocks(c.Blocks) {
			return failed("invalid_blocks")
		}
		m.blocks = c.Blocks
	}
	if _, ok := form["text"]; ok {
		m.text = c.Text
	}
	m.updates++
	return reply{"ok": true, "channel": c.Channel, "ts": m.ts, "text": m.text, "message": s.messageJSON(m, nil)}
}

// find returns the message ts of channel, replies included when
// replies; a reply's thread when !replies (a reply to a reply goes to
// its thread).
func (s *Server) find(channel, ts string, replies bool) *message {
	for _, m := range s.convs[channel] {
		if m.ts == ts {
			return m
		}
		for _, r := range m.replies {
			if r.ts == ts {
				if replies {
					return r
				}
				return m
			}
		}
	}
	return nil
}

func (s *Server) messageJSON(m *message, parent *message) map[string]any {
	j := map[string]any{"type": "message", "user": "UBOT", "bot_id": "BBOT", "app_id": "AROTA", "text": m.text, "ts": m.ts}
	if m.blocks != nil {
		j["blocks"] = m.blocks
	}
	if parent != nil {
		j["thread_ts"] = parent.ts
	}
	return j
}

func (s *Server) user(id string) map[string]any {
	email := s.emails[id]
	name, _, _ := strings.Cut(email, "@")
	return map[string]any{"id": id, "team_id": "T0FAKE", "name": name, "real_name": name, "is_bot": false,
		"profile": map[string]any{"email": email, "real_name": name, "display_name": name}}
}

func (s *Server) setGroup(form url.Values) reply {
	group := form.Get("usergroup")
	if group == "" {
		return failed("no_such_subteam")
	}
	var users []string
	for u := range strings.SplitSeq(form.Get("users"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return failed("invalid_users")
	}
	s.groups[group] = users
	return reply{"ok": true, "usergroup": map[string]any{"id": group, "team_id": "T0FAKE", "is_usergroup": true, "users": users, "user_count": len(users)}}
}

// validBlocks checks the Block Kit limits rota could break: a JSON
// array of at most 50 typed blocks with distinct block ids; a section
// with text or fields; texts of 1 to 3,000 characters (a header's to
// 150); 1 to 10 elements in a context, 1 to 25 in an actions block, each
// action id once in its block.
func validBlocks(raw json.RawMessage) bool {
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Text     *struct{ Text string }
		Fields   []json.RawMessage `json:"fields"`
		Elements []struct {
			ActionID string          `json:"action_id"`
			Text     json.RawMessage `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil || len(blocks) > 50 {
		return false
	}
	ids := map[string]bool{}
	for _, b := range blocks {
		if b.Type == "" || (b.BlockID != "" && ids[b.BlockID]) {
			return false
		}
		ids[b.BlockID] = true
		switch b.Type {
		case "section":
			if b.Text == nil && len(b.Fields) == 0 || b.Text != nil && !textLength(b.Text.Text, 3000) {
				return false
			}
		case "header":
			if b.Text == nil || !textLength(b.Text.Text, 150) {
				return false
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return false
			}
			for _, e := range b.Elements {
				var text string
				if json.Unmarshal(e.Text, &text) == nil && !textLength(text, 3000) {
					return false
				}
			}
		case "actions":
			actions := map[string]bool{}
			for _, e := range b.Elements {
				if e.ActionID != "" && actions[e.ActionID] {
					return false
				}
				actions[e.ActionID] = true
			}
			if len(b.Elements) == 0 || len(b.Elements) > 25 {
				return false
			}
		}
	}
	return true
}

// textLength reports whether a text object's text has 1 to most
// characters, as Block Kit requires.
func textLength(text string, most int) bool {
	n := len([]rune(text))
	return n >= 1 && n <= most
}

// readForm reads a call's arguments: a form (body or query), or a JSON
// object's string, number and boolean fields.
func readForm(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		err := r.ParseForm()
		return r.Form, err
	}
	var obj map[string]any
	if err := json.NewDecoder(r.Body).Decode(&obj); err != nil {
		return nil, err
	}
	form := url.Values{}
	for k, v := range obj {
		switch v := v.(type) {
		case string:
			form.Set(k, v)
		case float64, bool:
			form.Set(k, fmt.Sprint(v))
		default:
			b, _ := json.Marshal(v)
			form.Set(k, string(b))
		}
	}
	return form, nil
}

func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Text string `json:"text"`
	}
	b, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || json.Unmarshal(b, &msg) != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.responses = append(s.responses, msg.Text)
	s.mu.Unlock()
	answer(w, http.StatusOK, reply{"ok": true})
}

func answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// SignedRequest builds a POST of form to url as Slack sends it to an
// app: form-encoded, with X-Slack-Request-Timestamp ts and the
// X-Slack-Signature of the body with the signing secret. It panics on a
// URL that is not one.
func SignedRequest(url, secret string, ts time.Time, form url.Values) *http.Request {
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		panic(fmt.Sprintf("slacktest: %v", err))
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", slack.Sign(secret, stamp, []byte(body)))
	return req
}

// BlockActionsPayload is the "payload" form field Slack posts to an
// app's interactivity URL when userID, of workspace teamID, presses a
// button (actionID, value) on one of the app's messages: a block_actions
// interaction modelled on Slack's documented example.
func BlockActionsPayload(userID, teamID, actionID, value, responseURL string) string {
	const channel, messageTS, actionTS = "C0ROTA", "1700000000.000001", "1700000060.123456"
	button := func(action, label string) map[string]any {
		return map[string]any{"type": "button", "action_id": action, "value": value,
			"text": map[string]any{"type": "plain_text", "text": label, "emoji": true}}
	}
	blockID := "incident:" + value
	label := map[string]string{slack.ActionAck: "Acknowledge", slack.ActionEscalate: "Escalate", slack.ActionResolve: "Resolve"}[actionID]
	if label == "" {
		label = "Open"
	}
	p := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": userID, "username": "roadrunner", "name": "roadrunner", "team_id": teamID},
		"api_app_id": "A0ROTA",
		"token":      "Shh_its_a_seekrit",
		"container":  map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel, "is_ephemeral": false},
		"trigger_id": "12466734323.1395872398.4c1a8f0d9e9b7a4f1e2d3c4b5a697887",
		"team":       map[string]any{"id": teamID, "domain": "acme-creamery"},
		"enterprise": nil, "is_enterprise_install": false,
		"channel": map[string]any{"id": channel, "name": "payments"},
		"message": map[string]any{
			"type": "message", "user": "UBOT", "bot_id": "BBOT", "app_id": "A0ROTA", "ts": messageTS,
			"text": "payments: card auth failing",
			"blocks": []any{
				map[string]any{"type": "section", "block_id": "summary",
					"text": map[string]any{"type": "mrkdwn", "text": ":red_circle: *payments* card auth failing #" + value, "verbatim": false}},
				map[string]any{"type": "actions", "block_id": blockID, "elements": []any{
					button(slack.ActionAck, "Acknowledge"), button(slack.ActionEscalate, "Escalate"), button(slack.ActionResolve, "Resolve")}},
			},
		},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": responseURL,
		"actions": []any{map[string]any{
			"action_id": actionID, "block_id": blockID,
			"text":  map[string]any{"type": "plain_text", "text": label, "emoji": true},
			"value": value, "type": "button", "action_ts": actionTS,
		}},
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return string(b)
}

package slacktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/rotahq/rota/clocktest"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/rotahq/rota/paging/notify/slack"
	"github.com/rotahq/rota/paging/notify/slack/slacktest"
)

const token = "xoxb-test"

// newClock sets a fake's clock to one that moves only when told to.
func newClock(s *slacktest.Server) *clocktest.Fake {
	c := clocktest.NewFake(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC))
	s.SetClock(c.Now)
	return c
}

func client(s *slacktest.Server, token string) *slackgo.Client {
	return slackgo.New(token, slackgo.OptionAPIURL(s.URL))
}

func slackError(err error) string {
	var se slackgo.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

func TestAuth(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	ctx := context.Background()
	if _, _, err := client(s, "xoxb-other").PostMessageContext(ctx, "C1", slackgo.MsgOptionText("hi", false)); slackError(err) != "invalid_auth" {
		t.Errorf("another token: %v", err)
	}
	if _, _, err := client(s, "").PostMessageContext(ctx, "C1", slackgo.MsgOptionText("hi", false)); slackError(err) != "not_authed" {
		t.Errorf("no token: %v", err)
	}
	if len(s.Messages("C1")) != 0 {
		t.Error("a refused call posted")
	}
	// The token as a bearer header, as Slack also accepts it.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"chat.postMessage", strings.NewReader("channel=C1&text=hi"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		OK      bool
		Channel string
		TS      string
	}
	json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if !body.OK || body.Channel != "C1" || body.TS == "" {
		t.Errorf("bearer token: %+v", body)
	}
	if got := len(s.Calls()); got != 3 {
		t.Errorf("%d calls recorded, want 3 (refused ones too)", got)
	}
}

func TestConversations(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	api := client(s, token)
	ctx := context.Background()
	for _, c := range []struct{ to, channel string }{{"U1", "DU1"}, {"W2", "DW2"}, {"#ops", "ops"}, {"ops", "ops"}, {"C3", "C3"}} {
		ch, ts, err := api.PostMessageContext(ctx, c.to, slackgo.MsgOptionText("hi", false))
		if err != nil || ch != c.channel || ts == "" {
			t.Errorf("post to %s: %q %q %v, want channel %s", c.to, ch, ts, err, c.channel)
		}
	}
	if n := len(s.Messages("#ops")); n != 2 {
		t.Errorf("%d messages in ops", n)
	}
	if _, _, err := api.PostMessageContext(ctx, "C3"); slackError(err) != "no_text" {
		t.Errorf("no text: %v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C3", slackgo.MsgOptionText("x", false), slackgo.MsgOptionBlocks(slackgo.NewHeaderBlock(slackgo.NewTextBlockObject("plain_text", strings.Repeat("x", 151), false, false)))); slackError(err) != "invalid_blocks" {
		t.Errorf("a header too long: %v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C3", slackgo.MsgOptionText("x", false), slackgo.MsgOptionBlocks(slackgo.NewSectionBlock(slackgo.NewTextBlockObject("mrkdwn", "", false, false), nil, nil))); slackError(err) != "invalid_blocks" {
		t.Errorf("a section with no text: %v", err)
	}
	// ts are unique and increasing.
	var last string
	for _, c := range s.Calls() {
		if c.TS == "" {
			continue
		}
		if c.TS <= last {
			t.Errorf("ts %s after %s", c.TS, last)
		}
		last = c.TS
	}
}

func TestThreadsAndUpdates(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	api := client(s, token)
	ctx := context.Background()
	blocks := slackgo.MsgOptionBlocks(slackgo.NewSectionBlock(slackgo.NewTextBlockObject("mrkdwn", "*first*", false, false), nil, nil))
	_, ts, err := api.PostMessageContext(ctx, "C1", slackgo.MsgOptionText("first", false), blocks)
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessageContext(ctx, "C1", slackgo.MsgOptionText("reply", false), slackgo.MsgOptionTS(ts))
	if err != nil {
		t.Fatal(err)
	}
	// A reply to a reply joins the thread.
	if _, _, err := api.PostMessageContext(ctx, "C1", slackgo.MsgOptionText("reply 2", false), slackgo.MsgOptionTS(reply)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slackgo.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", "1.000", slackgo.MsgOptionText("x", false)); slackError(err) != "message_not_found" {
		t.Errorf("an update of no message: %v", err)
	}
	ms := s.Messages("C1")
	if len(ms) != 1 {
		t.Fatalf("messages %+v", ms)
	}
	m := ms[0]
	if m.Text != "edited" || m.Updates != 1 || !strings.Contains(string(m.Blocks), "*first*") {
		t.Errorf("message %+v: text edited, blocks kept", m)
	}
	if len(m.Replies) != 2 || m.Replies[0].Text != "reply" || m.Replies[1].Text != "reply 2" {
		t.Errorf("replies %+v", m.Replies)
	}
	// A reply to a message that is not there is posted in the channel.
	if _, _, err := api.PostMessageContext(ctx, "C1", slackgo.MsgOptionText("orphan", false), slackgo.MsgOptionTS("1.000")); err != nil {
		t.Fatal(err)
	}
	if ms := s.WaitMessages(t, "C1", 2, time.Second); ms[1].Text != "orphan" {
		t.Errorf("messages %+v", ms)
	}
}

func TestUsers(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	s.AddUser("U1", "alice@example.com")
	api := client(s, token)
	ctx := context.Background()
	if u, err := api.GetUserByEmailContext(ctx, "ALICE@example.com"); err != nil || u.ID != "U1" || u.Profile.Email != "alice@example.com" {
		t.Errorf("lookupByEmail: %+v %v", u, err)
	}
	if u, err := api.GetUserInfoContext(ctx, "U1"); err != nil || u.Profile.Email != "alice@example.com" {
		t.Errorf("users.info: %+v %v", u, err)
	}
	if _, err := api.GetUserByEmailContext(ctx, "bob@example.com"); slackError(err) != "users_not_found" {
		t.Errorf("lookupByEmail of nobody: %v", err)
	}
	if _, err := api.GetUserInfoContext(ctx, "U2"); slackError(err) != "user_not_found" {
		t.Errorf("users.info of nobody: %v", err)
	}
	g, err := api.UpdateUserGroupMembersContext(ctx, "S1", "U1,U2")
	if err != nil || g.ID != "S1" || !slices.Equal(g.Users, []string{"U1", "U2"}) || !slices.Equal(s.UserGroup("S1"), []string{"U1", "U2"}) {
		t.Errorf("usergroups.users.update: %+v %v; group %q", g, err, s.UserGroup("S1"))
	}
	if err := api.SetUserPresenceContext(ctx, "away"); slackError(err) != "unknown_method" {
		t.Errorf("an unknown method: %v", err)
	}
}

func TestFailNext(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	api := client(s, token)
	ctx := context.Background()
	s.FailNext("chat.postMessage", slacktest.Failure{Status: http.StatusTooManyRequests, RetryAfter: 7})
	s.FailNext("chat.postMessage", slacktest.Failure{Status: http.StatusBadGateway})
	s.FailNext("chat.postMessage", slacktest.Failure{Error: "channel_not_found"})
	post := func() error {
		_, _, err := api.PostMessageContext(ctx, "C1", slackgo.MsgOptionText("hi", false))
		return err
	}
	var rl *slackgo.RateLimitedError
	if err := post(); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Errorf("first: %v", err)
	}
	var sc slackgo.StatusCodeError
	if err := post(); !errors.As(err, &sc) || sc.Code != http.StatusBadGateway {
		t.Errorf("second: %v", err)
	}
	if err := post(); slackError(err) != "channel_not_found" {
		t.Errorf("third: %v", err)
	}
	if err := post(); err != nil {
		t.Errorf("fourth: %v", err)
	}
	var statuses []int
	for _, c := range s.Calls() {
		statuses = append(statuses, c.Status)
	}
	if !slices.Equal(statuses, []int{429, 502, 200, 200}) {
		t.Errorf("statuses %v", statuses)
	}
	if n := len(s.Messages("C1")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestLimitPerChannel(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	clk := newClock(s)
	api := client(s, token)
	ctx := context.Background()
	s.LimitPerChannel(time.Hour, 2)
	post := func(channel string, opts ...slackgo.MsgOption) error {
		_, _, err := api.PostMessageContext(ctx, channel, append(opts, slackgo.MsgOptionText("hi", false))...)
		return err
	}
	if err := post("C1"); err != nil {
		t.Fatal(err)
	}
	ts := s.Messages("C1")[0].TS
	if err := post("C1", slackgo.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	var rl *slackgo.RateLimitedError
	if err := post("C1"); !errors.As(err, &rl) || rl.RetryAfter != time.Hour {
		t.Errorf("a third post within the hour: %v", err)
	}
	if err := post("C1", slackgo.MsgOptionTS(ts)); !errors.As(err, &rl) {
		t.Errorf("a reply past the limit: %v", err)
	}
	if err := post("C2"); err != nil {
		t.Errorf("another channel: %v", err)
	}
	if s.Limited() != 2 {
		t.Errorf("limited %d, want 2", s.Limited())
	}
	if n := s.MaxPerWindow("C1", time.Hour); n != 2 {
		t.Errorf("MaxPerWindow %d, want 2 (refused posts not counted)", n)
	}

	// One a 50ms, bursts of 1: a post right after another is refused
	// with the least Retry-After, and the bucket refills.
	s.LimitPerChannel(50*time.Millisecond, 1)
	if err := post("C3"); err != nil {
		t.Fatal(err)
	}
	if err := post("C3"); !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Errorf("too soon: %v, want a retry after 1s", err)
	}
	clk.Advance(60 * time.Millisecond)
	if err := post("C3"); err != nil {
		t.Errorf("after the refill: %v", err)
	}
}

func TestMaxPerWindow(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	clk := newClock(s)
	api := client(s, token)
	for range 3 {
		if _, _, err := api.PostMessage("U1", slackgo.MsgOptionText("hi", false)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(300 * time.Millisecond)
	if _, _, err := api.PostMessage("U1", slackgo.MsgOptionText("hi", false)); err != nil {
		t.Fatal(err)
	}
	if n := s.MaxPerWindow("DU1", 250*time.Millisecond); n != 3 {
		t.Errorf("within 250ms: %d, want 3", n)
	}
	if n := s.MaxPerWindow("U1", time.Minute); n != 4 {
		t.Errorf("within a minute: %d, want 4", n)
	}
	if n := s.MaxPerWindow("C9", time.Minute); n != 0 {
		t.Errorf("no posts: %d", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	api := client(s, token)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			channel := []string{"C1", "C2"}[i%2]
			for range 5 {
				if _, _, err := api.PostMessage(channel, slackgo.MsgOptionText("hi", false)); err != nil {
					t.Error(err)
				}
				s.Messages(channel)
				s.Calls()
			}
		})
	}
	wg.Wait()
	if a, b := len(s.Messages("C1")), len(s.Messages("C2")); a != 20 || b != 20 {
		t.Errorf("%d and %d messages, want 20 each", a, b)
	}
}

func TestResponseURL(t *testing.T) {
	s := slacktest.NewServer(token)
	defer s.Close()
	_, _, err := client(s, token).PostMessage("", slackgo.MsgOptionResponseURL(s.ResponseURL(), slackgo.ResponseTypeEphemeral), slackgo.MsgOptionText("only you", false))
	if err != nil || !slices.Equal(s.Responses(), []string{"only you"}) {
		t.Errorf("%v; responses %q", err, s.Responses())
	}
}

func TestSignedRequest(t *testing.T) {
	form := url.Values{"command": {"/rota"}, "text": {"ack 12"}, "user_id": {"U1"}}
	at := time.Unix(1700000000, 0)
	req := slacktest.SignedRequest("http://rota.test/slack/commands", "s3cret", at, form)
	body, _ := io.ReadAll(req.Body)
	if err := slack.Verify("s3cret", req.Header, body, at.Add(time.Second)); err != nil {
		t.Error(err)
	}
	if err := slack.Verify("other", req.Header, body, at.Add(time.Second)); err == nil {
		t.Error("verified with another secret")
	}
}

func TestBlockActionsPayload(t *testing.T) {
	raw := slacktest.BlockActionsPayload("U1", "T1", slack.ActionEscalate, "42", "https://hooks.slack.com/actions/x")
	var cb slackgo.InteractionCallback
	if err := json.Unmarshal([]byte(raw), &cb); err != nil {
		t.Fatal(err)
	}
	if cb.Type != slackgo.InteractionTypeBlockActions || cb.User.ID != "U1" || cb.User.TeamID != "T1" || cb.Team.ID != "T1" ||
		cb.ResponseURL != "https://hooks.slack.com/actions/x" || cb.Container.Type != "message" || cb.Container.ChannelID == "" || cb.Channel.ID == "" {
		t.Errorf("callback %+v", cb)
	}
	as := cb.ActionCallback.BlockActions
	if len(as) != 1 || as[0].ActionID != slack.ActionEscalate || as[0].Value != "42" || as[0].Type != "button" || as[0].Text.Text != "Escalate" || as[0].BlockID == "" {
		t.Errorf("actions %+v", as)
	}
	if len(cb.Message.Blocks.BlockSet) != 2 {
		t.Errorf("the message's blocks: %+v", cb.Message.Blocks)
	}
}

// Package slack is rota's Slack app: it pages people by direct message
// and posts incidents to channels with Acknowledge, Escalate and Resolve
// buttons (chat.postMessage), edits those messages in place as the
// incident changes (chat.update), keeps a user group equal to who is on
// call (usergroups.users.update), and checks the signature of what Slack
// posts back (button presses, the /rota command). It speaks Slack's Web
// API with slack-go; a Slack contact that is an incoming webhook's URL is
// posted to as a webhook, without buttons.
package slack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/notify/webhook"
)

// Options configure the Slack app.
type Options struct {
	// BotToken (xoxb-…) calls the Web API.
	BotToken string
	// APIURL replaces https://slack.com/api/ (ending in "/"), for a proxy
	// or a test server.
	APIURL string
	// Pace is the least time between two messages to one channel or
	// person: Slack allows about one a second per channel, with short
	// bursts. One second by default.
	Pace time.Duration
	// MaxWait bounds how long a send waits for its channel's turn before
	// it is handed back to the outbox to retry then (2s by default).
	MaxWait time.Duration
	// Webhook posts to contacts that are incoming webhooks.
	Webhook webhook.Notifier
	// TLSConfig, when set, is what the Web API's client trusts (an API
	// URL behind a proxy with a private CA).
	TLSConfig *tls.Config
	Logger    *slog.Logger
}

// Slack sends rota's messages through a Slack app.
type Slack struct {
	api  *slack.Client
	opts Options
	log  *slog.Logger

	mu sync.Mutex
	// users caches a workspace's user ids by email, and emails by id.
	users  map[string]string
	emails map[string]string
	// next is when each conversation may be posted to next, by the id
	// Slack answers with; aliases maps what a message was addressed to
	// (a user id, a #name) to that id, so that a page and its updates
	// share one pace.
	next    map[string]time.Time
	aliases map[string]string
}

// New returns the Slack app for opts.
func New(opts Options) *Slack {
	if opts.Pace == 0 {
		opts.Pace = time.Second
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var options []slack.Option
	if opts.APIURL != "" {
		options = append(options, slack.OptionAPIURL(opts.APIURL))
	}
	options = append(options, slack.OptionHTTPClient(webhook.NewClient(opts.TLSConfig)))
	return &Slack{api: slack.New(opts.BotToken, options...), opts: opts, log: opts.Logger,
		users: map[string]string{}, emails: map[string]string{}, next: map[string]time.Time{}, aliases: map[string]string{}}
}

// Notify sends m: a page by DM, a post to a channel, an update edited
// into the first message and said in its thread, or a notice's text.
func (s *Slack) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if webhookAddress(m.Address) {
		return s.opts.Webhook.Notify(ctx, m)
	}
	to, err := s.conversation(ctx, m.Address)
	if err != nil {
		return notify.Receipt{}, err
	}
	if m.Kind == notify.KindUpdate && m.Update != nil {
		return s.update(ctx, to, m)
	}
	if err := s.turn(ctx, to); err != nil {
		return notify.Receipt{}, err
	}
	channel, ts, err := s.api.PostMessageContext(ctx, to, slack.MsgOptionText(fallback(m), false), slack.MsgOptionBlocks(Blocks(m)...))
	if err != nil {
		return notify.Receipt{}, classify("chat.postMessage to "+m.Address, err)
	}
	s.alias(to, channel)
	id := channel + "/" + ts
	if len(m.Incidents) > 1 {
		// A bundle is not edited to one incident's state later: its
		// updates go to its thread only.
		id += "/bundle"
	}
	return notify.Receipt{ID: id}, nil
}

// update edits the first message about the incident (its buttons follow
// the incident's state) and says what happened in its thread, which
// notifies those following it. With no first message to edit, the update
// is a message of its own.
func (s *Slack) update(ctx context.Context, to string, m notify.Message) (notify.Receipt, error) {
	channel, ts, bundle := parseThread(m.Update.Thread)
	if channel == "" {
		if err := s.turn(ctx, to); err != nil {
			return notify.Receipt{}, err
		}
		c, t, err := s.api.PostMessageContext(ctx, to, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(Blocks(m)...))
		if err != nil {
			return notify.Receipt{}, classify("chat.postMessage to "+m.Address, err)
		}
		return notify.Receipt{ID: c + "/" + t}, nil
	}
	if err := s.turn(ctx, channel); err != nil {
		return notify.Receipt{}, err
	}
	if !bundle && len(m.Incidents) == 1 {
		page := m
		page.Kind, page.Update = notify.KindPost, nil
		blocks := append(Blocks(page), slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, updateLine(m), false, false)))
		if _, _, _, err := s.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(fallback(page), false), slack.MsgOptionBlocks(blocks...)); err != nil {
			if !gone(err) {
				return notify.Receipt{}, classify("chat.update in "+channel, err)
			}
			s.log.Warn("the Slack message to update is gone: the update goes to its thread only", "channel", channel, "ts", ts)
		}
	}
	c, t, err := s.api.PostMessageContext(ctx, channel, slack.MsgOptionTS(ts), slack.MsgOptionText(updateLine(m), false))
	if err != nil {
		return notify.Receipt{}, classify("chat.postMessage to "+channel, err)
	}
	return notify.Receipt{ID: c + "/" + t}, nil
}

// updateLine says what happened: "Acknowledged by alice (slack)".
func updateLine(m notify.Message) string {
	u := m.Update
	past := string(u.Action)
	if u.Action != "" {
		past = u.Action.PastTense()
	}
	if past == "" {
		return m.Text
	}
	line := strings.ToUpper(past[:1]) + past[1:]
	if u.By != "" {
		line += " by " + u.By
	}
	if len(m.Incidents) == 1 {
		inc := m.Incidents[0]
		if i := strings.LastIndex(m.Text, " - "); u.By == "" && i >= 0 && i+3 < len(m.Text) {
			// "escalated to bob": the text's end says to whom.
			what := m.Text[i+3:]
			line = strings.ToUpper(what[:1]) + what[1:]
		}
		line = fmt.Sprintf("#%d %s", inc.ID, line)
	}
	return line
}

// parseThread reads a receipt id: "channel/ts", or "channel/ts/bundle".
func parseThread(id string) (channel, ts string, bundle bool) {
	parts := strings.Split(id, "/")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], len(parts) > 2 && parts[2] == "bundle"
}

// alias records that messages to "to" land in conversation channel.
func (s *Slack) alias(to, channel string) {
	if channel == "" || channel == to {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.aliases[to]; !ok {
		s.aliases[to] = channel
		// The pace so far, kept under the conversation's id.
		if s.next[to].After(s.next[channel]) {
			s.next[channel] = s.next[to]
		}
	}
}

// turn waits for the channel's turn: Slack allows about one message a
// second per channel. A turn further off than MaxWait is not waited for:
// the message goes back to the outbox, to be sent then.
func (s *Slack) turn(ctx context.Context, channel string) error {
	now := time.Now()
	s.mu.Lock()
	if c, ok := s.aliases[channel]; ok {
		channel = c
	}
	at := s.next[channel]
	if at.Before(now) {
		at = now
	}
	wait := at.Sub(now)
	if wait > s.opts.MaxWait {
		s.mu.Unlock()
		return notify.RetryAfter(fmt.Errorf("slack: pacing messages to %s (one a %s)", channel, s.opts.Pace), wait)
	}
	s.next[channel] = at.Add(s.opts.Pace)
	s.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// conversation is where a contact's messages go: a user id or a channel
// as they are, a #name without its #, an email looked up (and cached) in
// the workspace.
func (s *Slack) conversation(ctx context.Context, addr string) (string, error) {
	switch {
	case strings.HasPrefix(addr, "#"):
		return strings.TrimPrefix(addr, "#"), nil
	case strings.Contains(addr, "@"):
		return s.UserID(ctx, addr)
	case addr == "":
		return "", notify.Permanent(errors.New("slack: no address to send to"))
	}
	return addr, nil
}

// UserID returns the Slack user id of an email in the workspace, looked
// up once (users.lookupByEmail) and cached.
func (s *Slack) UserID(ctx context.Context, email string) (string, error) {
	key := strings.ToLower(email)
	s.mu.Lock()
	id, ok := s.users[key]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	u, err := s.api.GetUserByEmailContext(ctx, email)
	if err != nil {
		return "", classify("users.lookupByEmail "+email, err)
	}
	s.mu.Lock()
	s.users[key], s.emails[u.ID] = u.ID, key
	s.mu.Unlock()
	return u.ID, nil
}

// EmailOf returns a Slack user's email (users.info), cached: how a button
// press from someone whose contact names no user id finds its person.
func (s *Slack) EmailOf(ctx context.Context, userID string) (string, error) {
	s.mu.Lock()
	e, ok := s.emails[userID]
	s.mu.Unlock()
	if ok {
		return e, nil
	}
	u, err := s.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return "", classify("users.info "+userID, err)
	}
	e = strings.ToLower(u.Profile.Email)
	if e == "" {
		return "", notify.Permanent(fmt.Errorf("slack: user %s has no email the app can read (it needs the users:read.email scope)", userID))
	}
	s.mu.Lock()
	s.emails[userID], s.users[e] = e, userID
	s.mu.Unlock()
	return e, nil
}

// SetUserGroup makes a user group's members exactly users (ids or
// emails); Slack refuses an empty group, so with nobody on call it is
// left as it is.
func (s *Slack) SetUserGroup(ctx context.Context, group string, users []string) error {
	var ids []string
	for _, u := range users {
		id, err := s.conversation(ctx, u)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.api.UpdateUserGroupMembersContext(ctx, group, strings.Join(ids, ",")); err != nil {
		return classify("usergroups.users.update "+group, err)
	}
	return nil
}

// Respond posts to a response_url Slack gave with a button press or a
// command: an ephemeral answer only the presser sees.
func (s *Slack) Respond(ctx context.Context, responseURL, text string) error {
	_, _, err := s.api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(responseURL, slack.ResponseTypeEphemeral),
		slack.MsgOptionText(text, false))
	return err
}

// permanentErrors are Slack's answers that sending again will not fix.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "invalid_auth": true, "not_authed": true,
	"account_inactive": true, "token_revoked": true, "users_not_found": true, "user_not_found": true, "no_permission": true,
	"missing_scope": true, "msg_too_long": true, "invalid_blocks": true, "restricted_action": true, "cant_update_message": true,
	"message_not_found": true, "no_such_subteam": true, "invalid_users": true, "team_access_not_granted": true,
}

// classify sorts a Web API failure: rate limited (wait as Slack asks),
// permanent (fail over), or anything else (retry).
func classify(what string, err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return notify.RetryAfter(fmt.Errorf("slack %s: rate limited, retry after %s", what, rl.RetryAfter), rl.RetryAfter)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && permanentErrors[se.Err] {
		return notify.Permanent(fmt.Errorf("slack %s: %s", what, se.Err))
	}
	if errors.As(err, &se) && se.Err == "ratelimited" {
		return notify.RetryAfter(fmt.Errorf("slack %s: ratelimited", what), 30*time.Second)
	}
	return fmt.Errorf("slack %s: %w", what, err)
}

// gone reports whether a message to edit no longer exists.
func gone(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && (se.Err == "message_not_found" || se.Err == "cant_update_message" || se.Err == "channel_not_found")
}

func webhookAddress(a string) bool {
	return strings.HasPrefix(a, "https://") || strings.HasPrefix(a, "http://")
}

// fallback is the plain text of a message: what notifications show.
func fallback(m notify.Message) string {
	if m.Text != "" {
		return m.Text
	}
	if len(m.Incidents) == 1 {
		return fmt.Sprintf("%s: %s", m.Incidents[0].Service, m.Incidents[0].Summary)
	}
	return fmt.Sprintf("%d incidents", len(m.Incidents))
}

var _ notify.Notifier = (*Slack)(nil)
var _ = rota.StatusTriggered

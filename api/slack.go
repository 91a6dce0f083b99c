package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify/slack"
)

// SlackApp is the Slack app, as the API uses it: who a Slack user is,
// and answering them alone.
type SlackApp interface {
	// EmailOf is a Slack user's email in the workspace.
	EmailOf(ctx context.Context, userID string) (string, error)
	// Respond posts an answer only the user who acted sees.
	Respond(ctx context.Context, responseURL, text string) error
}

// ReplayGuard remembers requests already acted on.
type ReplayGuard interface {
	// FirstInbound records key and says whether it is new.
	FirstInbound(ctx context.Context, key string) (bool, error)
}

// maxSlackBody bounds what Slack posts (an interaction's payload is a
// few kilobytes).
const maxSlackBody = 256 << 10

// slackRequest checks a request from Slack and reads its form: signed
// with the app's signing secret, at most five minutes old, and not seen
// before (a replay within those minutes is refused too).
func (s *Server) slackRequest(w http.ResponseWriter, r *http.Request, endpoint string) (url.Values, bool) {
	st := s.settings.Load()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSlackBody))
	if err != nil {
		s.writeError(w, r, rota.Errorf(rota.EINVALID, "the request body is too large or unreadable: %v", err))
		return nil, false
	}
	if st.SlackSigningSecret == "" || s.slack == nil {
		s.log.Warn("slack request refused: no Slack app is configured", "endpoint", endpoint, "remote", r.RemoteAddr)
		s.writeError(w, r, rota.Errorf(rota.EUNAVAILABLE, "the Slack app is not configured: set [slack] bot_token and signing_secret (ROTA_SLACK_BOT_TOKEN, ROTA_SLACK_SIGNING_SECRET) and reload"))
		return nil, false
	}
	if err := slack.Verify(st.SlackSigningSecret, r.Header, body, s.now()); err != nil {
		s.log.Warn("slack request refused", "endpoint", endpoint, "remote", r.RemoteAddr, "err", err)
		s.writeError(w, r, rota.Errorf(rota.EUNAUTHORIZED, "%v", err))
		return nil, false
	}
	if s.replays != nil {
		first, err := s.replays.FirstInbound(r.Context(), "slack:"+r.Header.Get("X-Slack-Signature"))
		if err != nil {
			s.writeError(w, r, err)
			return nil, false
		}
		if !first {
			s.log.Warn("slack request replayed: refused", "endpoint", endpoint, "remote", r.RemoteAddr)
			s.writeError(w, r, rota.Errorf(rota.ECONFLICT, "this request was already received: a replay is refused"))
			return nil, false
		}
	}
	form, err := url.ParseQuery(string(bytes.TrimSpace(body)))
	if err != nil {
		s.writeError(w, r, rota.Errorf(rota.EINVALID, "the body is not a form: %v", err))
		return nil, false
	}
	return form, true
}

// slackActor is the person a Slack user is: the one whose Slack contact
// is their user id, or whose email is theirs in the workspace; with that
// person's role.
func (s *Server) slackActor(ctx context.Context, userID string) (rota.Actor, error) {
	org := s.book.Roster().Org()
	p := org.SlackUser(userID)
	if p == nil && s.slack != nil {
		email, err := s.slack.EmailOf(ctx, userID)
		if err != nil {
			// What went wrong (a DNS error, Slack's answer) is for the
			// log, not the user.
			s.log.Warn("cannot look a Slack user up", "user", userID, "err", err)
			return rota.Actor{}, rota.Errorf(rota.EFORBIDDEN, "rota cannot tell who you are (Slack user %s) right now: it could not ask Slack. Try again, or add your Slack user id to your contacts in rota", userID)
		}
		if q := org.Identity(email); q != nil && strings.Contains(email, "@") {
			p = q
		}
	}
	if p == nil {
		return rota.Actor{}, rota.Errorf(rota.EFORBIDDEN, "your Slack account (%s) is not a person in rota: add your Slack user id or email to your contacts or emails", userID)
	}
	role := org.RoleOf(p.Name, s.settings.Load().Admins)
	if role == rota.RoleNone {
		return rota.Actor{}, rota.Errorf(rota.EFORBIDDEN, "%s has no role in rota", p.Name)
	}
	return rota.Actor{Person: p.Name, Via: rota.ViaSlack, Role: role}, nil
}

// slackActions maps the buttons to what they do.
var slackActions = map[string]rota.Action{slack.ActionAck: rota.ActionAcknowledge, slack.ActionEscalate: rota.ActionEscalate, slack.ActionResolve: rota.ActionResolve}

// slackInteraction serves POST /slack/interactions: a button pressed on
// one of rota's messages acts as the presser's person, with their role.
// The message itself is edited by the update that follows; the presser
// alone is told when the press could not act.
func (s *Server) slackInteraction(w http.ResponseWriter, r *http.Request) {
	form, ok := s.slackRequest(w, r, "interactions")
	if !ok {
		return
	}
	press, ok, err := slack.ParsePress(form)
	if err != nil {
		s.writeError(w, r, rota.Errorf(rota.EINVALID, "%v", err))
		return
	}
	// Slack wants its answer within three seconds: acknowledge the
	// request, whatever the press leads to.
	w.WriteHeader(http.StatusOK)
	if !ok {
		return
	}
	answer := func(text string) {
		if press.ResponseURL == "" || s.slack == nil {
			return
		}
		if err := s.slack.Respond(context.WithoutCancel(r.Context()), press.ResponseURL, text); err != nil {
			s.log.Warn("cannot answer a Slack user", "user", press.User, "err", err)
		}
	}
	a, err := s.slackActor(r.Context(), press.User)
	if err != nil {
		answer(rota.ErrorMessage(err))
		return
	}
	action := slackActions[press.Action]
	if _, err := s.slackAct(r.Context(), a, press.Incident, action); err != nil {
		answer(rota.ErrorMessage(err))
	}
}

// slackAct acknowledges, escalates or resolves an incident as a.
func (s *Server) slackAct(ctx context.Context, a rota.Actor, id int64, action rota.Action) (rota.Incident, error) {
	res, err := s.pager.Act(ctx, paging.Act{Actor: a, Action: action, Incident: id})
	return res.Incident, err
}

// slackCommand serves POST /slack/commands: /rota oncall [rotation],
// ack|escalate|resolve N, override ROTATION DURATION|START END, help. The
// answer is for the user alone.
func (s *Server) slackCommand(w http.ResponseWriter, r *http.Request) {
	form, ok := s.slackRequest(w, r, "commands")
	if !ok {
		return
	}
	cmd, err := slack.ParseCommand(form)
	if err != nil {
		s.writeError(w, r, rota.Errorf(rota.EINVALID, "%v", err))
		return
	}
	text := s.runSlackCommand(r, cmd)
	writeJSON(w, http.StatusOK, map[string]string{"response_type": "ephemeral", "text": text})
}

const slackHelp = "Usage: `/rota oncall [rotation]` · `/rota ack N` · `/rota escalate N` · `/rota resolve N` · `/rota override ROTATION 2h` or `/rota override ROTATION START END` (you, on call; times as 2026-12-01T18:00)"

func (s *Server) runSlackCommand(r *http.Request, cmd slack.Command) string {
	if len(cmd.Args) == 0 || cmd.Args[0] == "help" {
		return slackHelp
	}
	a, err := s.slackActor(r.Context(), cmd.User)
	if err != nil {
		return rota.ErrorMessage(err)
	}
	switch verb, args := cmd.Args[0], cmd.Args[1:]; verb {
	case "oncall", "who":
		return s.slackOnCall(args)
	case "ack", "acknowledge", "escalate", "resolve":
		action := map[string]rota.Action{"ack": rota.ActionAcknowledge, "acknowledge": rota.ActionAcknowledge, "escalate": rota.ActionEscalate, "resolve": rota.ActionResolve}[verb]
		if len(args) != 1 {
			return fmt.Sprintf("Usage: `/rota %s N`, N the incident's number", verb)
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
		if err != nil || id <= 0 {
			return fmt.Sprintf("%q is not an incident number", args[0])
		}
		inc, err := s.slackAct(r.Context(), a, id, action)
		if err != nil {
			return rota.ErrorMessage(err)
		}
		return fmt.Sprintf("#%d %s: %s is now %s.", inc.ID, inc.Service, inc.Summary, inc.Status)
	case "override":
		return s.slackOverride(r, a, args)
	}
	return fmt.Sprintf("rota does not know %q. %s", cmd.Args[0], slackHelp)
}

// slackOnCall says who is on call now, on one rotation or all, and until
// when.
func (s *Server) slackOnCall(args []string) string {
	roster := s.book.Roster()
	org := roster.Org()
	now := s.now()
	var rots []*rota.Rotation
	if len(args) > 0 {
		rot := org.Rotation(args[0])
		if rot == nil {
			return fmt.Sprintf("There is no rotation named %q.", args[0])
		}
		rots = []*rota.Rotation{rot}
	} else {
		rots = append(rots, org.Rotations...)
		sort.Slice(rots, func(i, j int) bool { return rots[i].Name < rots[j].Name })
	}
	var b strings.Builder
	for _, rot := range rots {
		sh, ok := roster.OnCall(rot.Name, now)
		if !ok {
			fmt.Fprintf(&b, "*%s*: nobody on call\n", rot.Name)
			continue
		}
		fmt.Fprintf(&b, "*%s*: %s until %s\n", rot.Name, sh.Person, sh.End.In(rot.Location).Format("Mon 2 Jan 15:04 MST"))
	}
	return strings.TrimSpace(b.String())
}

// slackOverride puts the user on call: "ROTATION 2h" from now, or
// "ROTATION START END".
func (s *Server) slackOverride(r *http.Request, a rota.Actor, args []string) string {
	if len(args) < 2 {
		return "Usage: `/rota override ROTATION 2h` (from now) or `/rota override ROTATION START END`"
	}
	org := s.book.Roster().Org()
	rot := org.Rotation(args[0])
	if rot == nil {
		return fmt.Sprintf("There is no rotation named %q.", args[0])
	}
	o := rota.Override{Rotation: rot.Name, Person: a.Person, Reason: "from Slack"}
	if d, err := rota.ParseDuration(args[1]); err == nil && len(args) == 2 {
		o.Start = s.now().Truncate(time.Minute)
		o.End = o.Start.Add(d)
	} else {
		if len(args) != 3 {
			return "Usage: `/rota override ROTATION 2h` (from now) or `/rota override ROTATION START END`"
		}
		var err error
		if o.Start, err = parseLocalTime(args[1], rot.Location); err != nil {
			return fmt.Sprintf("start: %v", err)
		}
		if o.End, err = parseLocalTime(args[2], rot.Location); err != nil {
			return fmt.Sprintf("end: %v", err)
		}
	}
	req := r.WithContext(contextWithCaller(r, caller{actor: a}))
	if err := s.addOverride(req, rot, &o); err != nil {
		return rota.ErrorMessage(err)
	}
	loc := rot.Location
	return fmt.Sprintf("You are on call for %s from %s to %s (override %d).", rot.Name, o.Start.In(loc).Format("Mon 2 Jan 15:04"), o.End.In(loc).Format("Mon 2 Jan 15:04 MST"), o.ID)
}

// parseLocalTime reads RFC 3339, or a local "2006-01-02T15:04" in loc.
func parseLocalTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (as 2026-12-01T18:00, in the rotation's zone, or RFC 3339)", s)
}

package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// MaxAge is how old (or how far in the future) a signed request from
// Slack may be: older ones are refused, as Slack advises, so that a
// captured request cannot be replayed later.
const MaxAge = 5 * time.Minute

// Sign is Slack's v0 signature of a request body sent at timestamp (Unix
// seconds): "v0=" and the hex HMAC-SHA256, keyed with the app's signing
// secret, of "v0:timestamp:body".
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a request from Slack: its X-Slack-Signature must be the
// body's signature with the secret, and its X-Slack-Request-Timestamp
// within MaxAge of now. The error says which check failed.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	ts, sig := h.Get("X-Slack-Request-Timestamp"), h.Get("X-Slack-Signature")
	if ts == "" || sig == "" {
		return fmt.Errorf("the request is not signed: X-Slack-Signature and X-Slack-Request-Timestamp are required")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("X-Slack-Request-Timestamp %q is not a Unix time", ts)
	}
	if age := now.Sub(time.Unix(secs, 0)); age > MaxAge || age < -MaxAge {
		return fmt.Errorf("the request was signed at %s, more than %s from now: refused as stale", time.Unix(secs, 0).UTC().Format(time.RFC3339), MaxAge)
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return fmt.Errorf("the X-Slack-Signature does not match this request")
	}
	return nil
}

// Press is a button pressed on one of rota's messages.
type Press struct {
	// User is the presser's Slack user id; Team their workspace.
	User, Team string
	// Action is ActionAck, ActionEscalate or ActionResolve; Incident the
	// incident the button is on.
	Action   string
	Incident int64
	// ResponseURL answers the presser alone.
	ResponseURL string
}

// ParsePress reads an interaction payload (the form field "payload" of
// what Slack posts to the interactivity URL): the first of rota's buttons
// it presses. ok is false for an interaction that is not one.
func ParsePress(form url.Values) (p Press, ok bool, err error) {
	raw := form.Get("payload")
	if raw == "" {
		return Press{}, false, fmt.Errorf("payload: required (the interaction Slack sends as a form field)")
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(raw), &cb); err != nil {
		return Press{}, false, fmt.Errorf("payload: not an interaction: %v", err)
	}
	p = Press{User: cb.User.ID, Team: cb.Team.ID, ResponseURL: cb.ResponseURL}
	if cb.Type != slack.InteractionTypeBlockActions {
		return p, false, nil
	}
	for _, a := range cb.ActionCallback.BlockActions {
		switch a.ActionID {
		case ActionAck, ActionEscalate, ActionResolve:
			id, err := strconv.ParseInt(a.Value, 10, 64)
			if err != nil || id <= 0 {
				return p, false, fmt.Errorf("payload: button %s has value %q, not an incident id", a.ActionID, a.Value)
			}
			p.Action, p.Incident = a.ActionID, id
			return p, true, nil
		}
	}
	return p, false, nil
}

// Command is a /rota slash command.
type Command struct {
	User, Team  string
	Command     string
	Args        []string
	ResponseURL string
}

// ParseCommand reads a slash command's form.
func ParseCommand(form url.Values) (Command, error) {
	c := Command{User: form.Get("user_id"), Team: form.Get("team_id"), Command: form.Get("command"), ResponseURL: form.Get("response_url"),
		Args: strings.Fields(form.Get("text"))}
	if c.User == "" {
		return c, fmt.Errorf("user_id: required (Slack sends it with every command)")
	}
	return c, nil
}

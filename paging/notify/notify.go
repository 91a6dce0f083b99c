// Package notify is what the paging engine and the providers that carry
// its messages agree on: a Message, the Notifier that sends it, the
// errors that tell the engine what to do next (retry, fail over, wait as
// the provider asked), and the Registry that names a notifier per channel.
//
// Each provider lives in its own package beneath this one (twilio, slack,
// teams, email, webhook), as Alertmanager's notify/* do; the engine knows
// none of them, and cmd/rotad registers those the configuration names.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// Kinds of message.
const (
	// KindPage is an incident for a person to answer.
	KindPage = rota.KindPage
	// KindNotice is text alone, with nothing to answer: a manager's
	// notice of a burned budget, a digest, an on-call announcement.
	KindNotice = rota.KindNotice
	// KindUpdate is news of an incident for those already told of it:
	// acknowledged, escalated or resolved, and by whom. Never a page.
	KindUpdate = rota.KindUpdate
	// KindPost is an incident posted to a channel (a Slack channel, a
	// Teams channel) rather than to a person: it pages nobody.
	KindPost = rota.KindPost
)

// Message is what a notifier sends: one incident, or several bundled into
// one message when a person's rate limit held them back; or a notice's
// text; or an update on an incident.
type Message struct {
	NotificationID int64
	// Kind is KindPage, KindNotice, KindUpdate or KindPost.
	Kind string
	// Person is who is told; empty for a post or an announcement to a
	// channel.
	Person  string
	Channel rota.Channel
	Address string
	// Incidents are the incidents the message is about, as they stand
	// now (an update's is acknowledged or resolved already).
	Incidents []rota.Incident
	// Text is the message for a human: short enough for one SMS where it
	// can be, with reply codes for SMS.
	Text string
	// Codes are the person's reply codes for the incidents (SMS only).
	Codes map[int64]int
	// Reason says why this person is paged when it is not their turn
	// ("you deployed abc1234 12 min ago"); single incidents only.
	Reason string
	// Shadow marks a learner's copy, which they cannot acknowledge.
	Shadow bool
	// Update is what happened, for KindUpdate.
	Update *Update
	// PublicURL is where rotad is reached, for links; empty when unset.
	PublicURL string
	// Now is when the message is sent, for "triggered 3 minutes ago".
	Now time.Time
}

// Notice reports whether m is text alone, with no incident to answer.
func (m Message) Notice() bool { return m.Kind == KindNotice }

// IncidentURL is the link to an incident in the web UI, or "" without a
// public URL.
func (m Message) IncidentURL(id int64) string {
	if m.PublicURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/incidents/%d", m.PublicURL, id)
}

// Update is news of an incident: what was done to it, by whom.
type Update struct {
	// Action is acknowledge, resolve or escalate.
	Action rota.Action
	// By is the actor ("alice (slack)", "service payments (key)").
	By string
	// Thread is the provider's id of the first message about the
	// incident sent on this contact (a Slack message's "channel/ts"):
	// providers that can edit a message update it in place and reply
	// under it. Empty when the provider gave no id.
	Thread string
}

// Receipt is what a provider says of an accepted message: its id, for
// matching status callbacks and for updating the message later.
type Receipt struct {
	ID string
	// Logged says the message was written to rotad's log and not sent:
	// no provider is configured for its channel (the log notifier).
	Logged bool
}

// Notifier sends messages over one channel. An error wrapped with
// Permanent is not retried: the contact method fails over at once; one
// made with RetryAfter is retried no sooner than the provider asked.
type Notifier interface {
	Notify(ctx context.Context, m Message) (Receipt, error)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, m Message) (Receipt, error)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, m Message) (Receipt, error) { return f(ctx, m) }

// permanentError marks a failure that retrying will not fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// retryAfterError is a provider's "not now, try again after d" (HTTP 429
// with Retry-After).
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e retryAfterError) Error() string { return e.err.Error() }
func (e retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err as the provider's request to wait d before trying
// again: the engine waits (at least its own backoff) and does not count
// the attempt towards failing over, since nothing is wrong with the
// contact.
func RetryAfter(err error, d time.Duration) error { return retryAfterError{err, d} }

// RetryAfterOf returns how long the provider asked to wait, if it did.
func RetryAfterOf(err error) (time.Duration, bool) {
	var r retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// Log writes each message to the log instead of sending it: the default
// for channels with no provider configured, so that rota runs with no
// account anywhere.
type Log struct {
	Log *slog.Logger
}

// Notify logs m.
func (n Log) Notify(ctx context.Context, m Message) (Receipt, error) {
	ids := make([]int64, len(m.Incidents))
	for i, a := range m.Incidents {
		ids[i] = a.ID
	}
	kind := m.Kind
	if kind == "" {
		kind = KindPage
	}
	to := m.Address
	if m.Channel == rota.ContactWebhook || m.Channel == rota.ContactSlack || m.Channel == rota.ContactTeams {
		to = rota.RedactURL(to)
	}
	n.Log.Info("notification", "kind", kind, "channel", m.Channel, "person", m.Person, "to", to, "incidents", ids, "text", m.Text)
	return Receipt{Logged: true}, nil
}

// Registry names the notifier of each channel; a channel with none goes
// to the fallback, the log notifier by default.
type Registry struct {
	byChannel map[rota.Channel]Notifier
	fallback  Notifier
}

// NewRegistry returns an empty registry whose unregistered channels go to
// fallback (nil: they are logged to log).
func NewRegistry(fallback Notifier, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if fallback == nil {
		fallback = Log{Log: log}
	}
	return &Registry{byChannel: map[rota.Channel]Notifier{}, fallback: fallback}
}

// Register makes n the notifier of channel c; registering a channel twice
// is a programming error.
func (r *Registry) Register(c rota.Channel, n Notifier) {
	if _, dup := r.byChannel[c]; dup {
		panic(fmt.Sprintf("notify: channel %s registered twice", c))
	}
	r.byChannel[c] = n
}

// For returns the notifier of channel c, the fallback when none is
// registered.
func (r *Registry) For(c rota.Channel) Notifier {
	if r == nil {
		return Log{Log: slog.New(slog.DiscardHandler)}
	}
	if n := r.byChannel[c]; n != nil {
		return n
	}
	return r.fallback
}

// Registered reports whether channel c has a notifier of its own.
func (r *Registry) Registered(c rota.Channel) bool {
	return r != nil && r.byChannel[c] != nil
}

// ParseRetryAfter reads an HTTP Retry-After header: seconds, or an HTTP
// date (then how long from now). ok is false when it is absent or not
// understood.
func ParseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

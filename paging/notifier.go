package paging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/rotahq/rota"
)

// Message is what a notifier sends: one alert, or several bundled into one
// message when a person's rate limit held them back.
type Message struct {
	NotificationID int64
	Person         string
	Channel        rota.Channel
	Address        string
	Incidents      []rota.Incident
	// Text is the message for a human: short enough for one SMS where it
	// can be, with reply codes for SMS.
	Text string
	// Codes are the person's reply codes for the alerts (SMS only).
	Codes map[int64]int
	// Reason says why this person is paged when it is not their turn
	// ("you deployed abc1234 12 min ago"); single alerts only.
	Reason string
	// Shadow marks a learner's copy, which they cannot acknowledge.
	Shadow bool
	// Notice marks a message to a manager (a human budget burned): Text
	// alone, no incident to answer.
	Notice bool
	// Now is when the message is sent, for "triggered 3 minutes ago".
	Now time.Time
}

// Receipt is what a provider says of an accepted message: its id, for
// matching status callbacks.
type Receipt struct {
	ID string
}

// Notifier sends messages over one channel. An error wrapped with
// Permanent is not retried: the contact method fails over at once.
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

// LogNotifier writes each message to the log instead of sending it: the
// default for channels with no provider configured, so that rota runs
// with no account anywhere.
type LogNotifier struct {
	Log *slog.Logger
}

// Notify logs m.
func (n LogNotifier) Notify(ctx context.Context, m Message) (Receipt, error) {
	ids := make([]int64, len(m.Incidents))
	for i, a := range m.Incidents {
		ids[i] = a.ID
	}
	kind := "page"
	if m.Notice {
		kind = "notice"
	}
	to := m.Address
	if m.Channel == rota.ContactWebhook || m.Channel == rota.ContactSlack {
		to = rota.RedactURL(to)
	}
	n.Log.Info("notification", "kind", kind, "channel", m.Channel, "person", m.Person, "to", to, "incidents", ids, "text", m.Text)
	return Receipt{}, nil
}

// WebhookNotifier posts messages as JSON to the contact's address. The
// body carries a Slack-compatible "text" field, so a Slack incoming
// webhook URL works as an address.
type WebhookNotifier struct {
	Client *http.Client
	// PublicURL, when set, links each alert in the payload.
	PublicURL string
}

type webhookIncident struct {
	ID       int64       `json:"id"`
	Service  string      `json:"service"`
	Summary  string      `json:"summary"`
	Severity string      `json:"severity"`
	Status   rota.Status `json:"status"`
	Alerts   int         `json:"alerts"`
	Created  time.Time   `json:"created_at"`
	URL      string      `json:"url,omitempty"`
}

type webhookBody struct {
	// Kind is "page", or "notice" for a manager's notice.
	Kind           string            `json:"kind"`
	Text           string            `json:"text"`
	Reason         string            `json:"reason,omitempty"`
	Person         string            `json:"person"`
	NotificationID int64             `json:"notification_id"`
	Incidents      []webhookIncident `json:"incidents"`
}

// NewWebhookClient is the HTTP client webhooks are posted with: a short
// connect (a receiver that is down fails fast, and is retried), and no
// overall timeout of its own: the engine's send timeout for the channel
// bounds each post, so a receiver that answers slowly within it has the
// message.
func NewWebhookClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// Notify posts m. Answers 2xx are success; 408, 429 and 5xx and network
// errors are retried; other 4xx fail permanently.
func (n WebhookNotifier) Notify(ctx context.Context, m Message) (Receipt, error) {
	return Receipt{}, n.post(ctx, m)
}

func (n WebhookNotifier) post(ctx context.Context, m Message) error {
	body := webhookBody{Kind: "page", Text: m.Text, Reason: m.Reason, Person: m.Person, NotificationID: m.NotificationID, Incidents: []webhookIncident{}}
	if m.Notice {
		body.Kind = "notice"
	}
	for _, a := range m.Incidents {
		wa := webhookIncident{ID: a.ID, Service: a.Service, Summary: a.Summary, Severity: a.Severity, Status: a.Status, Alerts: a.AlertCount, Created: a.CreatedAt}
		if n.PublicURL != "" {
			wa.URL = fmt.Sprintf("%s/api/v1/incidents/%d", n.PublicURL, a.ID)
		}
		body.Incidents = append(body.Incidents, wa)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return Permanent(err)
	}
	// A webhook's URL is a secret (Slack's is a bearer token): errors
	// name it redacted.
	where := rota.RedactURL(m.Address)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Address, bytes.NewReader(b))
	if err != nil {
		return Permanent(fmt.Errorf("webhook %s: not a URL", where))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rotad")
	// The same on every retry of this message, and after a restart: a
	// receiver drops the duplicates that at-least-once delivery makes.
	req.Header.Set("X-Rota-Delivery", fmt.Sprint(m.NotificationID))
	client := n.Client
	if client == nil {
		client = NewWebhookClient()
	}
	res, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the whole URL
		}
		return fmt.Errorf("webhook %s: %s", where, rota.RedactIn(err.Error(), m.Address))
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusRequestTimeout || res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return fmt.Errorf("webhook %s answered %s: %s", where, res.Status, bytes.TrimSpace(snippet))
	default:
		return Permanent(fmt.Errorf("webhook %s answered %s: %s", where, res.Status, bytes.TrimSpace(snippet)))
	}
}

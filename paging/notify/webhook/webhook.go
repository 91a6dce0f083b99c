// Package webhook posts rota's messages as JSON to a URL: the contact
// method for anything that takes a webhook (a chat bridge, an automation).
// The body carries a Slack-compatible "text" field, so a Slack incoming
// webhook URL works as an address too.
package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

// Notifier posts messages as JSON to the contact's address. The
// body carries a Slack-compatible "text" field, so a Slack incoming
// webhook URL works as an address.
type Notifier struct {
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
	// Kind is "page", "notice" (text alone), "update" (what became of
	// an incident already paged) or "post" (an incident for a channel).
	Kind           string            `json:"kind"`
	Text           string            `json:"text"`
	Reason         string            `json:"reason,omitempty"`
	Person         string            `json:"person"`
	NotificationID int64             `json:"notification_id"`
	Incidents      []webhookIncident `json:"incidents"`
	// Update says what happened, on an update.
	Update *webhookUpdate `json:"update,omitempty"`
}

type webhookUpdate struct {
	Action rota.Action `json:"action"`
	By     string      `json:"by,omitempty"`
}

// NewClient is the HTTP client webhooks are posted with: a short
// connect (a receiver that is down fails fast, and is retried), and no
// overall timeout of its own: the engine's send timeout for the channel
// bounds each post, so a receiver that answers slowly within it has the
// message. tlsConfig, when not nil, is what it trusts (a private CA).
func NewClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:       tlsConfig,
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// Notify posts m. Answers 2xx are success; 408, 429 (after its
// Retry-After) and 5xx and network errors are retried; other 4xx fail
// permanently.
func (n Notifier) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	return notify.Receipt{}, n.post(ctx, m)
}

func (n Notifier) post(ctx context.Context, m notify.Message) error {
	// text is what chat tools show (Slack's incoming-webhook format):
	// escaped, so that a summary cannot ping a channel or disguise a
	// link; the other fields carry the values as they are.
	body := webhookBody{Kind: m.Kind, Text: notify.EscapeMrkdwn(m.Text), Reason: m.Reason, Person: m.Person, NotificationID: m.NotificationID, Incidents: []webhookIncident{}}
	if body.Kind == "" {
		body.Kind = notify.KindPage
	}
	if u := m.Update; u != nil {
		body.Update = &webhookUpdate{Action: u.Action, By: u.By}
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
		return notify.Permanent(err)
	}
	// A webhook's URL is a secret (Slack's is a bearer token): errors
	// name it redacted.
	where := rota.RedactURL(m.Address)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Address, bytes.NewReader(b))
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook %s: not a URL", where))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rotad")
	// The same on every retry of this message, and after a restart: a
	// receiver drops the duplicates that at-least-once delivery makes.
	req.Header.Set("X-Rota-Delivery", fmt.Sprint(m.NotificationID))
	client := n.Client
	if client == nil {
		client = NewClient(nil)
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
	case res.StatusCode == http.StatusTooManyRequests:
		err := fmt.Errorf("webhook %s answered %s: %s", where, res.Status, bytes.TrimSpace(snippet))
		if d, ok := notify.ParseRetryAfter(res.Header.Get("Retry-After"), time.Now()); ok {
			return notify.RetryAfter(err, d)
		}
		return err
	case res.StatusCode == http.StatusRequestTimeout || res.StatusCode >= 500:
		return fmt.Errorf("webhook %s answered %s: %s", where, res.Status, bytes.TrimSpace(snippet))
	default:
		return notify.Permanent(fmt.Errorf("webhook %s answered %s: %s", where, res.Status, bytes.TrimSpace(snippet)))
	}
}

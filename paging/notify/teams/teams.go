// Package teams posts rota's messages to Microsoft Teams channels as
// Adaptive Cards, through a Teams Workflows webhook: the "Post to a
// channel when a webhook request is received" workflow, which replaces
// Office 365 connectors. The contact's address is the workflow's URL.
//
// Teams cannot call such a webhook's sender back, so a card has no buttons
// to acknowledge or resolve: only a link to the incident in rota's web UI
// when rotad has a public URL.
package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

// Retry-After bounds: the wait when Teams answers 429 without saying how
// long (or unreadably), and the longest wait taken from it, so that a
// wild header cannot hold a page back for hours.
const (
	defaultRetryAfter = 30 * time.Second
	maxRetryAfter     = 10 * time.Minute
)

// maxIncidents is how many incidents of a bundle a card shows in full;
// the rest are counted. Teams refuses messages over about 28 KB.
const maxIncidents = 10

// timeLayout is how a card shows when an incident triggered.
const timeLayout = "2006-01-02 15:04 MST"

// Notifier posts messages to Teams Workflows webhooks. Answers 2xx are
// success (Workflows answers 202 Accepted, with no message id); 429 is
// retried after the Retry-After Teams asked for; 408, 5xx and network
// errors are retried; other 4xx fail permanently, as does an address that
// is not an https URL.
type Notifier struct {
	// Client posts the cards; nil means a client with a short connect
	// timeout and no overall timeout (the context bounds each post).
	Client *http.Client
}

var _ notify.Notifier = Notifier{}

// defaultClient is the client of a Notifier with none.
var defaultClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   5 * time.Second,
	MaxIdleConnsPerHost:   4,
	IdleConnTimeout:       90 * time.Second,
	ExpectContinueTimeout: time.Second,
}}

// Notify posts m as an Adaptive Card to the workflow at m.Address. The
// receipt's ID is always empty: Teams names no message.
func (n Notifier) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	// The workflow's URL is a secret (its sig parameter signs it): errors
	// name it redacted.
	where := rota.RedactURL(m.Address)
	if err := checkAddress(m.Address); err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("teams %s: %v", where, err))
	}
	b, err := json.Marshal(NewPayload(m))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("teams %s: encoding the card: %v", where, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Address, bytes.NewReader(b))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("teams %s: not a URL", where))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rotad")
	// The same on every retry of this message, and after a restart.
	req.Header.Set("X-Rota-Delivery", strconv.FormatInt(m.NotificationID, 10))
	client := n.Client
	if client == nil {
		client = defaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the whole URL
		}
		return notify.Receipt{}, fmt.Errorf("teams %s: %s", where, scrub(err.Error(), m.Address))
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // to reuse the connection
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return notify.Receipt{}, nil
	}
	err = fmt.Errorf("teams %s answered %s: %s", where, res.Status, scrub(string(bytes.TrimSpace(snippet)), m.Address))
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		now := m.Now
		if now.IsZero() {
			now = time.Now()
		}
		return notify.Receipt{}, notify.RetryAfter(err, retryAfter(res.Header.Get("Retry-After"), now))
	case res.StatusCode == http.StatusRequestTimeout || res.StatusCode >= 500:
		return notify.Receipt{}, err
	default:
		return notify.Receipt{}, notify.Permanent(err)
	}
}

// checkAddress accepts an absolute https URL, or an http one to a
// loopback host (for tests). Its errors do not quote the address.
func checkAddress(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("no address: a Teams contact needs its workflow's URL")
	case err != nil:
		return errors.New("the address is not a URL")
	case !u.IsAbs() || u.Host == "" || u.Hostname() == "":
		return errors.New("the address is not an absolute URL")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("the address must be https (plain http only to a loopback host)")
	}
	return fmt.Errorf("the address must be an https URL, not %s", u.Scheme)
}

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// scrub takes the secret URL addr out of text: the whole URL, its query,
// and each of its query values long enough to be a key (a workflow's
// sig), in case a server quotes them.
func scrub(text, addr string) string {
	text = rota.RedactIn(text, addr)
	u, err := url.Parse(addr)
	if err != nil {
		return text
	}
	if u.RawQuery != "" {
		text = strings.ReplaceAll(text, u.RawQuery, "…")
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 8 {
				text = strings.ReplaceAll(text, v, "…")
				if e := url.QueryEscape(v); e != v {
					text = strings.ReplaceAll(text, e, "…")
				}
			}
		}
	}
	return text
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date,
// as a wait from now: defaultRetryAfter when absent or unreadable, at
// most maxRetryAfter.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return defaultRetryAfter
	}
	var d time.Duration
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s < 0 {
			return defaultRetryAfter
		}
		if s > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return defaultRetryAfter
	}
	return min(d, maxRetryAfter)
}

// Payload is the body posted to a Workflows webhook: a message with one
// Adaptive Card attached.
type Payload struct {
	// Type is "message".
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment holds a card in a Payload.
type Attachment struct {
	// ContentType is "application/vnd.microsoft.card.adaptive".
	ContentType string `json:"contentType"`
	// ContentURL is always nil, sent as null.
	ContentURL *string      `json:"contentUrl"`
	Content    AdaptiveCard `json:"content"`
}

// AdaptiveCard is an Adaptive Card (version 1.4, as Teams renders it).
type AdaptiveCard struct {
	Schema  string `json:"$schema"`
	Type    string `json:"type"`
	Version string `json:"version"`
	// FallbackText is the message's plain text, for clients that cannot
	// show the card.
	FallbackText string    `json:"fallbackText,omitempty"`
	MSTeams      MSTeams   `json:"msteams"`
	Body         []Element `json:"body"`
	Actions      []Action  `json:"actions,omitempty"`
}

// MSTeams is the card's Teams-only settings.
type MSTeams struct {
	// Width "Full" lets the card use the channel's whole width.
	Width string `json:"width,omitempty"`
}

// Element is one of a card's body elements: a TextBlock, a FactSet or an
// ActionSet; fields that are not its type's stay empty.
type Element struct {
	Type string `json:"type"`
	// TextBlock.
	Text   string `json:"text,omitempty"`
	Wrap   bool   `json:"wrap,omitempty"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	// Color is "attention", "warning", "good", ... or empty for default.
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	// Any element.
	Separator bool   `json:"separator,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	// FactSet.
	Facts []Fact `json:"facts,omitempty"`
	// ActionSet.
	Actions []Action `json:"actions,omitempty"`
}

// Fact is one title and value of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Action is a card action; rota's are all Action.OpenUrl links.
type Action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// NewPayload wraps m's card for posting.
func NewPayload(m notify.Message) Payload {
	return Payload{Type: "message", Attachments: []Attachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content:     Card(m),
	}}}
}

// Card is the Adaptive Card for m. A page or a post shows a header
// (coloured by the highest severity), then each incident's summary and
// facts; an update says what was done to the incident, and by whom; a
// notice is m.Text alone. An incident is linked to rota's web UI when m
// has a public URL: by the card's "Open in rota" action for one incident,
// by a link under each for several.
func Card(m notify.Message) AdaptiveCard {
	c := AdaptiveCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		MSTeams: MSTeams{Width: "Full"},
		Body:    []Element{},
	}
	if m.Kind == notify.KindNotice {
		c.FallbackText = m.Text
		if m.Text != "" {
			c.Body = append(c.Body, text(m.Text))
		}
		return c
	}

	header, color := heading(m)
	c.Body = append(c.Body, Element{Type: "TextBlock", Text: notify.EscapeMarkdown(header), Wrap: true, Weight: "Bolder", Size: "Large", Color: color})
	if m.Shadow {
		note := text("A shadow copy, to learn from: it is not yours to answer.")
		note.IsSubtle = true
		c.Body = append(c.Body, note)
	}
	if m.Reason != "" {
		c.Body = append(c.Body, text("Why you: "+m.Reason))
	}
	shown := m.Incidents
	if len(shown) > maxIncidents {
		shown = shown[:maxIncidents]
	}
	for i, inc := range shown {
		summary := text(inc.Summary)
		if inc.Summary == "" {
			summary = text(fmt.Sprintf("Incident #%d", inc.ID))
		}
		summary.Weight = "Bolder"
		summary.Separator = i > 0
		summary.Spacing = "Medium"
		c.Body = append(c.Body, summary, Element{Type: "FactSet", Facts: facts(inc, m.Now)})
		link := m.IncidentURL(inc.ID)
		switch {
		case link == "":
		case len(m.Incidents) == 1:
			c.Actions = append(c.Actions, Action{Type: "Action.OpenUrl", Title: "Open in rota", URL: link})
		default:
			c.Body = append(c.Body, Element{Type: "ActionSet", Actions: []Action{
				{Type: "Action.OpenUrl", Title: fmt.Sprintf("Open #%d in rota", inc.ID), URL: link},
			}})
		}
	}
	if more := len(m.Incidents) - len(shown); more > 0 {
		e := text(fmt.Sprintf("…and %d more.", more))
		e.Separator = true
		c.Body = append(c.Body, e)
	}
	if len(m.Incidents) == 0 && m.Text != "" {
		c.Body = append(c.Body, text(m.Text))
	}
	c.FallbackText = m.Text
	if c.FallbackText == "" {
		c.FallbackText = header
	}
	return c
}

// text is a wrapping TextBlock of plain text: Markdown in it (from an
// alert, a deploy) shows as typed, never as a link or a heading.
func text(s string) Element {
	return Element{Type: "TextBlock", Text: notify.EscapeMarkdown(s), Wrap: true}
}

// heading is a card's header and its colour.
func heading(m notify.Message) (string, string) {
	n := len(m.Incidents)
	worst := ""
	for _, inc := range m.Incidents {
		if rota.SeverityRank(inc.Severity) > rota.SeverityRank(worst) {
			worst = inc.Severity
		}
	}
	color := severityColor(worst)
	count := ""
	if n > 1 {
		count = fmt.Sprintf(": %d incidents", n)
	}

	switch m.Kind {
	case notify.KindUpdate:
		action, by := rota.Action(""), ""
		if m.Update != nil {
			action, by = m.Update.Action, m.Update.By
		} else if n > 0 && m.Incidents[0].Status == rota.StatusResolved {
			action = rota.ActionResolve
		} else if n > 0 && m.Incidents[0].Status == rota.StatusAcknowledged {
			action = rota.ActionAcknowledge
		}
		what := "Incident"
		switch {
		case n == 1:
			what = fmt.Sprintf("Incident #%d", m.Incidents[0].ID)
		case n > 1:
			what = fmt.Sprintf("%d incidents", n)
		}
		h := what + " " + action.PastTense()
		if by != "" {
			h += " by " + by
		}
		switch action {
		case rota.ActionResolve:
			color = "good"
		case rota.ActionAcknowledge:
			color = ""
		}
		return h, color
	case notify.KindPost:
		return "Posted to the channel" + count, color
	}
	h := "Page"
	if m.Person != "" {
		h += " for " + m.Person
	}
	if m.Shadow {
		h = "Shadow copy of a page"
		if m.Person != "" {
			h += ", for " + m.Person
		}
	}
	return h + count, color
}

// severityColor is the TextBlock colour of a severity.
func severityColor(s string) string {
	switch s {
	case rota.SeverityCritical, rota.SeverityError:
		return "attention"
	case rota.SeverityWarning:
		return "warning"
	}
	return ""
}

// facts are an incident's FactSet.
func facts(inc rota.Incident, now time.Time) []Fact {
	fs := []Fact{{"Incident", fmt.Sprintf("#%d", inc.ID)}}
	if inc.Service != "" {
		fs = append(fs, Fact{"Service", inc.Service})
	}
	if inc.Severity != "" {
		fs = append(fs, Fact{"Severity", inc.Severity})
	}
	status := string(inc.Status)
	switch {
	case inc.Status == rota.StatusAcknowledged && inc.AckedBy != "":
		status += " by " + inc.AckedBy
	case inc.Status == rota.StatusResolved && inc.ResolvedBy != "":
		status += " by " + inc.ResolvedBy
	}
	if status != "" {
		fs = append(fs, Fact{"Status", status})
	}
	if inc.AlertCount > 0 {
		fs = append(fs, Fact{"Alerts", strconv.Itoa(inc.AlertCount)})
	}
	if !inc.CreatedAt.IsZero() {
		fs = append(fs, Fact{"Triggered", inc.CreatedAt.UTC().Format(timeLayout) + ago(inc.CreatedAt, now)})
	}
	// Facts render Markdown too: a status "by" someone named from
	// outside (a Slack name, an SMS reply's person) is plain text.
	for i := range fs {
		fs[i].Value = notify.EscapeMarkdown(fs[i].Value)
	}
	return fs
}

// ago is " (12 min ago)", or "" without a time to count from.
func ago(t, now time.Time) string {
	if now.IsZero() || now.Before(t) {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return " (just now)"
	case d < time.Hour:
		return fmt.Sprintf(" (%d min ago)", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf(" (%d h ago)", int(d/time.Hour))
	}
	return fmt.Sprintf(" (%d days ago)", int(d/(24*time.Hour)))
}

package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// amMessage is Alertmanager's webhook body (version 4). Grafana's alerting
// webhook is the same envelope with more fields. Fields not listed are
// ignored: both senders add fields between versions.
type amMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
	// Grafana's additions.
	Title   string `json:"title"`
	Message string `json:"message"`
	OrgID   int64  `json:"orgId"`
}

type amAlert struct {
	Status       string             `json:"status"`
	Labels       map[string]string  `json:"labels"`
	Annotations  map[string]string  `json:"annotations"`
	StartsAt     string             `json:"startsAt"`
	EndsAt       string             `json:"endsAt"`
	GeneratorURL string             `json:"generatorURL"`
	Fingerprint  string             `json:"fingerprint"`
	Values       map[string]float64 `json:"values"`
	SilenceURL   string             `json:"silenceURL"`
	DashboardURL string             `json:"dashboardURL"`
	PanelURL     string             `json:"panelURL"`
	ImageURL     string             `json:"imageURL"`
}

// decodeAlertmanager turns a webhook into one event per alert: firing
// triggers, resolved resolves, each deduplicated by its fingerprint.
func decodeAlertmanager(b []byte, integration, wantVersion string) ([]rota.Event, error) {
	var m amMessage
	if err := unmarshal(b, &m, false); err != nil {
		return nil, err
	}
	if m.Version != wantVersion {
		return nil, rota.FieldError("version", "is %q; this endpoint reads version %q", m.Version, wantVersion)
	}
	if len(m.Alerts) == 0 {
		return nil, rota.FieldError("alerts", "is empty")
	}
	events := make([]rota.Event, 0, len(m.Alerts))
	for i, a := range m.Alerts {
		field := fmt.Sprintf("alerts[%d]", i)
		ev := rota.Event{Integration: integration, DedupKey: a.Fingerprint, Actor: integration, GroupKey: m.GroupKey, Labels: a.Labels}
		if ev.DedupKey == "" {
			ev.DedupKey = labelsKey(a.Labels)
		}
		switch a.Status {
		case "firing", "alerting":
			ev.Action = rota.ActionTrigger
		case "resolved", "ok", "normal":
			ev.Action = rota.ActionResolve
		default:
			return nil, rota.FieldError(field+".status", "must be firing or resolved, not %q", a.Status)
		}
		ev.Summary = firstOf(a.Annotations["summary"], a.Annotations["description"], m.Title, a.Labels["alertname"], m.CommonLabels["alertname"])
		if ev.Summary == "" {
			ev.Summary = "alert " + ev.DedupKey
		}
		ev.Summary = truncate(ev.Summary, rota.MaxSummaryLength)
		ev.Severity = severityOf(a.Labels["severity"])
		if t, err := time.Parse(time.RFC3339Nano, a.StartsAt); err == nil && rota.CheckTime("startsAt", t) == nil {
			ev.StartedAt = t
		}
		ev.Source = firstOf(a.Labels["instance"], a.Labels["job"], m.Receiver, integration)
		ev.Source = truncate(ev.Source, rota.MaxSourceLength)
		for _, l := range []rota.Link{{Href: a.GeneratorURL, Text: "Source"}, {Href: a.DashboardURL, Text: "Dashboard"},
			{Href: a.PanelURL, Text: "Panel"}, {Href: a.SilenceURL, Text: "Silence"}, {Href: m.ExternalURL, Text: integration}} {
			if l.Href != "" {
				ev.Links = append(ev.Links, l)
			}
		}
		details := map[string]any{"labels": a.Labels, "annotations": a.Annotations, "startsAt": a.StartsAt, "groupKey": m.GroupKey}
		if len(a.Values) > 0 {
			details["values"] = a.Values
		}
		ev.Details, _ = json.Marshal(details)
		if err := ev.Validate(); err != nil {
			return nil, rota.FieldError(field, "%s", rota.ErrorMessage(err))
		}
		events = append(events, ev)
	}
	return events, nil
}

// severityOf maps a severity label to a severity; unlabelled alerts are
// errors.
func severityOf(label string) string {
	switch s := strings.ToLower(label); s {
	case "critical", "page", "emergency", "fatal":
		return rota.SeverityCritical
	case "warning", "warn":
		return rota.SeverityWarning
	case "info", "informational", "none":
		return rota.SeverityInfo
	default:
		return rota.SeverityError
	}
}

// labelsKey is a dedup key for an alert with no fingerprint: a hash of its
// sorted labels, which is what identifies an Alertmanager alert.
func labelsKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, labels[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

func (s *Server) decodeAlertmanagerRequest(r *http.Request, _ *rota.Service, b []byte) ([]rota.Event, error) {
	return decodeAlertmanager(b, "alertmanager", "4")
}

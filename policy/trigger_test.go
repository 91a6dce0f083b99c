package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

func TestGrouping(t *testing.T) {
	am := &rota.Event{Integration: "alertmanager", GroupKey: `{}:{alertname="HighErrorRate"}`, Summary: "5xx", Severity: "critical",
		Labels: map[string]string{"alertname": "HighErrorRate", "cluster": "eu-1", "instance": "web-1"}}
	long := &rota.Event{Integration: "alertmanager", GroupKey: strings.Repeat("x", 300)}
	plain := &rota.Event{Integration: "native", Summary: "disk full", Severity: "warning"}
	tests := []struct {
		name string
		g    rota.Grouping
		ev   *rota.Event
		want Group
	}{
		{"off", rota.Grouping{Off: true, Window: time.Minute}, am, Group{}},
		{"source group, then window", rota.Grouping{Window: time.Minute}, am, Group{Key: `alertmanager:{}:{alertname="HighErrorRate"}`, Window: time.Minute}},
		{"the default window", rota.Grouping{}, plain, Group{Window: rota.DefaultGroupWindow}},
		{"group_by labels", rota.Grouping{By: []string{"alertname", "cluster"}, Window: time.Minute}, am, Group{Key: "by:alertname=HighErrorRate,cluster=eu-1"}},
		{"group_by a missing label and an event field", rota.Grouping{By: []string{"cluster", "severity"}}, plain, Group{Key: "by:cluster=,severity=warning"}},
		{"a long source key is hashed", rota.Grouping{}, long, Group{Key: "sha256:", Window: rota.DefaultGroupWindow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Grouping(tt.g, tt.ev)
			if tt.want.Key == "sha256:" {
				if !strings.HasPrefix(got.Key, "sha256:") || len(got.Key) != 7+64 || got.Window != tt.want.Window {
					t.Errorf("got %+v", got)
				}
				return
			}
			if got.Key != tt.want.Key || got.Window != tt.want.Window {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTriggerDecides(t *testing.T) {
	now := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	svc := &rota.Service{Name: "api", LowUrgency: []string{rota.SeverityWarning, rota.SeverityInfo}, DeployRouting: rota.DeployAuthorFirst}
	pol := rota.EscalationPolicy{Name: "default", Steps: []rota.EscalationStep{step(5*time.Minute, "rotation:primary")}}
	input := func(ev *rota.Event) TriggerInput {
		return TriggerInput{Event: ev, Service: svc, Policy: pol, Roster: testRoster(), Group: Grouping(svc.Group, ev)}
	}
	ev := &rota.Event{Service: "api", DedupKey: "k", Summary: "5xx", Severity: "critical", Integration: "native", StartedAt: now.Add(-time.Minute)}

	t.Run("a repeat of an open alert", func(t *testing.T) {
		d := Trigger(input(ev), rota.TriggerFacts{Now: now, Open: &rota.Alert{ID: 3}})
		if d.Outcome != rota.TriggerDeduplicated {
			t.Errorf("%+v", d)
		}
	})
	t.Run("a new incident pages its first step", func(t *testing.T) {
		d := Trigger(input(ev), rota.TriggerFacts{Now: now})
		if d.Outcome != rota.TriggerCreated || d.Incident.Summary != "5xx" || !d.Incident.StartedAt.Equal(now.Add(-time.Minute)) ||
			len(d.Step.Notifications) != 2 || d.Step.Notifications[0].Person != "alice" || d.Alert.DedupKey != "k" ||
			len(d.Events) != 1 || d.Events[0].Kind != rota.EventTriggered {
			t.Errorf("%+v", d)
		}
	})
	open := &rota.Incident{ID: 9, Service: "api", Status: rota.StatusTriggered, Summary: "5xx", Severity: "critical", AlertCount: 2,
		Escalation: rota.Escalation{Wave: 1, DueAt: now.Add(4 * time.Minute), State: rota.EscalationActive}}
	t.Run("an alert joins the group's incident before the window's", func(t *testing.T) {
		other := &rota.Incident{ID: 10}
		d := Trigger(input(ev), rota.TriggerFacts{Now: now, Grouped: open, Recent: other})
		if d.Outcome != rota.TriggerGrouped || d.Incident.ID != 9 || len(d.Step.Notifications) != 0 ||
			len(d.Events) != 1 || d.Events[0].Kind != rota.EventAlert || !strings.Contains(d.Events[0].Message, "(3 alerts)") {
			t.Errorf("%+v", d)
		}
		if !d.Incident.Escalation.DueAt.Equal(open.Escalation.DueAt) {
			t.Errorf("joining moved the escalation: %v", d.Incident.Escalation.DueAt)
		}
	})
	t.Run("an alert joins the window's incident", func(t *testing.T) {
		d := Trigger(input(ev), rota.TriggerFacts{Now: now, Recent: open})
		if d.Outcome != rota.TriggerGrouped || d.Incident.ID != 9 {
			t.Errorf("%+v", d)
		}
	})
	t.Run("an urgent alert raises a quiet incident and pages now", func(t *testing.T) {
		quiet := &rota.Incident{ID: 11, Status: rota.StatusTriggered, Severity: "warning",
			Escalation: rota.Escalation{DueAt: now.Add(9 * time.Hour), State: rota.EscalationActive}}
		d := Trigger(input(ev), rota.TriggerFacts{Now: now, Recent: quiet})
		if d.Incident.Severity != "critical" || !d.Incident.Escalation.DueAt.Equal(now) || !strings.Contains(d.Events[0].Message, "paging now") {
			t.Errorf("%+v", d.Incident)
		}
		// A warning joining a critical incident changes nothing.
		warn := *ev
		warn.Severity = "warning"
		d = Trigger(input(&warn), rota.TriggerFacts{Now: now, Recent: open})
		if d.Incident.Severity != "critical" || !d.Incident.Escalation.DueAt.Equal(open.Escalation.DueAt) {
			t.Errorf("%+v", d.Incident)
		}
	})
}

package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

func TestChangeStatus(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	due := now.Add(5 * time.Minute)
	open := func(status rota.Status, esc string) rota.Incident {
		a := rota.Incident{ID: 9, Status: status, Policy: rota.EscalationPolicy{Name: "payments"},
			Escalation: rota.Escalation{State: esc, Step: 2, Round: 0, DueAt: due}}
		if status == rota.StatusAcknowledged {
			a.AckedAt, a.AckedBy = now.Add(-time.Minute), "alice (sms)"
		}
		if esc == rota.EscalationExhausted {
			a.Escalation.DueAt = time.Time{}
		}
		return a
	}
	resolved := open(rota.StatusResolved, rota.EscalationStopped)
	resolved.ResolvedAt, resolved.ResolvedBy = now.Add(-time.Hour), "bruno (web)"
	for _, tt := range []struct {
		name   string
		inc    rota.Incident
		action rota.Action
		// want
		err              string
		changed          bool
		status           rota.Status
		state            string
		due              time.Time
		step, round      int
		alerts           rota.Status
		cancel, update   string
		event, eventKind string
		rearm            bool
	}{
		{name: "acknowledge a triggered incident", inc: open(rota.StatusTriggered, rota.EscalationActive), action: rota.ActionAcknowledge,
			changed: true, status: rota.StatusAcknowledged, state: rota.EscalationStopped, step: 2, alerts: rota.StatusAcknowledged,
			cancel: "incident acknowledged", update: "acknowledged by carol (slack)", event: "acknowledged by carol (slack)", eventKind: rota.EventAcknowledged},
		{name: "acknowledge an acknowledged one: nothing", inc: open(rota.StatusAcknowledged, rota.EscalationStopped), action: rota.ActionAcknowledge,
			status: rota.StatusAcknowledged, state: rota.EscalationStopped, step: 2, due: due},
		{name: "resolve", inc: open(rota.StatusTriggered, rota.EscalationActive), action: rota.ActionResolve,
			changed: true, status: rota.StatusResolved, state: rota.EscalationStopped, step: 2, alerts: rota.StatusResolved,
			cancel: "incident resolved", update: "resolved by carol (slack)", event: "resolved by carol (slack)", eventKind: rota.EventResolved},
		{name: "resolve an exhausted one: its policy stays run out", inc: open(rota.StatusTriggered, rota.EscalationExhausted), action: rota.ActionResolve,
			changed: true, status: rota.StatusResolved, state: rota.EscalationExhausted, step: 2, alerts: rota.StatusResolved,
			cancel: "incident resolved", update: "resolved by carol (slack)", event: "resolved by carol (slack)", eventKind: rota.EventResolved},
		{name: "escalate an acknowledged one: triggered again, the next step now", inc: open(rota.StatusAcknowledged, rota.EscalationStopped), action: rota.ActionEscalate,
			changed: true, status: rota.StatusTriggered, state: rota.EscalationActive, due: now, step: 2, alerts: rota.StatusTriggered, rearm: true,
			update: "escalated by carol (slack)", event: "escalated by carol (slack): the next step runs now", eventKind: rota.EventEscalated},
		{name: "escalate an exhausted one: one more round from step 1", inc: open(rota.StatusTriggered, rota.EscalationExhausted), action: rota.ActionEscalate,
			changed: true, status: rota.StatusTriggered, state: rota.EscalationActive, due: now, step: 0, round: 1, rearm: true,
			update:    "escalated by carol (slack)",
			event:     "escalated by carol (slack): policy payments had run every step; it starts again from step 1 (round 2)",
			eventKind: rota.EventEscalated},
		{name: "a resolved one cannot be acted on", inc: resolved, action: rota.ActionAcknowledge,
			err: "incident 9 was resolved at 2026-03-04T11:00:00Z by bruno (web): it cannot be acknowledged"},
		{name: "nor escalated", inc: resolved, action: rota.ActionEscalate,
			err: "incident 9 was resolved at 2026-03-04T11:00:00Z by bruno (web): it cannot be escalated"},
		{name: "an action that is none", inc: open(rota.StatusTriggered, rota.EscalationActive), action: "snooze",
			err: `must be acknowledge, resolve or escalate, not "snooze"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := ChangeStatus(tt.inc, tt.action, "carol (slack)", now)
			if tt.err != "" {
				if err == nil || !strings.Contains(rota.ErrorMessage(err), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := ch.Incident
			if ch.Changed != tt.changed || a.Status != tt.status || a.Escalation.State != tt.state || !a.Escalation.DueAt.Equal(tt.due) ||
				a.Escalation.Step != tt.step || a.Escalation.Round != tt.round || ch.Alerts != tt.alerts || ch.Cancel != tt.cancel || ch.Rearm != tt.rearm {
				t.Errorf("got changed %v, %s, escalation %s due %v step %d round %d, alerts %q, cancel %q, rearm %v",
					ch.Changed, a.Status, a.Escalation.State, a.Escalation.DueAt, a.Escalation.Step, a.Escalation.Round, ch.Alerts, ch.Cancel, ch.Rearm)
			}
			if !ch.Changed {
				return
			}
			if got := ch.Update.Text(); got != tt.update || ch.Update.By != "carol (slack)" {
				t.Errorf("update %q by %q, want %q", got, ch.Update.By, tt.update)
			}
			if ch.Event.Message != tt.event || ch.Event.Kind != tt.eventKind || ch.Event.IncidentID != 9 || !ch.Event.At.Equal(now) || ch.Event.Actor != "carol (slack)" {
				t.Errorf("event %+v, want %s %q", ch.Event, tt.eventKind, tt.event)
			}
			switch a.Status {
			case rota.StatusAcknowledged:
				if !a.AckedAt.Equal(now) || a.AckedBy != "carol (slack)" {
					t.Errorf("acknowledged at %v by %q", a.AckedAt, a.AckedBy)
				}
			case rota.StatusResolved:
				if !a.ResolvedAt.Equal(now) || a.ResolvedBy != "carol (slack)" {
					t.Errorf("resolved at %v by %q", a.ResolvedAt, a.ResolvedBy)
				}
			case rota.StatusTriggered:
				if !a.AckedAt.IsZero() || a.AckedBy != "" {
					t.Errorf("triggered again, still acknowledged at %v by %q", a.AckedAt, a.AckedBy)
				}
			}
		})
	}
}

func TestAssignedTo(t *testing.T) {
	page := func(person string, wave int, status string, shadow bool) rota.Notification {
		return rota.Notification{Kind: rota.KindPage, Person: person, Wave: wave, Status: status, Shadow: shadow}
	}
	for _, tt := range []struct {
		name  string
		notes []rota.Notification
		want  string
	}{
		{"nobody paged yet", nil, ""},
		{"the first step", []rota.Notification{page("alice", 1, rota.NotifySent, false), page("alice", 1, rota.NotifyPending, false), page("newbie", 1, rota.NotifySent, true)}, "alice"},
		{"the latest step", []rota.Notification{page("alice", 1, rota.NotifySent, false), page("bruno", 2, rota.NotifySent, false), page("chloe", 2, rota.NotifyPending, false),
			{Kind: rota.KindUpdate, Person: "alice", Wave: 3, Status: rota.NotifySent}}, "bruno,chloe"},
		{"a step whose pages all failed is not where it is", []rota.Notification{page("alice", 1, rota.NotifySent, false), page("bruno", 2, rota.NotifyFailed, false)}, "alice"},
	} {
		if got := strings.Join(AssignedTo(tt.notes), ","); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestActOnAlert(t *testing.T) {
	now := time.Date(2026, 3, 4, 2, 0, 0, 0, time.UTC)
	inc := rota.Incident{ID: 9, Status: rota.StatusTriggered, Escalation: rota.Escalation{State: rota.EscalationActive, DueAt: now.Add(time.Minute)}}
	open := rota.Alert{ID: 31, IncidentID: 9, Status: rota.StatusTriggered, Summary: "disk full on db-1"}
	resolved := open
	resolved.Status, resolved.ResolvedAt, resolved.ResolvedBy = rota.StatusResolved, now.Add(-time.Hour), "grafana"
	for _, c := range []struct {
		name         string
		alert        rota.Alert
		others       int
		action       rota.Action
		wantStatus   rota.Status
		wantIncident rota.Status // "" for no change
		wantEvent    string
		wantErr      string
	}{
		{"acknowledging acknowledges the incident", open, 2, rota.ActionAcknowledge, rota.StatusAcknowledged, rota.StatusAcknowledged, "", ""},
		{"resolving the last open alert resolves the incident", open, 0, rota.ActionResolve, rota.StatusResolved, rota.StatusResolved, "", ""},
		{"resolving one of three says two still fire", open, 2, rota.ActionResolve, rota.StatusResolved, "",
			"alert #31 resolved by alice (web) (disk full on db-1); 2 of the incident's alerts still firing", ""},
		{"a resolved alert cannot be acknowledged", resolved, 0, rota.ActionAcknowledge, "", "", "", "alert 31 was resolved at 2026-03-04T01:00:00Z by grafana: it cannot be acknowledged"},
		{"escalating an alert is no alert action", open, 0, rota.ActionEscalate, "", "", "", "must be acknowledge or resolve"},
	} {
		ch, err := ActOnAlert(rota.AlertFacts{Now: now, Alert: c.alert, Incident: inc, OthersOpen: c.others}, c.action, "alice (web)")
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := ""
		if ch.Incident != nil {
			got = string(ch.Incident.Incident.Status)
		}
		ev := ""
		if ch.Event != nil {
			ev = ch.Event.Message
		}
		if ch.Alert.Status != c.wantStatus || got != string(c.wantIncident) || ev != c.wantEvent || ch.AlertChanged != (c.action == rota.ActionResolve) {
			t.Errorf("%s: alert %s (written %v), incident %q, event %q", c.name, ch.Alert.Status, ch.AlertChanged, got, ev)
		}
	}
}

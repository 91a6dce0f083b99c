package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

func testRoster() *scheduler.Roster {
	utc := time.UTC
	people := []*rota.Person{
		{Name: "alice", Location: utc, Contacts: []rota.ContactMethod{{Type: "sms", Address: "+4915112345001"}, {Type: "voice", Address: "+4915112345001", Delay: 2 * time.Minute}}},
		{Name: "bruno", Location: utc, Contacts: []rota.ContactMethod{{Type: "sms", Address: "+4915112345002"}}},
		{Name: "mute", Location: utc},
	}
	rots := []*rota.Rotation{
		{Name: "primary", Members: []string{"alice", "bruno"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: utc, Start: time.Date(2026, 1, 6, 0, 0, 0, 0, utc)},
		{Name: "future", Members: []string{"bruno"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: utc, Start: time.Date(2027, 1, 5, 0, 0, 0, 0, utc)},
	}
	return scheduler.NewRoster(rota.NewOrg(people, nil, rots, nil, nil), nil)
}

func step(delay time.Duration, targets ...string) rota.EscalationStep {
	s := rota.EscalationStep{Delay: delay}
	for _, t := range targets {
		kind, name, _ := strings.Cut(t, ":")
		s.Targets = append(s.Targets, rota.Target{Kind: kind, Name: name})
	}
	return s
}

func TestRunStep(t *testing.T) {
	// 2026-01-07: week 0 of primary, alice on call.
	now := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		steps    []rota.EscalationStep
		repeat   int
		esc      rota.Escalation
		paged    string
		notes    []string // each a substring of one event, in order
		state    string
		next     int
		due      time.Duration // from now; -1 for none
		contacts int
	}{
		{name: "rotation target pages the on-call on every contact method",
			steps: []rota.EscalationStep{step(5*time.Minute, "rotation:primary")},
			paged: "alice", notes: []string{"step 1: paging alice; next step in 5m"}, state: "active", next: 1, due: 5 * time.Minute, contacts: 2},
		{name: "people are paged once however many targets name them",
			steps: []rota.EscalationStep{step(time.Minute, "rotation:primary", "person:alice", "person:bruno")},
			paged: "alice,bruno", notes: []string{"paging alice and bruno"}, state: "active", next: 1, due: time.Minute, contacts: 3},
		{name: "a step paging nobody goes on to the next at once",
			steps: []rota.EscalationStep{step(time.Hour, "rotation:future", "person:mute", "deploy-author", "rotation:gone", "person:ghost"), step(time.Minute, "person:bruno")},
			paged: "bruno",
			notes: []string{"nobody is on call on future", "no deploy to api in the window", "rotation gone is no longer configured", "ghost is no longer configured", "step 1: mute has no contact methods", "step 1 paged nobody", "step 2: paging bruno"},
			state: "active", next: 2, due: time.Minute, contacts: 1},
		{name: "after the last step of the last round the escalation is exhausted",
			steps: []rota.EscalationStep{step(time.Minute, "person:bruno")}, repeat: 1,
			esc:   rota.Escalation{Step: 1, Round: 1, State: "active"},
			notes: []string{"escalation exhausted after 2 rounds: nobody acknowledged"}, state: "exhausted", next: 1, due: -1},
		{name: "a repeat starts the policy again",
			steps: []rota.EscalationStep{step(time.Minute, "person:bruno"), step(time.Minute, "person:alice")}, repeat: 2,
			esc:   rota.Escalation{Step: 2, Round: 0, State: "active"},
			paged: "bruno", notes: []string{"step 1 (round 2): paging bruno"}, state: "active", next: 1, due: time.Minute, contacts: 1},
		{name: "a policy whose every step pages nobody ends",
			steps: []rota.EscalationStep{step(time.Minute, "person:mute"), step(time.Minute, "rotation:future")}, repeat: 3,
			notes: []string{"mute has no contact methods", "step 1 paged nobody", "nobody is on call on future", "step 2 paged nobody"},
			state: "exhausted", due: -1},
		{name: "a policy with no steps is exhausted at once",
			notes: []string{`escalation policy "p" has no steps`}, state: "exhausted", due: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			esc := tt.esc
			if esc.State == "" {
				esc.State = rota.EscalationActive
			}
			a := &rota.Incident{ID: 7, Service: "api", Policy: rota.EscalationPolicy{Name: "p", Steps: tt.steps, Repeat: tt.repeat}, Escalation: esc}
			out := RunStep(a, testRoster(), now)
			if got := strings.Join(out.Paged, ","); got != tt.paged {
				t.Errorf("paged %q, want %q", got, tt.paged)
			}
			var events []string
			for _, e := range out.Events {
				events = append(events, e.Message)
				if e.IncidentID != 7 || !e.At.Equal(now) {
					t.Errorf("event %+v", e)
				}
			}
			i := 0
			for _, ev := range events {
				if i < len(tt.notes) && strings.Contains(ev, tt.notes[i]) {
					i++
				}
			}
			if i != len(tt.notes) {
				t.Errorf("events %q lack %q in order", events, tt.notes)
			}
			if out.Escalation.State != tt.state {
				t.Errorf("state %s, want %s", out.Escalation.State, tt.state)
			}
			if tt.next > 0 && out.Escalation.Step != tt.next {
				t.Errorf("next step %d, want %d", out.Escalation.Step, tt.next)
			}
			if tt.due < 0 && !out.Escalation.DueAt.IsZero() || tt.due >= 0 && !out.Escalation.DueAt.Equal(now.Add(tt.due)) {
				t.Errorf("due %v, want now+%v", out.Escalation.DueAt, tt.due)
			}
			if len(out.Notifications) != tt.contacts {
				t.Errorf("%d notifications, want %d", len(out.Notifications), tt.contacts)
			}
			for _, n := range out.Notifications {
				if n.Wave != out.Escalation.Wave || n.IncidentID != 7 || n.Status != rota.NotifyPending {
					t.Errorf("notification %+v (wave %d)", n, out.Escalation.Wave)
				}
				if n.Channel == "voice" && !n.NextAttempt.Equal(now.Add(2*time.Minute)) {
					t.Errorf("voice not delayed by its contact delay: %v", n.NextAttempt)
				}
			}
		})
	}
}

package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

func TestRebaseWait(t *testing.T) {
	// Wednesday 7 January 2026, 12:00 UTC.
	now := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	window := func(s string) []rota.Window {
		w, err := rota.ParseWindow(s)
		if err != nil {
			t.Fatal(err)
		}
		return []rota.Window{w}
	}
	org := func(delays []time.Duration, maintenance []rota.Window) *rota.Org {
		p := &rota.EscalationPolicy{Name: "p", Repeat: 1}
		for _, d := range delays {
			p.Steps = append(p.Steps, step(d, "rotation:primary"))
		}
		svc := &rota.Service{Name: "api", EscalationPolicy: "p", Maintenance: maintenance, Location: time.UTC, DeployRouting: rota.DeployAuthorFirst}
		return rota.NewOrg(nil, nil, nil, []*rota.Service{svc}, []*rota.EscalationPolicy{p})
	}
	// waiting is an incident whose step stepIdx (1-based) ran at ran with
	// the delays of old, so due at ran + its delay.
	waiting := func(old *rota.Org, stepIdx int, ran time.Time) rota.Incident {
		pol := *old.Policy("p")
		return rota.Incident{ID: 1, Service: "api", Status: rota.StatusTriggered, Policy: pol,
			Escalation: rota.Escalation{State: rota.EscalationActive, Step: stepIdx, DueAt: ran.Add(pol.Steps[stepIdx-1].Delay)}}
	}
	ten, five := []time.Duration{10 * time.Minute, 30 * time.Minute}, []time.Duration{5 * time.Minute, 30 * time.Minute}
	ten3 := []time.Duration{10 * time.Minute, 20 * time.Minute, 30 * time.Minute}
	orgRouted := func(delays []time.Duration, routing string) *rota.Org {
		o := org(delays, nil)
		o.Service("api").DeployRouting = routing
		o.Service("api").DeployGrace = time.Minute
		return o
	}
	held := func(old *rota.Org, until time.Time) rota.Incident {
		inc := waiting(old, 1, now)
		inc.Escalation.Step, inc.Escalation.DueAt, inc.InMaintenance = 0, until, true
		return inc
	}
	for _, tt := range []struct {
		name     string
		inc      rota.Incident
		ran      time.Time
		old, cur *rota.Org
		due      time.Time // zero: unchanged
		delays   []time.Duration
		note     string
	}{
		{name: "a shorter delay moves the next step sooner",
			inc: waiting(org(ten, nil), 1, now.Add(-2*time.Minute)), ran: now.Add(-2 * time.Minute), old: org(ten, nil), cur: org(five, nil),
			due: now.Add(3 * time.Minute), delays: five, note: "the configuration changed policy p: step 1 waits 5m, not 10m: the next step is due at Wed 7 Jan 12:03 UTC"},
		{name: "a longer one later",
			inc: waiting(org(five, nil), 1, now.Add(-2*time.Minute)), ran: now.Add(-2 * time.Minute), old: org(five, nil), cur: org(ten, nil),
			due: now.Add(8 * time.Minute), delays: ten},
		{name: "a delay already past: the next step now",
			inc: waiting(org(ten, nil), 1, now.Add(-7*time.Minute)), ran: now.Add(-7 * time.Minute), old: org(ten, nil), cur: org(five, nil),
			due: now, delays: five},
		{name: "another step's delay: kept for later, this wait unmoved",
			inc: waiting(org(ten, nil), 1, now.Add(-2*time.Minute)), ran: now.Add(-2 * time.Minute), old: org(ten, nil), cur: org([]time.Duration{10 * time.Minute, time.Hour}, nil),
			delays: []time.Duration{10 * time.Minute, time.Hour}, note: "the steps to come wait as it says now"},
		{name: "nothing changed",
			inc: waiting(org(ten, nil), 1, now.Add(-2*time.Minute)), ran: now.Add(-2 * time.Minute), old: org(ten, nil), cur: org(ten, nil)},
		{name: "a reshaped policy: the incident keeps the one it started with",
			inc: waiting(org(ten, nil), 1, now.Add(-2*time.Minute)), ran: now.Add(-2 * time.Minute), old: org(ten, nil), cur: org([]time.Duration{5 * time.Minute}, nil)},
		{name: "a wait that is not the step's delay (quiet hours) is left",
			inc: func() rota.Incident {
				i := waiting(org(ten, nil), 1, now)
				i.Escalation.DueAt = now.Add(5 * time.Hour)
				return i
			}(),
			ran: now, old: org(ten, nil), cur: org(five, nil), delays: five, note: "the steps to come"},
		{name: "a maintenance window made longer holds until its new end",
			inc: held(org(ten, window("wed 11:00-13:00")), time.Date(2026, 1, 7, 13, 0, 0, 0, time.UTC)),
			old: org(ten, window("wed 11:00-13:00")), cur: org(ten, window("wed 11:00-15:00")),
			due: time.Date(2026, 1, 7, 15, 0, 0, 0, time.UTC), note: "changed api's maintenance windows: recurring maintenance until Wed 7 Jan 15:00 UTC"},
		{name: "a maintenance window removed: the step runs now",
			inc: held(org(ten, window("wed 11:00-13:00")), time.Date(2026, 1, 7, 13, 0, 0, 0, time.UTC)),
			old: org(ten, window("wed 11:00-13:00")), cur: org(ten, nil),
			due: now, note: "it is no longer in maintenance: the next step runs now"},
		{name: "a maintenance hold unchanged: the new delays are kept for the steps to come",
			inc: held(org(ten, window("wed 11:00-13:00")), time.Date(2026, 1, 7, 13, 0, 0, 0, time.UTC)),
			old: org(ten, window("wed 11:00-13:00")), cur: org(five, window("wed 11:00-13:00")),
			delays: five, note: "the steps to come wait as it says now"},
		{name: "deploy routing turned on with a step fewer: the same count, other steps: left",
			inc: func() rota.Incident {
				i := waiting(orgRouted(ten3, rota.DeployOff), 1, now.Add(-2*time.Minute))
				i.Deploy = &rota.Deploy{Commit: "abc"}
				return i
			}(),
			ran: now.Add(-2 * time.Minute), old: orgRouted(ten3, rota.DeployOff), cur: orgRouted(five, rota.DeployAuthorFirst)},
		{name: "acknowledged: nothing waits",
			inc: func() rota.Incident {
				i := waiting(org(ten, nil), 1, now)
				i.Status = rota.StatusAcknowledged
				return i
			}(),
			ran: now, old: org(ten, nil), cur: org(five, nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, note, changed := RebaseWait(tt.inc, tt.ran, tt.old, tt.cur, nil, now)
			wantChanged := !tt.due.IsZero() || tt.delays != nil
			if changed != wantChanged {
				t.Fatalf("changed %v, want %v (%q)", changed, wantChanged, note)
			}
			want := tt.inc.Escalation.DueAt
			if !tt.due.IsZero() {
				want = tt.due
			}
			if !got.Escalation.DueAt.Equal(want) {
				t.Errorf("due %s, want %s", got.Escalation.DueAt, want)
			}
			if tt.delays != nil {
				for i, d := range tt.delays {
					if got.Policy.Steps[i].Delay != d {
						t.Errorf("step %d waits %s, want %s", i+1, got.Policy.Steps[i].Delay, d)
					}
				}
				if tt.inc.Policy.Steps[0].Delay == got.Policy.Steps[0].Delay && tt.inc.Policy.Steps[1].Delay == got.Policy.Steps[1].Delay {
					t.Error("the incident's policy was not updated")
				}
			}
			if !strings.Contains(note, tt.note) {
				t.Errorf("note %q, want %q in it", note, tt.note)
			}
		})
	}
}

package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

// TestMoveWait: a waiting incident is listed with when its step ran; its
// wait moves once, from the due time it was read with, with its policy's
// new delays and a timeline note; a second move from the same due time
// (another daemon's reload) changes nothing.
func TestMoveWait(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	t0 := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return t0 }
	pol := rota.EscalationPolicy{Name: "p", Steps: []rota.EscalationStep{{Delay: time.Hour}, {Delay: time.Hour}}}
	ev := rota.Event{Service: "api", DedupKey: "k", Summary: "x", Severity: "critical", Integration: "native", Action: rota.ActionTrigger}
	inc, _, err := db.TriggerAlert(ctx, &ev, pol, func(a *rota.Incident, now time.Time) rota.StepOutcome {
		return rota.StepOutcome{Escalation: rota.Escalation{State: rota.EscalationActive, Step: 1, Wave: 1, DueAt: now.Add(time.Hour)},
			Events: []rota.IncidentEvent{{At: now, Kind: rota.EventEscalated, Message: "step 1: paging alice"}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return t0.Add(time.Minute) }
	incs, ran, err := db.Waiting(ctx, t0.Add(time.Minute))
	if err != nil || len(incs) != 1 || !ran[inc.ID].Equal(t0) || !incs[0].Escalation.DueAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("waiting: %+v ran %v, %v", incs, ran, err)
	}
	next := incs[0]
	next.Policy.Steps = []rota.EscalationStep{{Delay: 2 * time.Minute}, {Delay: time.Hour}}
	next.Escalation.DueAt = t0.Add(2 * time.Minute)
	if moved, err := db.MoveWait(ctx, next, incs[0].Escalation.DueAt, "the configuration changed policy p"); err != nil || !moved {
		t.Fatalf("move: %v %v", moved, err)
	}
	if again, err := db.MoveWait(ctx, next, incs[0].Escalation.DueAt, "again"); err != nil || again {
		t.Errorf("a second move from the old due time: %v %v", again, err)
	}
	got, err := db.Incident(ctx, inc.ID)
	if err != nil || !got.Escalation.DueAt.Equal(t0.Add(2*time.Minute)) || got.Policy.Steps[0].Delay != 2*time.Minute {
		t.Errorf("after the move: due %s, policy %+v, %v", got.Escalation.DueAt, got.Policy.Steps, err)
	}
	events, _, err := db.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, e := range events {
		if e.Kind == rota.EventReload {
			notes = append(notes, e.Actor+": "+e.Message)
		}
	}
	if strings.Join(notes, "|") != "rotad (reload): the configuration changed policy p" {
		t.Errorf("reload notes: %q", notes)
	}
}

package paging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

var heartbeatConfig = strings.Replace(engineConfig, `[[services]]
name = "batch"
team = "payments"
escalation_policy = "single"
group = "off"`, `[[services]]
name = "batch"
team = "payments"
escalation_policy = "single"
group = "off"
  [[services.heartbeats]]
  name = "nightly"
  timeout = "25h"
  severity = "error"`, 1)

// TestHeartbeatMissedAndBack: a heartbeat is watched from its first beat;
// past its timeout an incident opens (once, however often the engine
// looks); the next beat resolves it.
func TestHeartbeatMissedAndBack(t *testing.T) {
	h := newHarnessWith(t, heartbeatConfig)
	ctx := context.Background()
	if _, err := h.engine.Beat(ctx, "batch", "weekly", "service batch (key)"); rota.ErrorCode(err) != rota.ENOTFOUND {
		t.Fatalf("an undeclared heartbeat: %v", err)
	}
	h.expect("never beaten: not watched", h.step(48*time.Hour))
	hb, err := h.engine.Beat(ctx, "batch", "nightly", "service batch (key)")
	if err != nil || !hb.Deadline.Equal(hb.Last.Add(25*time.Hour)) {
		t.Fatalf("beat: %+v %v", hb, err)
	}
	if next, ok, err := h.db.NextDue(ctx); err != nil || !ok || !next.Equal(hb.Deadline) {
		t.Errorf("the engine does not wake for the deadline: %v %v %v", next, ok, err)
	}
	h.expect("within the timeout", h.step(25*time.Hour-time.Second))
	h.expect("missed: bruno paged", h.step(time.Second), "sms bruno 1")
	a := h.alert(1)
	if a.Service != "batch" || a.Severity != "error" || !strings.Contains(a.Summary, "heartbeat nightly missed: no beat since") {
		t.Errorf("incident: %+v", a)
	}
	h.expect("once", h.step(time.Hour))
	if _, err := h.engine.Beat(ctx, "batch", "nightly", "service batch (key)"); err != nil {
		t.Fatal(err)
	}
	if a := h.alert(1); a.Status != rota.StatusResolved || a.ResolvedBy != "service batch (key)" {
		t.Errorf("after the beat: %+v", a)
	}
}

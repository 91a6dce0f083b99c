package paging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/scheduler"
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
	// Once; its one-step policy runs out and the manager is told.
	h.expect("once", h.step(time.Hour), "webhook chloe ")
	if _, err := h.engine.Beat(ctx, "batch", "nightly", "service batch (key)"); err != nil {
		t.Fatal(err)
	}
	if a := h.alert(1); a.Status != rota.StatusResolved || a.ResolvedBy != "service batch (key)" {
		t.Errorf("after the beat: %+v", a)
	}
}

var maintenanceConfig = strings.Replace(engineConfig, `[[services]]
name = "api"
team = "payments"
escalation_policy = "default"
group = "off"`, `[[services]]
name = "api"
team = "payments"
escalation_policy = "default"
group = "off"
maintenance = ["wed 13:00-14:00"]`, 1)

// TestRecurringMaintenance: an alert in the service's weekly window is
// recorded and pages nobody; still firing at the window's end, it pages
// as usual; one resolved in the window never pages.
func TestRecurringMaintenance(t *testing.T) {
	h := newHarnessWith(t, maintenanceConfig)
	// The harness starts Wed 4 Mar 12:00 UTC, 13:00 in Berlin: in the
	// window until 14:00 (13:00 UTC).
	a := h.trigger("api", "k1")
	b := h.trigger("api", "k2")
	h.expect("in maintenance: nobody", h.step(0))
	if got := h.alert(a.ID); !got.InMaintenance || !got.Escalation.DueAt.Equal(time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("held incident: %+v", got)
	}
	if _, err := h.engine.SetStatus(context.Background(), b.ID, rota.ActionResolve, "alice (web)"); err != nil {
		t.Fatal(err)
	}
	h.expect("still nobody", h.step(59*time.Minute))
	h.expect("the window ends, still firing: paged", h.step(time.Minute), "sms alice 1")
	if tl := h.timeline(a.ID); !strings.Contains(tl, "recurring maintenance until Wed 4 Mar 14:00 CET: paging nobody; if it still fires then, the policy starts") {
		t.Errorf("timeline:\n%s", tl)
	}
	pages, _ := h.db.Pages(context.Background(), time.Time{})
	for _, p := range pages {
		if p.IncidentID == b.ID {
			t.Errorf("the incident resolved in maintenance was charged: %+v", p)
		}
	}
}

// TestAdHocMaintenance: a window set now holds an open incident's next
// step and its waiting voice call, and new alerts; ended early, what
// waited goes at once.
func TestAdHocMaintenance(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.trigger("api", "k1")
	h.expect("paged before the window", h.step(0), "sms alice 1")
	m := rota.Maintenance{Service: "api", Start: h.clock.Now(), End: h.clock.Now().Add(2 * time.Hour), Reason: "database upgrade", CreatedBy: "chloe (web)"}
	if err := h.db.StartMaintenance(ctx, &m); err != nil {
		t.Fatal(err)
	}
	h.expect("alice's call (due at 2m) waits", h.step(2*time.Minute))
	h.expect("step 2 (due at 5m) waits", h.step(3*time.Minute))
	c := h.trigger("api", "k2")
	h.expect("a new alert waits", h.step(time.Minute))
	tl := h.timeline(a.ID)
	for _, want := range []string{"voice to alice held: maintenance (database upgrade) until", "maintenance (database upgrade) until Wed 4 Mar 15:00 CET: the next step waits for it to end"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
	// Ended after 10 minutes, not 2 hours: everything that waited goes.
	if _, err := h.engine.EndMaintenance(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	h.expect("at once", h.step(time.Second), "voice alice 1", "sms bruno 1", "webhook chloe 1", "sms alice 2")
	if tl := h.timeline(a.ID); !strings.Contains(tl, "maintenance window 1 (database upgrade) ended early") {
		t.Errorf("timeline:\n%s", tl)
	}
	if got := h.alert(c.ID); !got.InMaintenance {
		t.Errorf("the incident opened in the window: %+v", got)
	}
	if _, err := h.db.EndMaintenance(ctx, m.ID); rota.ErrorCode(err) != rota.ECONFLICT {
		t.Errorf("ending it twice: %v", err)
	}
}

// TestReloadMovesHeartbeatDeadlines: a reload that lengthens a
// heartbeat's timeout pages nobody at the old deadline (found by the
// check, and moved by the reload's rebase alike); one that shortens it
// holds from the moment it applies.
func TestReloadMovesHeartbeatDeadlines(t *testing.T) {
	h := newHarnessWith(t, heartbeatConfig)
	ctx := context.Background()
	reload := func(timeout string) {
		t.Helper()
		cfg, err := config.Parse("engine.toml", []byte(strings.Replace(heartbeatConfig, `timeout = "25h"`, `timeout = "`+timeout+`"`, 1)), t.TempDir(),
			func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		h.book.Update(func(old *scheduler.Roster) (*scheduler.Roster, error) { return old.WithOrg(cfg.Org), nil })
	}
	if _, err := h.engine.Beat(ctx, "batch", "nightly", "service batch (key)"); err != nil {
		t.Fatal(err)
	}
	// Lengthened, and the check finds the old deadline first (another
	// daemon reloaded; this one did not rebase).
	reload("49h")
	h.expect("past the old deadline, within the new: nobody", h.step(25*time.Hour))
	h.expect("still within the new timeout", h.step(24*time.Hour-time.Second))
	h.expect("past the new: bruno paged", h.step(time.Second), "sms bruno 1")

	// Back up, then shortened, with the reload's rebase: the deadline
	// comes forward.
	if _, err := h.engine.Beat(ctx, "batch", "nightly", "service batch (key)"); err != nil {
		t.Fatal(err)
	}
	reload("2h")
	if err := h.engine.RebaseHeartbeats(ctx); err != nil {
		t.Fatal(err)
	}
	hbs, err := h.db.Heartbeats(ctx)
	if err != nil || len(hbs) != 1 || !hbs[0].Deadline.Equal(hbs[0].Last.Add(2*time.Hour)) {
		t.Fatalf("after the rebase: %+v %v", hbs, err)
	}
	h.expect("within the shorter timeout", h.step(2*time.Hour-time.Second))
	h.expect("past it: paged again", h.step(time.Second), "sms bruno 2")
}

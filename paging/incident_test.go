package paging_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/policy"
)

// TestStormIsOneIncident: an Alertmanager group of 20 alerts arriving over
// two minutes and 5 Grafana alerts on the same service are one incident:
// the on-call gets one message per channel, one page is recorded, and the
// incident's timeline holds every alert. Acknowledging it by any alert
// stops it all; it resolves when the last alert does.
func TestStormIsOneIncident(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var first rota.TriggerResult
	for i := 0; i < 20; i++ {
		res, err := h.engine.Trigger(ctx, rota.Event{Service: "web", DedupKey: fmt.Sprintf("am-%d", i), Summary: fmt.Sprintf("5xx on web-%d", i),
			Severity: "critical", Integration: "alertmanager", GroupKey: `{}:{alertname="HighErrorRate"}`})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = res
			if res.Outcome != rota.TriggerCreated {
				t.Fatalf("first alert: %+v", res)
			}
		} else if res.Outcome != rota.TriggerGrouped || res.Incident.ID != first.Incident.ID {
			t.Fatalf("alert %d: %+v", i, res)
		}
		if i == 0 {
			h.expect("the on-call at once", h.step(0), fmt.Sprintf("sms alice %d", first.Incident.ID))
		} else {
			h.expect("nobody new", h.step(6*time.Second))
		}
	}
	for i := 0; i < 5; i++ {
		res, err := h.engine.Trigger(ctx, rota.Event{Service: "web", DedupKey: fmt.Sprintf("grafana-%d", i), Summary: "latency",
			Severity: "warning", Integration: "grafana", GroupKey: "grafana-group"})
		if err != nil || res.Outcome != rota.TriggerGrouped || res.Incident.ID != first.Incident.ID {
			t.Fatalf("grafana alert %d: %+v %v", i, res, err)
		}
	}
	// alice's voice call comes 2 minutes after her SMS, as her contact
	// methods say: one message per channel.
	inc := h.alert(first.Incident.ID)
	if inc.AlertCount != 25 || inc.Severity != "critical" || inc.Status != rota.StatusTriggered {
		t.Fatalf("incident: %+v", inc)
	}
	// Charged one page: one incident reached her, in one interruption.
	pages, _ := h.db.Pages(ctx, time.Time{})
	if len(pages) != 1 || pages[0].Person != "alice" {
		t.Errorf("pages: %+v, want alice's one", pages)
	}
	if week, _, _ := h.db.BudgetFacts(ctx, "alice", time.Time{}, time.Time{}, h.clock.Now()); len(week) != 1 {
		t.Errorf("interruptions: %+v, want one", week)
	}
	if tl := h.timeline(inc.ID); strings.Count(tl, "alert: alert from") != 24 || !strings.Contains(tl, "(25 alerts)") {
		t.Errorf("timeline:\n%s", tl)
	}
	// A repeat of one of its alerts counts on the alert.
	if res, _ := h.engine.Trigger(ctx, rota.Event{Service: "web", DedupKey: "am-3", Summary: "5xx on web-3", Severity: "critical", Integration: "alertmanager"}); res.Outcome != rota.TriggerDeduplicated || res.Alert.Count != 2 {
		t.Errorf("repeat: %+v", res)
	}
	// Acknowledged through one alert's dedup key, the incident stops.
	if a, err := h.engine.FollowUp(ctx, "web", "grafana-2", rota.ActionAcknowledge, "alice"); err != nil || a.Status != rota.StatusAcknowledged {
		t.Fatalf("ack: %+v %v", a, err)
	}
	h.expect("no voice call, no step 2", h.step(time.Hour))
	if got := h.alert(inc.ID); got.Status != rota.StatusAcknowledged || got.AckedBy != "alice" {
		t.Fatalf("after ack: %+v", got)
	}
	// Resolved one by one by their sources, it resolves with the last.
	alerts, _ := h.db.IncidentAlerts(ctx, inc.ID)
	if len(alerts) != 25 {
		t.Fatalf("%d alerts", len(alerts))
	}
	for i, a := range alerts {
		if a.Status != rota.StatusAcknowledged {
			t.Errorf("alert %d is %s with its incident acknowledged", a.ID, a.Status)
		}
		if _, err := h.engine.FollowUp(ctx, "web", a.DedupKey, rota.ActionResolve, a.Integration); err != nil {
			t.Fatal(err)
		}
		if got := h.alert(inc.ID); (got.Status == rota.StatusResolved) != (i == len(alerts)-1) {
			t.Fatalf("after %d of %d alerts resolved, the incident is %s", i+1, len(alerts), got.Status)
		}
	}
	if tl := h.timeline(inc.ID); !strings.Contains(tl, "alert_resolved: alert #") || !strings.HasSuffix(tl, "resolved: resolved by grafana") {
		t.Errorf("timeline:\n%s", tl)
	}
	// After it resolved, the service's next alert is a new incident.
	if res, _ := h.engine.Trigger(ctx, rota.Event{Service: "web", DedupKey: "am-0", Summary: "again", Severity: "critical", Integration: "alertmanager"}); res.Outcome != rota.TriggerCreated {
		t.Errorf("after resolve: %+v", res)
	}
}

// TestGroupingWindowAndContent: past the window, the service's alerts open
// a new incident; with group_by, alerts group by their fields' values.
func TestGroupingWindowAndContent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.trigger("web", "k1")
	h.step(0)
	h.clock.Advance(4 * time.Minute)
	if b := h.trigger("web", "k2"); b.ID != a.ID {
		t.Errorf("inside the window: incident %d, want %d", b.ID, a.ID)
	}
	h.clock.Advance(2 * time.Minute)
	if c := h.trigger("web", "k3"); c.ID == a.ID {
		t.Error("past the window, an alert joined the old incident")
	}
	ev := func(key, cluster string) rota.TriggerResult {
		res, err := h.engine.Trigger(ctx, rota.Event{Service: "queue", DedupKey: key, Summary: "lag", Severity: "critical", Integration: "alertmanager",
			Labels: map[string]string{"alertname": "KafkaLag", "cluster": cluster}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	eu := ev("q1", "eu")
	us := ev("q2", "us")
	eu2 := ev("q3", "eu")
	if eu.Incident.ID == us.Incident.ID || eu2.Incident.ID != eu.Incident.ID || eu2.Outcome != rota.TriggerGrouped {
		t.Errorf("group_by: eu %d, us %d, eu again %d (%s)", eu.Incident.ID, us.Incident.ID, eu2.Incident.ID, eu2.Outcome)
	}
	// A content group stays one incident while it is open, however old.
	h.clock.Advance(3 * time.Hour)
	if eu3 := ev("q4", "eu"); eu3.Incident.ID != eu.Incident.ID {
		t.Errorf("hours later, eu: incident %d, want %d", eu3.Incident.ID, eu.Incident.ID)
	}
}

// TestQuietIncidentWakesForUrgentAlert: a warning waits for business
// hours; a critical alert joining its incident pages now.
func TestQuietIncidentWakesForUrgentAlert(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.clock.Set(time.Date(2026, 3, 4, 23, 0, 0, 0, time.UTC)) // midnight in Berlin
	res, err := h.engine.Trigger(ctx, rota.Event{Service: "web", DedupKey: "w", Summary: "disk 80%", Severity: "warning", Integration: "native"})
	if err != nil {
		t.Fatal(err)
	}
	h.expect("a warning waits for the morning", h.step(0))
	if _, err := h.engine.Trigger(ctx, rota.Event{Service: "web", DedupKey: "c", Summary: "disk full", Severity: "critical", Integration: "native"}); err != nil {
		t.Fatal(err)
	}
	h.expect("the critical alert pages at once", h.step(0), fmt.Sprintf("sms alice %d", res.Incident.ID))
	if got := h.alert(res.Incident.ID); got.Severity != "critical" || got.AlertCount != 2 {
		t.Errorf("%+v", got)
	}
}

// TestAccountingAfterCrash: pages recorded by an engine that never
// accounted them (it crashed between the two) are accounted by the next
// one: the burn is recorded and the manager told, once, however often the
// engine runs.
func TestAccountingAfterCrash(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// The harness's engine has no BurnStore: it records pages and never
	// accounts them, as one killed between the two would.
	for i := 1; i <= 3; i++ {
		h.trigger("batch", fmt.Sprintf("k%d", i))
		h.step(0)
		h.clock.Advance(31 * time.Minute)
	}
	items, err := h.db.PendingAccounting(ctx, 10)
	if err != nil || len(items) != 3 {
		t.Fatalf("pending: %+v %v", items, err)
	}
	// On PostgreSQL that read claimed them, as the crashed daemon may
	// have: they are the next daemon's once its lease is over.
	h.clock.Advance(time.Minute)
	// Acknowledged: their managers are not told of unanswered incidents,
	// only of the budget.
	for id := int64(1); id <= 3; id++ {
		if _, err := h.db.ChangeStatus(ctx, id, func(a rota.Incident, now time.Time) (rota.StatusChange, error) {
			return policy.ChangeStatus(a, rota.ActionAcknowledge, "bruno (sms)", now)
		}); err != nil {
			t.Fatal(err)
		}
	}
	h.phone.take()
	restarted := paging.New(paging.Options{Store: h.db, Book: h.book, Now: h.clock.Now, Burns: h.db,
		Notifiers: notify.NewRegistry(h.phone, nil)})
	for i := 0; i < 3; i++ {
		if err := restarted.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.phone.take(); len(got) != 1 || got[0] != "webhook chloe " {
		t.Errorf("sent %q, want chloe's one notice", got)
	}
	if items, _ := h.db.PendingAccounting(ctx, 10); len(items) != 0 {
		t.Errorf("still pending: %+v", items)
	}
	if tl := h.timeline(3); !strings.Contains(tl, "burn: human budget: bruno (team payments) burned the weekly human budget: 3 pages this week") {
		t.Errorf("timeline:\n%s", tl)
	}
}

// TestStepReachingNobodyEscalatesAtOnce: alice's contacts all fail for
// good; her step does not wait its five minutes: the next runs at once,
// and the timeline says why.
func TestStepReachingNobodyEscalatesAtOnce(t *testing.T) {
	h := newHarness(t)
	h.phone.fail = func(m notify.Message) error {
		if m.Person == "alice" {
			return notify.Permanent(errors.New("number disconnected"))
		}
		return nil
	}
	a := h.trigger("api", "k1")
	h.expect("her SMS fails", h.step(0))
	h.expect("her call, brought forward, fails", h.step(time.Second))
	h.expect("the next step at once", h.step(0), fmt.Sprintf("sms bruno %d", a.ID), fmt.Sprintf("webhook chloe %d", a.ID))
	tl := h.timeline(a.ID)
	for _, want := range []string{"sms to alice failed (will not retry): number disconnected; trying voice at once",
		"step_failed: the step reached nobody: every notification of it failed for good; the next step runs now", "step 2: paging bruno and chloe"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
}

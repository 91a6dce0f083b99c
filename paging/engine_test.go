package paging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/policy"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

// On 2026-03-04 (week 8 of the rotations) the primary rotation has alice on
// call, the secondary bruno.
const engineConfig = `
[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [
  { type = "sms", address = "+4915112345001" },
  { type = "voice", address = "+4915112345001", delay = "2m" },
]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345002" }]
[[people]]
name = "chloe"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "https://hooks.example.com/chloe" }]
[[people]]
name = "nobody"
timezone = "Europe/Berlin"

[[teams]]
name = "payments"
members = ["alice", "bruno", "chloe", "nobody"]
managers = ["chloe"]
timezone = "Europe/Berlin"

[[rotations]]
name = "primary"
team = "payments"
members = ["alice", "bruno"]
start = 2026-01-06
[[rotations]]
name = "secondary"
team = "payments"
members = ["bruno", "alice"]
start = 2026-01-06

[[escalation_policies]]
name = "default"
repeat = 1
  [[escalation_policies.steps]]
  targets = ["rotation:primary"]
  delay = "5m"
  [[escalation_policies.steps]]
  targets = ["rotation:secondary", "person:chloe"]
  delay = "10m"

[[escalation_policies]]
name = "single"
steps = [{ targets = ["person:bruno"], delay = "5m" }]

[[services]]
name = "api"
team = "payments"
escalation_policy = "default"
group = "off"
[[services]]
name = "batch"
team = "payments"
escalation_policy = "single"
group = "off"
[[services]]
name = "web"
team = "payments"
escalation_policy = "default"
group_window = "5m"
[[services]]
name = "queue"
team = "payments"
escalation_policy = "default"
group_by = ["alertname", "cluster"]
`

// phone records what notifiers were asked to send, and fails on demand.
type phone struct {
	mu   sync.Mutex
	sent []notify.Message
	// fail returns the error for the next message on a channel, or nil.
	fail func(m notify.Message) error
}

func (p *phone) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		if err := p.fail(m); err != nil {
			return notify.Receipt{}, err
		}
	}
	p.sent = append(p.sent, m)
	return notify.Receipt{ID: fmt.Sprintf("SM%d", m.NotificationID)}, nil
}

func (p *phone) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.sent {
		var ids []string
		for _, a := range m.Incidents {
			ids = append(ids, fmt.Sprint(a.ID))
		}
		line := fmt.Sprintf("%s %s %s", m.Channel, m.Person, strings.Join(ids, ","))
		if m.Kind == notify.KindUpdate {
			line += " " + m.Update.Action.PastTense() // an update, not a page
		}
		out = append(out, line)
	}
	p.sent = nil
	sort.Strings(out) // deliveries run concurrently
	return out
}

type harness struct {
	t      *testing.T
	clock  *clocktest.Fake
	db     *store.DB
	book   *scheduler.Book
	engine *paging.Engine
	phone  *phone
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, engineConfig)
}

// newHarnessWith is a harness on another configuration.
func newHarnessWith(t *testing.T, text string) *harness {
	t.Helper()
	cfg, err := config.Parse("engine.toml", []byte(text), t.TempDir(), func(k string) (string, bool) {
		if k == "ROTA_TEST_TEAMS_URL" {
			return "https://example.webhook.office.com/workflows/payments", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.Options{Synchronous: store.SyncNormal})
	h := &harness{t: t, clock: clocktest.NewFake(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)), db: db, phone: &phone{}}
	db.Now = h.clock.Now
	h.book = scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))
	h.engine = paging.New(paging.Options{
		Store: db, Book: h.book, Now: h.clock.Now, Notifiers: notify.NewRegistry(h.phone, nil),
	})
	return h
}

func (h *harness) trigger(service, key string) rota.Incident {
	h.t.Helper()
	res, err := h.engine.Trigger(context.Background(), rota.Event{Service: service, DedupKey: key, Summary: "5xx above 2% on " + key, Severity: "critical", Integration: "native"})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Incident
}

// step advances the clock by d and runs the engine once.
func (h *harness) step(d time.Duration) []string {
	h.t.Helper()
	h.clock.Advance(d)
	if err := h.engine.RunOnce(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	return h.phone.take()
}

// waitUntil waits for cond, looking every few milliseconds, and fails t
// when it has not held within 10s: long enough for a busy machine, and
// only a failure waits that long.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (h *harness) expect(what string, got []string, want ...string) {
	h.t.Helper()
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		h.t.Fatalf("%s: sent %q, want %q", what, got, want)
	}
}

func (h *harness) alert(id int64) rota.Incident {
	h.t.Helper()
	a, err := h.db.Incident(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) timeline(id int64) string {
	h.t.Helper()
	events, _, err := h.db.Timeline(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var lines []string
	for _, e := range events {
		lines = append(lines, e.Kind+": "+e.Message)
	}
	return strings.Join(lines, "\n")
}

func TestStepsDelaysAndRepeat(t *testing.T) {
	h := newHarness(t)
	a := h.trigger("api", "k1")
	h.expect("at once", h.step(0), "sms alice 1")
	h.expect("voice waits its 2m", h.step(time.Minute+59*time.Second))
	h.expect("voice after 2m", h.step(time.Second), "voice alice 1")
	h.expect("step 2 waits 5m", h.step(2*time.Minute+59*time.Second))
	h.expect("step 2", h.step(time.Second), "sms bruno 1", "webhook chloe 1")
	h.expect("quiet for 10m", h.step(9*time.Minute+59*time.Second))
	// repeat = 1: the policy runs once more.
	// chloe's webhook, paged in step 2, hears where the incident went.
	h.expect("round 2", h.step(time.Second), "sms alice 1", "webhook chloe 1 escalated")
	h.step(2 * time.Minute) // alice's voice call of round 2
	h.expect("round 2 step 2", h.step(3*time.Minute), "sms bruno 1", "webhook chloe 1")
	// The policy has run out with nobody acknowledging: the team's
	// manager (chloe) is told, once.
	h.expect("the manager told after the last step", h.step(10*time.Minute), "webhook chloe ")
	if tl := h.timeline(a.ID); !strings.Contains(tl, "nobody acknowledged: telling chloe by webhook") {
		t.Errorf("timeline:\n%s", tl)
	}
	h.expect("once", h.step(time.Hour))
	got := h.alert(a.ID)
	if got.Status != rota.StatusTriggered || got.Escalation.State != rota.EscalationExhausted || !got.Escalation.DueAt.IsZero() {
		t.Fatalf("after the policy ran out: %s %+v", got.Status, got.Escalation)
	}
	if tl := h.timeline(a.ID); !strings.Contains(tl, "exhausted: escalation exhausted after 2 rounds") || !strings.Contains(tl, "step 1 (round 2): paging alice") {
		t.Errorf("timeline:\n%s", tl)
	}
	pages, _ := h.db.Pages(context.Background(), time.Time{})
	if len(pages) != 3 {
		t.Errorf("pages: %+v, want one each for alice, bruno and chloe", pages)
	}
	h.expect("nothing more, ever", h.step(time.Hour))
}

func TestAckStopsEscalation(t *testing.T) {
	h := newHarness(t)
	a := h.trigger("api", "k1")
	h.expect("at once", h.step(0), "sms alice 1")
	if _, err := h.engine.SetStatus(context.Background(), a.ID, rota.ActionAcknowledge, "alice"); err != nil {
		t.Fatal(err)
	}
	h.expect("no voice call, no step 2", h.step(time.Hour))
	got := h.alert(a.ID)
	if got.Status != rota.StatusAcknowledged || got.AckedBy != "alice" || got.Escalation.State != rota.EscalationStopped {
		t.Fatalf("%+v", got)
	}
	_, ns, _ := h.db.Timeline(context.Background(), a.ID)
	if len(ns) != 2 || ns[1].Status != rota.NotifyCancelled {
		t.Errorf("the pending voice call was not cancelled: %+v", ns)
	}
	// A trigger for the acknowledged alert pages no one.
	if b, _ := h.engine.Trigger(context.Background(), rota.Event{Service: "api", DedupKey: "k1", Summary: "again", Severity: "critical"}); b.Outcome != rota.TriggerDeduplicated || b.Incident.ID != a.ID || b.Alert.Count != 2 {
		t.Errorf("trigger while acknowledged: %+v", b)
	}
	h.expect("still nothing", h.step(time.Minute))
	// Resolving, then acknowledging the resolved alert, conflicts.
	if _, err := h.engine.SetStatus(context.Background(), a.ID, rota.ActionResolve, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.SetStatus(context.Background(), a.ID, rota.ActionAcknowledge, "bruno"); rota.ErrorCode(err) != rota.ECONFLICT {
		t.Errorf("ack after resolve: %v", err)
	}
	// After resolve, the same key opens a new alert.
	if b, _ := h.engine.Trigger(context.Background(), rota.Event{Service: "api", DedupKey: "k1", Summary: "back", Severity: "critical"}); b.Outcome != rota.TriggerCreated || b.Incident.ID == a.ID {
		t.Errorf("trigger after resolve: %+v", b)
	}
}

func TestResolveMidStep(t *testing.T) {
	h := newHarness(t)
	a := h.trigger("api", "k1")
	h.expect("at once", h.step(0), "sms alice 1")
	h.expect("step 2", h.step(5*time.Minute), "voice alice 1", "sms bruno 1", "webhook chloe 1")
	if _, err := h.engine.FollowUp(context.Background(), "api", "k1", rota.ActionResolve, "grafana"); err != nil {
		t.Fatal(err)
	}
	// chloe's webhook asked for updates (webhooks do by default): she
	// is told; SMS and voice are not.
	h.expect("an update after resolve, no page", h.step(time.Hour), "webhook chloe 1 resolved")
	if got := h.alert(a.ID); got.Status != rota.StatusResolved || got.ResolvedBy != "grafana" {
		t.Fatalf("%+v", got)
	}
	if _, err := h.engine.FollowUp(context.Background(), "api", "k1", rota.ActionResolve, "grafana"); rota.ErrorCode(err) != rota.ENOTFOUND {
		t.Errorf("resolve with no open alert: %v", err)
	}
}

func TestDedup(t *testing.T) {
	h := newHarness(t)
	a := h.trigger("api", "k1")
	for i := 0; i < 5; i++ {
		if b := h.trigger("api", "k1"); b.ID != a.ID {
			t.Fatalf("repeat opened alert %d", b.ID)
		}
	}
	h.expect("one page", h.step(0), "sms alice 1")
	if as, _ := h.db.IncidentAlerts(context.Background(), a.ID); len(as) != 1 || as[0].Count != 6 {
		t.Errorf("alerts %+v, want one with count 6", as)
	}
	// The same key on another service is another alert.
	if b := h.trigger("batch", "k1"); b.ID == a.ID {
		t.Error("dedup crossed services")
	}
}

func TestRateLimitBundles(t *testing.T) {
	h := newHarness(t)
	first := h.trigger("api", "k0")
	h.expect("first alert alone", h.step(0), fmt.Sprintf("sms alice %d", first.ID))
	var ids []string
	for i := 1; i <= 4; i++ {
		ids = append(ids, fmt.Sprint(h.trigger("api", fmt.Sprintf("k%d", i)).ID))
		h.expect("held back", h.step(5*time.Second))
	}
	// One minute after the first SMS, the four wait no longer: one bundle.
	h.expect("bundle", h.step(40*time.Second), "sms alice "+strings.Join(ids, ","))
	// Five incidents reached alice, in one interruption: the bundle came
	// inside the quiet gap after the first SMS.
	pages, _ := h.db.Pages(context.Background(), time.Time{})
	week, _, _ := h.db.BudgetFacts(context.Background(), "alice", time.Time{}, time.Time{}, h.clock.Now())
	if len(pages) != 5 || len(week) != 1 {
		t.Errorf("pages %d, interruptions %d: want 5 and 1", len(pages), len(week))
	}
	if tl := h.timeline(first.ID + 1); !strings.Contains(tl, "notified alice (sms), with 3 other incidents in one message") {
		t.Errorf("timeline:\n%s", tl)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	h := newHarness(t)
	failures := 2
	h.phone.fail = func(m notify.Message) error {
		if m.Channel == "sms" && failures > 0 {
			failures--
			return errors.New("provider unavailable")
		}
		return nil
	}
	a := h.trigger("batch", "k1")
	h.expect("first attempt fails", h.step(0))
	h.expect("backoff: not before 0.8s", h.step(700*time.Millisecond))
	h.expect("second attempt fails", h.step(600*time.Millisecond))
	h.expect("third attempt, after 2s±20%", h.step(2500*time.Millisecond), fmt.Sprintf("sms bruno %d", a.ID))
	_, ns, _ := h.db.Timeline(context.Background(), a.ID)
	if len(ns) != 1 || ns[0].Status != rota.NotifySent || ns[0].Attempts != 3 {
		t.Errorf("notification: %+v", ns)
	}
}

func TestPermanentFailureFailsOver(t *testing.T) {
	h := newHarness(t)
	h.phone.fail = func(m notify.Message) error {
		if m.Channel == "sms" {
			return notify.Permanent(errors.New("21211 invalid number"))
		}
		return nil
	}
	a := h.trigger("api", "k1")
	// The SMS fails for good; alice's voice call, due in 2 minutes, is
	// brought forward and goes out in the next round.
	h.expect("sms fails", h.step(0))
	h.expect("voice at once", h.step(0), fmt.Sprintf("voice alice %d", a.ID))
	if tl := h.timeline(a.ID); !strings.Contains(tl, "sms to alice failed (will not retry): 21211 invalid number; trying voice at once") {
		t.Errorf("timeline:\n%s", tl)
	}
	h.expect("no second call at 2m", h.step(2*time.Minute))
}

func TestRetriesExhaustedFailOver(t *testing.T) {
	h := newHarness(t)
	h.phone.fail = func(m notify.Message) error {
		if m.Channel == "sms" {
			return errors.New("timeout")
		}
		return nil
	}
	// alice has a voice call after her SMS: five attempts, then the call.
	a := h.trigger("api", "k1")
	var got []string
	waited := time.Duration(0)
	for len(got) == 0 && waited < time.Minute {
		got = h.step(5 * time.Second)
		waited += 5 * time.Second
	}
	// Retries after 1, 2, 4 and 8 seconds (±20%): the call comes well
	// before its own two minutes.
	h.expect("the call, brought forward", got, fmt.Sprintf("voice alice %d", a.ID))
	if tl := h.timeline(a.ID); !strings.Contains(tl, "sms to alice failed (gave up after 5 attempts): timeout; trying voice at once") {
		t.Errorf("timeline:\n%s", tl)
	}
	// bruno's SMS is his only contact: retried for ten minutes, an outage
	// of the provider delays the page rather than losing it.
	b := h.trigger("batch", "k1")
	for i := 0; i < 19; i++ {
		h.step(30 * time.Second)
	}
	_, ns, _ := h.db.Timeline(context.Background(), b.ID)
	if len(ns) != 1 || ns[0].Status != rota.NotifyPending || ns[0].Attempts < 12 {
		t.Fatalf("after 9m30s (the policy ran out at 5m, the page is still tried): %+v", ns)
	}
	h.phone.take()
	for i := 0; i < 4; i++ {
		h.step(30 * time.Second)
	}
	// Given up, and nobody reached: the team's manager (chloe) is told,
	// once.
	_, ns, _ = h.db.Timeline(context.Background(), b.ID)
	if len(ns) != 2 || ns[0].Status != rota.NotifyFailed || ns[1].Kind != rota.KindNotice || ns[1].Person != "chloe" || ns[1].Status != rota.NotifySent {
		t.Errorf("after 11m30s: %+v", ns)
	}
	tl := h.timeline(b.ID)
	if !strings.Contains(tl, "sms to bruno failed (gave up after") || !strings.Contains(tl, "attempts in 10m") ||
		!strings.Contains(tl, "unreached: nobody was reached: telling chloe by webhook") {
		t.Errorf("timeline:\n%s", tl)
	}
	// (The first incident's policy goes on: chloe's webhook, paged in its
	// step 2, is told of round 2.)
	h.expect("nothing more, ever", h.step(time.Hour), fmt.Sprintf("webhook chloe %d escalated", a.ID))
	if _, ns, _ = h.db.Timeline(context.Background(), b.ID); len(ns) != 2 {
		t.Errorf("told again: %+v", ns)
	}
}

// TestReloadKeepsOpenAlertsPolicy: an open alert escalates with the policy
// it triggered with; its targets resolve against the configuration of the
// moment, and one that no longer exists is skipped with a note, at once.
func TestReloadKeepsOpenAlertsPolicy(t *testing.T) {
	h := newHarness(t)
	a := h.trigger("api", "k1") // step 1 = rotation:primary, step 2 = secondary + chloe
	h.expect("at once", h.step(0), fmt.Sprintf("sms alice %d", a.ID))

	// The reload removes the primary rotation and changes the policy.
	h.book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
		org := r.Org()
		var kept []*rota.Rotation
		for _, rot := range org.Rotations {
			if rot.Name != "primary" {
				kept = append(kept, rot)
			}
		}
		def := *org.Policy("default")
		def.Steps = []rota.EscalationStep{{Targets: []rota.Target{{Kind: rota.TargetPerson, Name: "chloe"}}, Delay: time.Minute}}
		policies := []*rota.EscalationPolicy{&def, org.Policy("single")}
		return r.WithOrg(rota.NewOrg(org.People, org.Teams, kept, org.Services, policies)), nil
	})
	b := h.trigger("api", "k2")
	if len(b.Policy.Steps) != 1 || b.Policy.Steps[0].Targets[0].Name != "chloe" {
		t.Fatalf("a new alert takes the new policy: %+v", b.Policy)
	}
	h.expect("the new alert pages chloe", h.step(0), fmt.Sprintf("webhook chloe %d", b.ID))

	// Alert a keeps its two-step policy, repeat 1: step 2 after 5m.
	// (Alert b's new policy repeats its one-minute step once, too: chloe
	// gets both in one message.)
	h.expect("old step 2", h.step(5*time.Minute), fmt.Sprintf("voice alice %d", a.ID), fmt.Sprintf("sms bruno %d", a.ID), fmt.Sprintf("webhook chloe %d,%d", a.ID, b.ID))
	// Round 2: step 1 names the removed rotation and is skipped at once,
	// so step 2 runs in the same round.
	// (b's policy ran out meanwhile: its manager, chloe, is told.)
	h.expect("round 2 skips to step 2", h.step(10*time.Minute), fmt.Sprintf("sms bruno %d", a.ID), fmt.Sprintf("webhook chloe %d", a.ID), "webhook chloe ")
	tl := h.timeline(a.ID)
	for _, want := range []string{"skipped: rotation primary is no longer configured", "skipped: step 1 paged nobody: going on to the next step at once", "escalated: step 2 (round 2): paging bruno and chloe"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
}

// TestRunDeliversEachOnce drives the real loop (the run's clock, real
// timers, concurrent deliveries) with alerts arriving concurrently: every
// notification goes out exactly once.
func TestRunDeliversEachOnce(t *testing.T) {
	h := newHarness(t)
	clocktest.Reproduce(t)
	h.db.Now = clocktest.Now
	engine := paging.New(paging.Options{Store: h.db, Book: h.book, RateLimit: 100 * time.Millisecond, Now: clocktest.Now,
		Notifiers: notify.NewRegistry(h.phone, nil)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { engine.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// The "batch" service pages bruno by SMS, rate limited; use the
	// webhook path: chloe through a one-step policy.
	h.book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
		org := r.Org()
		pol := &rota.EscalationPolicy{Name: "chloe", Steps: []rota.EscalationStep{{Targets: []rota.Target{{Kind: rota.TargetPerson, Name: "chloe"}}, Delay: time.Hour}}}
		svc := &rota.Service{Name: "hooks", Team: "payments", EscalationPolicy: "chloe", Group: rota.Grouping{Off: true}}
		return r.WithOrg(rota.NewOrg(org.People, org.Teams, org.Rotations, append(org.Services, svc), append(org.Policies, pol))), nil
	})
	const n = 300
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := engine.Trigger(context.Background(), rota.Event{Service: "hooks", DedupKey: fmt.Sprint(i), Summary: "x", Severity: "critical"}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	// Once every incident was sent and the outbox holds nothing pending,
	// nothing is left to send again; stopping the loop waits for any
	// delivery still under way. What was sent then is all there will be.
	waitUntil(t, "every incident sent and the outbox empty", func() bool {
		h.phone.mu.Lock()
		sent := 0
		for _, m := range h.phone.sent {
			sent += len(m.Incidents)
		}
		h.phone.mu.Unlock()
		pending, err := h.db.PendingNotifications(context.Background())
		return sent >= n && pending == 0 && err == nil
	})
	cancel()
	<-done
	// Webhooks are rate limited and bundled like SMS: a few messages list
	// the 300 incidents, each exactly once.
	counts := map[int64]int{}
	h.phone.mu.Lock()
	for _, m := range h.phone.sent {
		for _, inc := range m.Incidents {
			counts[inc.ID]++
		}
	}
	messages := len(h.phone.sent)
	h.phone.mu.Unlock()
	if len(counts) != n || messages >= n {
		t.Errorf("%d incidents notified in %d messages, want %d in fewer", len(counts), messages, n)
	}
	for id, c := range counts {
		if c != 1 {
			t.Errorf("alert %d notified %d times", id, c)
		}
	}
}

func TestHandoverReminders(t *testing.T) {
	h := newHarness(t)
	h.book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
		org := r.Org()
		var rots []*rota.Rotation
		for _, rot := range org.Rotations {
			c := *rot
			if c.Name == "primary" {
				c.Reminder = time.Hour
			}
			rots = append(rots, &c)
		}
		return r.WithOrg(rota.NewOrg(org.People, org.Teams, rots, org.Services, org.Policies)), nil
	})
	// Bruno takes over primary on Tuesday 10 March at 10:00 CET (09:00 UTC).
	h.clock.Set(time.Date(2026, 3, 10, 7, 59, 0, 0, time.UTC))
	h.engine.RemindHandovers(context.Background())
	if got := h.phone.take(); len(got) != 0 {
		t.Fatalf("reminded early: %q", got)
	}
	h.clock.Advance(2 * time.Minute)
	h.engine.RemindHandovers(context.Background())
	h.engine.RunOnce(context.Background()) // reminders go through the outbox
	h.phone.mu.Lock()
	sent := append([]notify.Message(nil), h.phone.sent...)
	h.phone.mu.Unlock()
	if len(sent) != 1 || sent[0].Person != "bruno" || sent[0].Text != "rota: you are on call for primary from Tue 10 Mar 10:00 to Tue 17 Mar 10:00 CET, taking over from alice." {
		t.Fatalf("reminder: %+v", sent)
	}
	h.phone.take()
	h.clock.Advance(30 * time.Minute)
	h.engine.RemindHandovers(context.Background())
	h.engine.RunOnce(context.Background())
	if got := h.phone.take(); len(got) != 0 {
		t.Fatalf("reminded twice: %q", got)
	}
}

// TestBurnNoticeOncePerWindow: bruno's third page in a week burns his
// weekly budget; his team's manager (chloe) is told once, even by a
// restarted engine.
func TestBurnNoticeOncePerWindow(t *testing.T) {
	h := newHarness(t)
	newEngine := func() *paging.Engine {
		return paging.New(paging.Options{Store: h.db, Book: h.book, Now: h.clock.Now, Burns: h.db,
			Notifiers: notify.NewRegistry(h.phone, nil)})
	}
	h.engine = newEngine()
	notices := func() []string {
		h.phone.mu.Lock()
		defer h.phone.mu.Unlock()
		var out []string
		for _, m := range h.phone.sent {
			if m.Person == "chloe" && strings.Contains(m.Text, "human budget") {
				out = append(out, m.Text)
			}
		}
		return out
	}
	// Wednesday 4 March, 13:00 Berlin: business hours.
	for i := 1; i <= 3; i++ {
		h.trigger("batch", fmt.Sprintf("k%d", i))
		h.engine.RunOnce(context.Background())
		h.clock.Advance(31 * time.Minute) // past the quiet gap: separate pages
	}
	got := notices()
	if len(got) != 1 || !strings.Contains(got[0], "bruno (team payments) burned the weekly human budget: 3 pages this week, budget 2.") ||
		!strings.Contains(got[0], "Incidents (3): #1 batch") || !strings.Contains(got[0], "Services: batch (3).") {
		t.Fatalf("notices: %q", got)
	}
	if tl := h.timeline(3); !strings.Contains(tl, "burn: human budget: bruno (team payments) burned the weekly human budget") || !strings.Contains(tl, "Telling chloe by webhook.") ||
		!strings.Contains(tl, "notified: told chloe (webhook): rota: bruno (team payments) burned the weekly human budget") {
		t.Errorf("timeline:\n%s", tl)
	}
	// A restarted engine on the same database: the fourth page does not
	// tell again; the next week's third page does.
	h.engine = newEngine()
	h.trigger("batch", "k4")
	h.engine.RunOnce(context.Background())
	if got := notices(); len(got) != 1 {
		t.Fatalf("told again: %q", got)
	}
	h.clock.Advance(7 * 24 * time.Hour)
	for i := 5; i <= 7; i++ {
		h.clock.Advance(31 * time.Minute)
		h.trigger("batch", fmt.Sprintf("k%d", i))
		h.engine.RunOnce(context.Background())
	}
	if got := notices(); len(got) != 2 {
		t.Fatalf("next week: %d notices", len(got))
	}
}

// TestQuietHours: a warning at 03:00 local waits for 09:00 and pages
// nobody if resolved at 08:00; another, still open at 09:00, pages then;
// a critical at 03:00 pages at once and counts as off-hours.
func TestQuietHours(t *testing.T) {
	h := newHarness(t)
	// Thursday 5 March, 03:00 in Berlin (02:00 UTC): bruno is off-hours.
	h.clock.Set(time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC))
	trigger := func(key, severity string) rota.Incident {
		res, err := h.engine.Trigger(context.Background(), rota.Event{Service: "batch", DedupKey: key, Summary: key, Severity: severity})
		a := res.Incident
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	resolved := trigger("resolved-early", "warning")
	waits := trigger("waits", "warning")
	h.expect("no warning pages at 03:00", h.step(0))
	if a := h.alert(waits.ID); !a.Escalation.DueAt.Equal(time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("due %v, want 09:00 Berlin", a.Escalation.DueAt)
	}
	if tl := h.timeline(waits.ID); !strings.Contains(tl, "quiet_hours: bruno is outside business hours: this warning alert waits until Thu 5 Mar 09:00 CET") {
		t.Errorf("timeline:\n%s", tl)
	}
	h.clock.Advance(5 * time.Hour) // 08:00 Berlin
	if _, err := h.engine.SetStatus(context.Background(), resolved.ID, rota.ActionResolve, "bruno"); err != nil {
		t.Fatal(err)
	}
	h.expect("nothing at 08:00", h.step(0))
	h.expect("the open warning pages at 09:00", h.step(time.Hour), fmt.Sprintf("sms bruno %d", waits.ID))
	if _, ns, _ := h.db.Timeline(context.Background(), resolved.ID); len(ns) != 0 {
		t.Errorf("the resolved warning paged: %+v", ns)
	}

	// A critical at 03:00 the next night pages at once.
	h.clock.Set(time.Date(2026, 3, 6, 2, 0, 0, 0, time.UTC))
	crit := trigger("critical", "critical")
	// (The warning's one-step policy ran out overnight: chloe, the
	// manager, is told.)
	h.expect("critical pages at 03:00", h.step(0), fmt.Sprintf("sms bruno %d", crit.ID), "webhook chloe ")
	pages, _ := h.db.Pages(context.Background(), time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC))
	org := h.book.Roster().Org()
	if len(pages) != 1 || !policy.OffHours(org.Person("bruno"), pages[0].At) {
		t.Errorf("the critical page should count off-hours: %+v", pages)
	}
}

// TestHandoverSummary: at the handover, alice (out) and bruno (in) get the
// shift's pages, the open alerts and both budgets, once.
func TestHandoverSummary(t *testing.T) {
	h := newHarness(t)
	h.engine = paging.New(paging.Options{Store: h.db, Book: h.book, Now: h.clock.Now, Burns: h.db,
		Notifiers: notify.NewRegistry(h.phone, nil)})
	// Alice is on call on primary until Tuesday 10 March 10:00 CET; her
	// shift pages her twice, one alert stays open.
	h.clock.Set(time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC))
	a := h.trigger("api", "k1")
	h.engine.RunOnce(context.Background())
	h.clock.Advance(40 * time.Minute) // past the quiet gap: two pages
	h.trigger("api", "k2")
	h.engine.RunOnce(context.Background())
	h.engine.SetStatus(context.Background(), a.ID, rota.ActionResolve, "alice")
	h.phone.take()
	h.clock.Set(time.Date(2026, 3, 10, 9, 1, 0, 0, time.UTC))
	h.engine.SummarizeHandovers(context.Background())
	h.engine.SummarizeHandovers(context.Background())
	h.engine.RunOnce(context.Background()) // summaries go through the outbox
	h.phone.mu.Lock()
	sent := append([]notify.Message(nil), h.phone.sent...)
	h.phone.mu.Unlock()
	var to []string
	for _, m := range sent {
		if strings.HasPrefix(m.Text, "rota handover on primary") {
			to = append(to, m.Person)
			for _, want := range []string{"alice hands over to bruno", "Last shift: 2 pages, 0 off-hours incidents.", "Open: #2 api 5xx above 2% on k2.", "alice: 0/2 pages this week", "bruno: 0/2 pages this week"} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("summary lacks %q: %s", want, m.Text)
				}
			}
		}
	}
	sort.Strings(to)
	if strings.Join(to, ",") != "alice,bruno" {
		t.Errorf("summaries to %v, want alice and bruno once each", to)
	}
}

// TestEscalateNow: a responder escalates an incident to its next step at
// once; an acknowledged one is triggered again; one that has run every
// step has nobody further to go to.
func TestEscalateNow(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.trigger("api", "k1")
	h.expect("at once", h.step(0), "sms alice 1")
	h.clock.Advance(30 * time.Second)
	got, err := h.engine.SetStatus(ctx, a.ID, rota.ActionEscalate, "alice (web)")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != rota.StatusTriggered || !got.Escalation.DueAt.Equal(h.clock.Now()) {
		t.Fatalf("after escalating: %s %+v", got.Status, got.Escalation)
	}
	h.expect("step 2 now, not in 4m30s", h.step(0), "sms bruno 1", "webhook chloe 1")
	if tl := h.timeline(a.ID); !strings.Contains(tl, "escalated: escalated by alice (web): the next step runs now") {
		t.Errorf("timeline:\n%s", tl)
	}
	if _, err := h.engine.SetStatus(ctx, a.ID, rota.ActionAcknowledge, "bruno (sms)"); err != nil {
		t.Fatal(err)
	}
	h.step(time.Minute)
	got, err = h.engine.SetStatus(ctx, a.ID, rota.ActionEscalate, "bruno (web)")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != rota.StatusTriggered || got.AckedBy != "" {
		t.Fatalf("escalating an acknowledged incident: %s acked by %q", got.Status, got.AckedBy)
	}
	h.step(0)
	if tl := h.timeline(a.ID); !strings.Contains(tl, "step 1 (round 2)") {
		t.Errorf("the next step (round 2) did not run:\n%s", tl)
	}

	b := h.trigger("batch", "k2")
	h.step(0) // bruno, in a message that lists both open incidents
	// b's policy runs out: the manager is told.
	if got := h.step(5 * time.Minute); !slices.Contains(got, "webhook chloe ") {
		t.Errorf("the manager not told of b: %q", got)
	}
	if got := h.alert(b.ID); got.Escalation.State != rota.EscalationExhausted {
		t.Fatalf("batch's policy should have run out: %+v", got.Escalation)
	}
	// Escalating an incident whose policy ran out runs it again from the
	// first step; when that round runs out too, the manager is told again.
	got, err = h.engine.SetStatus(ctx, b.ID, rota.ActionEscalate, "bruno (web)")
	if err != nil || got.Escalation.State != rota.EscalationActive || got.Escalation.Round != 1 {
		t.Fatalf("escalating an exhausted incident: %+v %v", got.Escalation, err)
	}
	got2 := append(h.step(0), h.step(time.Minute)...) // (his rate limit may hold it a minute)
	if !strings.Contains(strings.Join(got2, "|"), fmt.Sprintf("sms bruno %d", b.ID)) {
		t.Errorf("round 2 did not page bruno again: %q", got2)
	}
	if tl := h.timeline(b.ID); !strings.Contains(tl, "policy single had run every step; it starts again from step 1 (round 2)") {
		t.Errorf("timeline:\n%s", tl)
	}
	if got := h.step(5 * time.Minute); !slices.Contains(got, "webhook chloe ") {
		t.Errorf("run out again, the manager not told again: %q", got)
	}
}

// TestLoggedIsNotSent: with no provider for its channel, a page goes to
// rotad's log, and says so: "logged", not "notified", in the timeline; a
// provider status of logged on the notification; outcome="logged" in the
// metrics.
func TestLoggedIsNotSent(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	engine := paging.New(paging.Options{Store: h.db, Book: h.book, Now: h.clock.Now, Notifiers: notify.NewRegistry(nil, nil), Registry: reg})
	ctx := context.Background()
	res, err := engine.Trigger(ctx, rota.Event{Service: "web", DedupKey: "logged", Summary: "disk full", Severity: "critical", Integration: "native"})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	events, notes, err := h.db.Timeline(ctx, res.Incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	var said []string
	for _, e := range events {
		said = append(said, e.Message)
	}
	if !slices.ContainsFunc(said, func(m string) bool {
		return strings.HasPrefix(m, "logged for alice (sms), not sent: no provider is configured for sms")
	}) ||
		slices.ContainsFunc(said, func(m string) bool { return strings.HasPrefix(m, "notified") }) {
		t.Errorf("timeline %q: want it logged for alice, not notified", said)
	}
	if len(notes) == 0 || notes[0].Status != rota.NotifySent || notes[0].ProviderStatus != rota.DeliveryLogged {
		t.Errorf("notifications %+v: want sent as far as rota goes, with provider status logged", notes)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, mf := range mfs {
		if mf.GetName() != "rota_notifications_total" {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "outcome" {
					outcomes = append(outcomes, l.GetValue())
				}
			}
		}
	}
	if !slices.Contains(outcomes, rota.DeliveryLogged) || slices.Contains(outcomes, rota.DeliverySent) {
		t.Errorf("rota_notifications_total outcomes %v, want logged and not sent", outcomes)
	}
}

// TestDeliveryErrorLoggedOnce: a send that fails for a reason that may
// pass (a refused certificate, a relay down) is retried, and the reason is
// logged at WARN once for the notification, not at every retry.
func TestDeliveryErrorLoggedOnce(t *testing.T) {
	h := newHarness(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	failing := &phone{fail: func(notify.Message) error {
		return errors.New("x509: certificate signed by unknown authority")
	}}
	engine := paging.New(paging.Options{Store: h.db, Book: h.book, Now: h.clock.Now, Notifiers: notify.NewRegistry(failing, nil),
		Logger: slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))})
	ctx := context.Background()
	if _, err := engine.Trigger(ctx, rota.Event{Service: "web", DedupKey: "tls", Summary: "disk full", Severity: "critical", Integration: "native"}); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := engine.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(2 * time.Minute)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	lines := map[float64]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || m["msg"] != "notification not delivered: retrying" {
			continue
		}
		if m["level"] != "WARN" || !strings.Contains(fmt.Sprint(m["err"]), "certificate signed by unknown authority") {
			t.Errorf("line %s: want WARN with the reason", l)
		}
		lines[m["notification"].(float64)]++
	}
	// alice's SMS was tried twice (then her voice call, then the next
	// step's): one line each.
	if len(lines) < 2 || lines[1] != 1 {
		t.Errorf("lines per notification %v, want one each:\n%s", lines, out)
	}
	for id, n := range lines {
		if n != 1 {
			t.Errorf("notification %v: %d lines, want 1", id, n)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRebaseAcrossReloads: a reload shortens step 1's delay from 5m to 3m
// two minutes in: step 2 runs a minute later; a second reload back to 5m
// after that changes no wait already run, and a reload that changes
// nothing moves nothing. Each move is on the timeline once.
func TestRebaseAcrossReloads(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.trigger("api", "k1")
	h.expect("at once", h.step(0), fmt.Sprintf("sms alice %d", a.ID))
	withDelay := func(d time.Duration) *rota.Org {
		var old *rota.Org
		h.book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
			org := r.Org()
			old = org
			def := *org.Policy("default")
			def.Steps = append([]rota.EscalationStep(nil), def.Steps...)
			def.Steps[0].Delay = d
			return r.WithOrg(rota.NewOrg(org.People, org.Teams, org.Rotations, org.Services, []*rota.EscalationPolicy{&def, org.Policy("single")})), nil
		})
		return old
	}
	h.expect("two minutes in: alice's next contact", h.step(2*time.Minute), fmt.Sprintf("voice alice %d", a.ID))
	if err := h.engine.Rebase(ctx, withDelay(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if due := h.alert(a.ID).Escalation.DueAt; !due.Equal(h.clock.Now().Add(time.Minute)) {
		t.Fatalf("due %s, want a minute from now", due)
	}
	// The same configuration again: nothing moves.
	if err := h.engine.Rebase(ctx, h.book.Roster().Org()); err != nil {
		t.Fatal(err)
	}
	h.expect("step 2 a minute later", h.step(time.Minute), fmt.Sprintf("sms bruno %d", a.ID), fmt.Sprintf("webhook chloe %d", a.ID))
	// Back to 5m: step 2's wait (10m) is not step 1's: unmoved; the
	// steps to come (round 2) take 5m.
	due := h.alert(a.ID).Escalation.DueAt
	if err := h.engine.Rebase(ctx, withDelay(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := h.alert(a.ID); !got.Escalation.DueAt.Equal(due) || got.Policy.Steps[0].Delay != 5*time.Minute {
		t.Errorf("after the second reload: due %s (was %s), step 1 waits %s", got.Escalation.DueAt, due, got.Policy.Steps[0].Delay)
	}
	if n := strings.Count(h.timeline(a.ID), "reload: the configuration changed policy default: step 1 waits 3m, not 5m"); n != 1 {
		t.Errorf("the move is on the timeline %d times:\n%s", n, h.timeline(a.ID))
	}
}

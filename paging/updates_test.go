package paging_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

// updatesConfig: bruno asks for updates by SMS (off by default), chloe's
// webhook has them by default, alice's SMS does not; the service posts
// every incident to a Slack channel, and step 2 posts to a Teams one.
var updatesConfig = strings.NewReplacer(
	`contacts = [{ type = "sms", address = "+4915112345002" }]`, `contacts = [{ type = "sms", address = "+4915112345002", updates = true }]`,
	`escalation_policy = "default"
group = "off"`, `escalation_policy = "default"
group = "off"
channels = ["payments-alerts"]`,
	`targets = ["rotation:secondary", "person:chloe"]`, `targets = ["rotation:secondary", "person:chloe", "channel:payments-teams"]`,
).Replace(engineConfig) + `
[[channels]]
name = "payments-alerts"
type = "slack"
channel = "C0PAYMENTS"
[[channels]]
name = "payments-teams"
type = "teams"
url = { env = "ROTA_TEST_TEAMS_URL" }
`

// TestStatusUpdates: those notified of an incident hear what becomes of
// it, on the contact they were notified on, as they asked; updates and
// channel posts are never pages.
func TestStatusUpdates(t *testing.T) {
	h := newHarnessWith(t, updatesConfig)
	a := h.trigger("api", "k1")
	h.expect("step 1 pages alice and posts to the channel", h.step(0), "sms alice 1", "slack  1")
	// The channel hears whom the incident went on to.
	h.expect("step 2", h.step(5*time.Minute), "voice alice 1", "sms bruno 1", "webhook chloe 1", "teams  1", "slack  1 escalated")

	if _, err := h.engine.SetStatus(context.Background(), a.ID, rota.ActionAcknowledge, "alice (sms)"); err != nil {
		t.Fatal(err)
	}
	// alice acted herself, and her SMS and voice take no updates; bruno
	// asked for them by SMS; chloe's webhook and both channels have them.
	h.expect("acknowledged", h.step(0), "sms bruno 1 acknowledged", "webhook chloe 1 acknowledged", "slack  1 acknowledged", "teams  1 acknowledged")

	if _, err := h.engine.SetStatus(context.Background(), a.ID, rota.ActionEscalate, "chloe (web)"); err != nil {
		t.Fatal(err)
	}
	// chloe escalated herself: her webhook is not told what she did.
	h.expect("escalated now: the next step pages alice again", h.step(0), "sms alice 1", "sms bruno 1 escalated", "slack  1 escalated", "teams  1 escalated")
	// The request's updates say to whom, as typed fields: no second round.
	_, ns, err := h.db.Timeline(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	requested := 0
	for _, n := range ns {
		if n.Kind == rota.KindUpdate && n.Update.Action == rota.ActionEscalate && n.Update.By == "chloe (web)" {
			requested++
			if strings.Join(n.Update.To, ",") != "alice" || n.Body != "escalated by chloe (web) to alice" {
				t.Errorf("the escalation's update: %+v %q", n.Update, n.Body)
			}
		}
	}
	if requested == 0 {
		t.Error("no update of chloe's escalation")
	}
	h.phone.mu.Lock()
	h.phone.sent = nil
	h.phone.mu.Unlock()

	if _, err := h.engine.SetStatus(context.Background(), a.ID, rota.ActionResolve, "bruno (sms)"); err != nil {
		t.Fatal(err)
	}
	h.phone.mu.Lock()
	h.phone.sent = nil
	h.phone.mu.Unlock()
	h.clock.Advance(0)
	if err := h.engine.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.phone.mu.Lock()
	var updates []notify.Message
	for _, m := range h.phone.sent {
		if m.Kind == notify.KindUpdate && m.Update.Action == rota.ActionResolve {
			updates = append(updates, m)
		}
	}
	h.phone.sent = nil
	h.phone.mu.Unlock()
	for _, m := range updates {
		if m.Person == "bruno" && m.Channel == rota.ContactSMS {
			t.Errorf("bruno resolved by SMS and is told so by SMS: %+v", m)
		}
		if m.Update.By != "bruno (sms)" || m.Incidents[0].Status != rota.StatusResolved {
			t.Errorf("update: %+v", m.Update)
		}
		// The update names the first message sent to that contact, for
		// a chat message to be edited in place.
		if m.Update.Thread == "" || !strings.HasPrefix(m.Update.Thread, "SM") {
			t.Errorf("update without its thread: %+v", m.Update)
		}
	}
	if len(updates) != 3 { // chloe's webhook and both channels
		t.Errorf("%d resolve updates: %+v", len(updates), updates)
	}

	// Nothing of this is a page: alice, bruno and chloe were each paged
	// once; channels never.
	pages, err := h.db.Pages(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, p := range pages {
		count[p.Person]++
	}
	if count["alice"] != 1 || count["bruno"] != 1 || count["chloe"] != 1 || len(count) != 3 {
		t.Errorf("pages: %v", count)
	}
	// The timeline says who was told and where it was posted.
	tl := h.timeline(a.ID)
	for _, want := range []string{"posted to payments-alerts (slack)", "told chloe it was acknowledged (webhook)", "told the channel it was resolved (teams)"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
}

// TestPostCancelledWithItsIncident: a channel post not yet sent when the
// incident is acknowledged is not sent, like a page.
func TestPostCancelledWithItsIncident(t *testing.T) {
	h := newHarnessWith(t, updatesConfig)
	a := h.trigger("api", "k1")
	if _, err := h.engine.SetStatus(context.Background(), a.ID, rota.ActionAcknowledge, "alice (web)"); err != nil {
		t.Fatal(err)
	}
	h.expect("nothing: acknowledged before anything went out", h.step(0))
}

// TestAnnounceHandoffs: a rotation's channels are told at each handoff
// who is on call until when, and who is next; once per handoff.
func TestAnnounceHandoffs(t *testing.T) {
	cfg := strings.Replace(updatesConfig, `name = "primary"
team = "payments"
members = ["alice", "bruno"]
start = 2026-01-06`, `name = "primary"
team = "payments"
members = ["alice", "bruno"]
start = 2026-01-06
announce = ["payments-alerts", "payments-teams"]`, 1)
	h := newHarnessWith(t, cfg)
	// The clock starts Wed 4 Mar 2026 12:00 UTC; the next handoff is Tue
	// 10 Mar 10:00 Berlin (09:00 UTC), from bruno to alice... or alice to
	// bruno: whoever the schedule says.
	handoff := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	before, _ := h.book.Roster().OnCall("primary", handoff.Add(-time.Minute))
	after, _ := h.book.Roster().OnCall("primary", handoff)
	h.clock.Advance(handoff.Add(-time.Minute).Sub(h.clock.Now()))
	h.engine.AnnounceHandoffs(context.Background())
	h.expect("nothing before the handoff", h.step(0))
	h.clock.Advance(90 * time.Second)
	h.engine.AnnounceHandoffs(context.Background())
	h.engine.AnnounceHandoffs(context.Background()) // once per handoff
	h.phone.mu.Lock()
	sent := append([]notify.Message(nil), h.phone.sent...)
	h.phone.mu.Unlock()
	if len(sent) != 0 {
		t.Fatalf("sent before the engine ran: %+v", sent)
	}
	if err := h.engine.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.phone.mu.Lock()
	sent = append([]notify.Message(nil), h.phone.sent...)
	h.phone.sent = nil
	h.phone.mu.Unlock()
	want := after.Person + " is on call for primary until Tue 17 Mar 10:00 CET; " + before.Person + " next."
	if len(sent) != 2 {
		t.Fatalf("%d announcements, want one per channel: %+v", len(sent), sent)
	}
	for _, m := range sent {
		if m.Kind != notify.KindNotice || m.Person != "" || m.Text != want {
			t.Errorf("announcement: %+v, want %q", m, want)
		}
	}
	// A minute later, and after the window, nothing more.
	h.clock.Advance(20 * time.Minute)
	h.engine.AnnounceHandoffs(context.Background())
	h.expect("nothing more", h.step(0))
}

// TestRetryAfterIsWaitedFor: a provider that answers "not now, after d"
// (Slack's 429) is waited for, and its answers are not held against the
// contact: no failover however often it asks.
func TestRetryAfterIsWaitedFor(t *testing.T) {
	h := newHarness(t)
	asked := 0
	h.phone.fail = func(m notify.Message) error {
		if m.Channel == rota.ContactSMS && asked < 8 {
			asked++
			return notify.RetryAfter(errors.New("slow down"), 7*time.Second)
		}
		return nil
	}
	a := h.trigger("api", "k1")
	h.expect("held back", h.step(0))
	h.expect("not before the provider's 7s", h.step(6*time.Second))
	for i := 1; i < 8; i++ {
		h.expect("asked to wait again", h.step(7*time.Second))
	}
	// Eight waits, far more than the five attempts after which the
	// contact would fail over to voice: it did not.
	h.expect("sent when the provider takes it", h.step(7*time.Second), "sms alice 1")
	_, ns, _ := h.db.Timeline(context.Background(), a.ID)
	for _, n := range ns {
		if n.Channel == rota.ContactSMS && (n.Status != rota.NotifySent || n.Attempts != 1) {
			t.Errorf("the SMS: %+v", n)
		}
	}
}

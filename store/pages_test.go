package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// pagedIncident opens an incident whose first step notifies person by
// each of channels, and returns it with its notifications' ids.
func pagedIncident(t *testing.T, db *DB, key, person string, channels ...rota.Channel) (rota.Incident, []int64) {
	t.Helper()
	ctx := context.Background()
	inc, _, err := db.TriggerAlert(ctx, &rota.Event{Service: "api", DedupKey: key, Summary: key, Severity: "critical", Integration: "native"},
		rota.EscalationPolicy{Name: "p"}, func(*rota.Incident, time.Time) rota.StepOutcome {
			var out rota.StepOutcome
			for i, c := range channels {
				out.Notifications = append(out.Notifications, rota.Notification{Person: person, Channel: c, Address: "x", ContactIndex: i, Wave: 1, Status: rota.NotifyPending})
			}
			return out
		})
	if err != nil {
		t.Fatal(err)
	}
	_, ns, err := db.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, n := range ns {
		ids = append(ids, n.ID)
	}
	return inc, ids
}

func sent(id, incident, bundle int64, person string, channel rota.Channel, at time.Time) rota.Delivery {
	return rota.Delivery{NotificationID: id, IncidentID: incident, Outcome: rota.DeliverySent, At: at, BundleID: bundle,
		Page: &rota.Page{IncidentID: incident, Person: person, Channel: channel, Gap: 30 * time.Minute}}
}

// TestUndeliveredBundlePassesItsInterruption: an SMS bundle of two
// incidents begins alice's interruption at 02:00; a webhook reaches her at
// 02:03 (inside the gap: no interruption of its own). When the provider
// reports the SMS undelivered, both its notifications fail, the incident
// only the SMS carried is no page, and the interruption passes to 02:03,
// queued for accounting.
func TestUndeliveredBundlePassesItsInterruption(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	t0 := time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC)
	a, an := pagedIncident(t, db, "a", "alice", rota.ContactSMS)
	b, bn := pagedIncident(t, db, "b", "alice", rota.ContactSMS, rota.ContactWebhook)
	if err := db.RecordDeliveries(ctx, []rota.Delivery{sent(an[0], a.ID, an[0], "alice", rota.ContactSMS, t0), sent(bn[0], b.ID, an[0], "alice", rota.ContactSMS, t0)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordDeliveries(ctx, []rota.Delivery{sent(bn[1], b.ID, bn[1], "alice", rota.ContactWebhook, t0.Add(3*time.Minute))}, nil); err != nil {
		t.Fatal(err)
	}
	week, _, _ := db.BudgetFacts(ctx, "alice", t0.Add(-time.Hour), t0.Add(-time.Hour), t0.Add(time.Hour))
	if len(week) != 1 || !week[0].At.Equal(t0) {
		t.Fatalf("interruptions before: %+v", week)
	}
	if _, err := db.RecordProviderReport(ctx, rota.ProviderReport{NotificationID: an[0], Status: "undelivered", Failed: true, Gap: 30 * time.Minute}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{an[0], bn[0]} {
		if n, _ := db.Notification(ctx, id); n.Status != rota.NotifyFailed {
			t.Errorf("notification %d of the bundle is %s", id, n.Status)
		}
	}
	pages, _ := db.PersonPages(ctx, "alice", time.Time{})
	if len(pages) != 1 || pages[0].IncidentID != b.ID {
		t.Errorf("pages: %+v, want only incident %d's (the webhook reached her)", pages, b.ID)
	}
	week, _, _ = db.BudgetFacts(ctx, "alice", t0.Add(-time.Hour), t0.Add(-time.Hour), t0.Add(time.Hour))
	if len(week) != 1 || !week[0].At.Equal(t0.Add(3*time.Minute)) || week[0].IncidentID != b.ID {
		t.Errorf("interruptions after: %+v, want one at 02:03", week)
	}
	items, _ := db.PendingAccounting(ctx, 10)
	var at []time.Time
	for _, it := range items {
		if it.Interruption {
			at = append(at, it.At)
		}
	}
	if len(at) != 1 || !at[0].Equal(t0.Add(3*time.Minute)) {
		t.Errorf("accounting queued for interruptions at %v, want 02:03 alone", at)
	}
}

// TestInterruptionsInEitherOrder: two channels' sends to one person
// seconds apart are one interruption, whichever is recorded first.
func TestInterruptionsInEitherOrder(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	t0 := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	a, an := pagedIncident(t, db, "a", "alice", rota.ContactSMS, rota.ContactWebhook)
	// The later send is recorded first.
	if err := db.RecordDeliveries(ctx, []rota.Delivery{sent(an[1], a.ID, an[1], "alice", rota.ContactWebhook, t0.Add(2*time.Second))}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordDeliveries(ctx, []rota.Delivery{sent(an[0], a.ID, an[0], "alice", rota.ContactSMS, t0)}, nil); err != nil {
		t.Fatal(err)
	}
	if week, _, _ := db.BudgetFacts(ctx, "alice", t0.Add(-time.Hour), t0.Add(-time.Hour), t0.Add(time.Hour)); len(week) != 1 {
		t.Errorf("interruptions: %+v, want one", week)
	}
}

// TestNoticesAreNotPagesToAnswer: a manager told of a burn by SMS does not
// have the incident "paging" them, so a reply to the notice answers
// nothing.
func TestNoticesAreNotPagesToAnswer(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	a, an := pagedIncident(t, db, "a", "alice", rota.ContactSMS)
	now := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	if err := db.RecordDeliveries(ctx, []rota.Delivery{sent(an[0], a.ID, an[0], "alice", rota.ContactSMS, now)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordAccounting(ctx, 0, []rota.BurnNotice{{Burn: rota.BurnRecord{Team: "t", Person: "alice", Budget: "weekly", Window: now, At: now},
		Notices: []rota.Notification{{IncidentID: a.ID, Person: "mgr", Channel: rota.ContactSMS, Address: "+1", Kind: rota.KindNotice, Body: "burned"}}}}); err != nil {
		t.Fatal(err)
	}
	_, ns, _ := db.Timeline(ctx, a.ID)
	notice := ns[len(ns)-1]
	if notice.Kind != rota.KindNotice {
		t.Fatalf("%+v", notice)
	}
	if err := db.RecordDeliveries(ctx, []rota.Delivery{{NotificationID: notice.ID, IncidentID: a.ID, Outcome: rota.DeliverySent, At: now, BundleID: notice.ID}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.IncidentsPaging(ctx, "mgr"); len(got) != 0 {
		t.Errorf("the manager's notice made incident %d theirs: %+v", a.ID, got)
	}
	if got, _ := db.IncidentsPaging(ctx, "alice"); len(got) != 1 {
		t.Errorf("alice's page: %+v", got)
	}
	// Resolving the incident does not cancel a pending notice.
	if _, err := db.RecordAccounting(ctx, 0, []rota.BurnNotice{{Burn: rota.BurnRecord{Team: "t", Person: "alice", Budget: "offhours", Window: now, At: now},
		Notices: []rota.Notification{{IncidentID: a.ID, Person: "mgr", Channel: rota.ContactSMS, Address: "+1", Kind: rota.KindNotice, Body: "again"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.setStatus(ctx, a.ID, rota.ActionResolve, "alice"); err != nil {
		t.Fatal(err)
	}
	_, ns, _ = db.Timeline(ctx, a.ID)
	if last := ns[len(ns)-1]; last.Body != "again" || last.Status != rota.NotifyPending {
		t.Errorf("the notice after resolve: %+v", last)
	}
}

// TestARoundOfMessages: one round records a bundle of three incidents to
// alice and, at the same moment, a webhook of another to her: the
// bundle's notifications are marked sent together with its id, each
// incident is one page (off-hours, queued for accounting), and the two
// messages make one interruption; run again (a retry of the round), the
// pages are not counted twice.
func TestARoundOfMessages(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	t0 := time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC) // night
	var incs []rota.Incident
	var ids []int64
	for _, key := range []string{"a", "b", "c", "d"} {
		inc, ns := pagedIncident(t, db, key, "alice", rota.ContactSMS)
		incs, ids = append(incs, inc), append(ids, ns[0])
	}
	var round []rota.Delivery
	for i := range 3 {
		d := sent(ids[i], incs[i].ID, ids[0], "alice", rota.ContactSMS, t0)
		d.ExternalID, d.Page.OffHours = "SM1", true
		round = append(round, d)
	}
	web := sent(ids[3], incs[3].ID, 0, "alice", rota.ContactWebhook, t0)
	web.Page.OffHours = true
	round = append(round, web)
	for range 2 {
		if err := db.RecordDeliveries(ctx, round, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		n, err := db.Notification(ctx, id)
		if err != nil || n.Status != rota.NotifySent || !n.SentAt.Equal(t0) {
			t.Errorf("notification %d: %+v %v", id, n, err)
		}
		if i < 3 && (n.BundleID != ids[0] || n.ExternalID != "SM1") {
			t.Errorf("notification %d of the bundle: bundle %d, external id %q", id, n.BundleID, n.ExternalID)
		}
	}
	week, off, err := db.BudgetFacts(ctx, "alice", t0.Add(-time.Hour), t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil || len(week) != 1 || len(off) != 4 {
		t.Errorf("interruptions %+v, off-hours incidents %+v (%v): want one and four", week, off, err)
	}
	items, _ := db.PendingAccounting(ctx, 20)
	interruptions, offhours := 0, 0
	for _, it := range items {
		if it.Interruption {
			interruptions++
		}
		if it.OffHours {
			offhours++
		}
	}
	if interruptions != 1 || offhours != 4 {
		t.Errorf("accounting queued %d interruptions and %d off-hours incidents, want 1 and 4: %+v", interruptions, offhours, items)
	}
}

// TestAnsweredWhileOnItsWay: alice's SMS and bruno's Slack message are
// on their way when alice acknowledges by SMS; recorded sent after that,
// bruno's Slack message is told (in its thread) and alice's SMS is not
// (she did it). A page recorded after its incident resolved is told of
// the resolve.
func TestAnsweredWhileOnItsWay(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	t0 := time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC)
	page := func(key string) (rota.Incident, []int64) {
		inc, _, err := db.TriggerAlert(ctx, &rota.Event{Service: "api", DedupKey: key, Summary: key, Severity: "critical", Integration: "native"},
			rota.EscalationPolicy{Name: "p"}, func(*rota.Incident, time.Time) rota.StepOutcome {
				return rota.StepOutcome{Notifications: []rota.Notification{
					{Person: "alice", Channel: rota.ContactSMS, Address: "+49151", Wave: 1, Status: rota.NotifyPending, Updates: true},
					{Person: "bruno", Channel: rota.ContactSlack, Address: "U0BRUNO", Wave: 1, Status: rota.NotifyPending, Updates: true}}}
			})
		if err != nil {
			t.Fatal(err)
		}
		_, ns, err := db.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		return inc, []int64{ns[0].ID, ns[1].ID}
	}
	updates := func(id int64) []string {
		_, ns, err := db.Timeline(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range ns {
			if n.Kind == rota.KindUpdate {
				out = append(out, n.Person+" "+string(n.Channel)+" "+n.Thread+": "+n.Body)
			}
		}
		return out
	}
	a, an := page("a")
	if _, err := db.setStatus(ctx, a.ID, rota.ActionAcknowledge, "alice (sms)"); err != nil {
		t.Fatal(err)
	}
	if got := updates(a.ID); len(got) != 0 {
		t.Fatalf("updates before the pages are recorded: %q", got)
	}
	slackMsg := sent(an[1], a.ID, an[1], "bruno", rota.ContactSlack, t0)
	slackMsg.ExternalID = "1712345678.000100"
	if err := db.RecordDeliveries(ctx, []rota.Delivery{sent(an[0], a.ID, an[0], "alice", rota.ContactSMS, t0), slackMsg}, policy.LateNews); err != nil {
		t.Fatal(err)
	}
	if got := updates(a.ID); len(got) != 1 || got[0] != "bruno slack 1712345678.000100: acknowledged by alice (sms)" {
		t.Errorf("updates after the pages are recorded: %q", got)
	}
	b, bn := page("b")
	if _, err := db.setStatus(ctx, b.ID, rota.ActionResolve, "the source"); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordDeliveries(ctx, []rota.Delivery{sent(bn[0], b.ID, bn[0], "alice", rota.ContactSMS, t0)}, policy.LateNews); err != nil {
		t.Fatal(err)
	}
	if got := updates(b.ID); len(got) != 1 || got[0] != "alice sms : resolved by the source" {
		t.Errorf("updates of the resolved incident: %q", got)
	}
}

// TestIncidentsPagingAPerson: the incidents that paged alice are those
// her pages were recorded for; one only queued for her is not.
func TestIncidentsPagingAPerson(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	t0 := time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC)
	a, an := pagedIncident(t, db, "a", "alice", rota.ContactSMS)
	pagedIncident(t, db, "b", "alice", rota.ContactSMS) // queued, not sent
	c, cn := pagedIncident(t, db, "c", "bruno", rota.ContactSMS)
	if err := db.RecordDeliveries(ctx, []rota.Delivery{sent(an[0], a.ID, an[0], "alice", rota.ContactSMS, t0), sent(cn[0], c.ID, cn[0], "bruno", rota.ContactSMS, t0)}, nil); err != nil {
		t.Fatal(err)
	}
	incs, err := db.Incidents(ctx, rota.IncidentFilter{PagedTo: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 1 || incs[0].ID != a.ID {
		t.Errorf("incidents paging alice: %+v, want only %d", incs, a.ID)
	}
	if incs, _ := db.Incidents(ctx, rota.IncidentFilter{PagedTo: "alice", Status: "open", Services: []string{"api"}}); len(incs) != 1 {
		t.Errorf("with other filters: %d", len(incs))
	}
}

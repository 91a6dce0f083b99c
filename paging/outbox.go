package paging

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/policy"
)

// rateLimited reports whether a notification is held to one message per
// person and channel per RateLimit, what arrives sooner bundled into the
// next: every page, on every channel, so that a storm is a few messages
// listing incidents, never a post per alert. Managers' notices are rare
// and go alone; updates and channel posts are about one incident each
// and go alone too (a chat provider paces its own channels).
func rateLimited(n rota.Notification) bool {
	return n.Kind == rota.KindPage
}

// batch is notifications sent as one message: one notification, or those
// a rate limit held back for one person and channel.
type batch struct {
	key   [2]string // person, channel
	notes []rota.Notification
	// claimed is when the batch took its rate-limit slot, and before what
	// the slot held; a failed send gives the slot back.
	claimed, before time.Time
	// slots are its destination's.
	slots chan struct{}
	// maintenance are the ad hoc windows of this round, by service.
	maintenance map[string][]rota.Maintenance
}

// deliverDue sends the notifications due at now that no daemon is
// already sending. Which to send and which the rate limit holds is
// decided inside the store's claim (one transaction over the due list and
// the rate limit's last sends), so that several daemons on one database
// never send one notification twice, nor two messages to one person
// within the rate limit.
func (e *Engine) deliverDue(ctx context.Context, now time.Time) (busy bool, err error) {
	var batches []*batch
	var held []rota.Channel
	plan, err := e.store.ClaimDue(ctx, now, 2000, e.owner, now.Add(claimLease), func(due []rota.Notification, last map[[2]string]time.Time) rota.OutboxPlan {
		batches, held = nil, nil
		plan := rota.OutboxPlan{Slots: map[[2]string]time.Time{}}
		grouped := map[[2]string]*batch{}
		for _, n := range due {
			key := [2]string{n.Person, string(n.Channel)}
			if !rateLimited(n) {
				batches = append(batches, &batch{key: key, notes: []rota.Notification{n}})
				plan.Claim = append(plan.Claim, n.ID)
				continue
			}
			if next := last[key].Add(e.opts.RateLimit); now.Before(next) {
				d := rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryDeferred, NextAttempt: next}
				if n.NextAttempt.Before(next) && n.Attempts == 0 && !n.Shadow {
					// Said once, when first held: the step said whom it
					// pages, the timeline says when it will reach them.
					why := ""
					if n.Reason != "" {
						why = " (the page to a deploy's author)"
					}
					d.Events = []rota.IncidentEvent{{IncidentID: n.IncidentID, At: now, Kind: rota.EventHeld, Actor: n.Person,
						Message: fmt.Sprintf("%s to %s%s held by the rate limit until %s: one message per %s", n.Channel, n.Person, why,
							next.In(e.zone(n.Person)).Format("15:04:05 MST"), rota.FormatDuration(e.opts.RateLimit))}}
				}
				plan.Deferred = append(plan.Deferred, d)
				held = append(held, n.Channel)
				continue
			}
			b := grouped[key]
			if b == nil {
				// Takes the slot now, so that the next round holds further
				// notifications for this person back while this one is
				// being sent (on any daemon).
				b = &batch{key: key, claimed: now, before: last[key]}
				grouped[key] = b
				batches = append(batches, b)
				plan.Slots[key] = now
			}
			b.notes = append(b.notes, n)
			plan.Claim = append(plan.Claim, n.ID)
		}
		return plan
	})
	if err != nil {
		return false, err
	}
	for _, ch := range held {
		e.metrics.notifications.WithLabelValues(string(ch), rota.DeliveryDeferred).Inc()
	}
	var maint map[string][]rota.Maintenance
	if len(batches) > 0 {
		if maint, err = e.store.ActiveMaintenance(ctx, now); err != nil {
			e.log.Error("cannot read maintenance windows: pages go out", "err", err)
		}
	}
	for _, b := range batches {
		for _, n := range b.notes {
			e.metrics.lag.Observe(now.Sub(n.NextAttempt).Seconds())
		}
		// Each destination (a webhook's host, a provider) has slots of
		// its own, which a batch waits for in its own goroutine: one
		// that hangs holds its own messages back, never another's, and
		// never this loop.
		b.slots = e.destinationSlots(b.notes[0])
		b.maintenance = maint
		e.wg.Add(1)
		go func(b *batch) {
			defer e.wg.Done()
			e.deliver(ctx, b)
		}(b)
	}
	return plan.Busy > 0, nil
}

// claimLease is how long a daemon's claim on a notification it is sending
// lasts without renewal: a daemon that dies mid-send gives its claims up
// to the others this long after. Claims are renewed every third of it.
const claimLease = 10 * time.Second

// destinationSlots returns the slots of n's destination: Workers for a
// provider (Twilio, the relay), PerDestination for a webhook's host.
func (e *Engine) destinationSlots(n rota.Notification) chan struct{} {
	dest := destination(n)
	if s := e.dests[dest]; s != nil {
		return s
	}
	size := e.destinationLimit(n.Channel)
	s := make(chan struct{}, size)
	e.dests[dest] = s
	return s
}

// redacted is an error whose text hides secrets, keeping what it wraps.
type redacted struct {
	err  error
	text string
}

func (r redacted) Error() string { return r.text }
func (r redacted) Unwrap() error { return r.err }

// destination is where a notification goes: a webhook's host, a Slack
// user or channel, or the provider of its channel (Twilio for SMS and
// voice, the SMTP relay for email).
func destination(n rota.Notification) string {
	switch n.Channel {
	case rota.ContactWebhook, rota.ContactSlack, rota.ContactTeams:
		if u, err := url.Parse(n.Address); err == nil && u.Host != "" {
			return "host:" + strings.ToLower(u.Host)
		}
		return "to:" + string(n.Channel) + ":" + n.Address
	}
	return "provider:" + string(n.Channel)
}

// destinationLimit is how many messages go to one destination at once:
// Workers to a provider (Twilio, the relay), PerDestination to a
// webhook's host or a chat channel.
func (e *Engine) destinationLimit(c rota.Channel) int {
	if c == rota.ContactWebhook || c == rota.ContactSlack || c == rota.ContactTeams {
		return e.opts.PerDestination
	}
	return e.opts.Workers
}

// deliver sends one batch and records what happened.
func (e *Engine) deliver(ctx context.Context, b *batch) {
	defer e.Wake()
	// The claim is renewed while the batch waits and is sent, so that no
	// other daemon takes it over; if this one dies, the claim runs out.
	stop := e.renewClaims(ctx, b)
	// The destination's slot bounds requests to it, not the recording
	// that follows (a durable commit).
	b.slots <- struct{}{}
	ds := e.attempt(ctx, b)
	<-b.slots
	if !b.claimed.IsZero() && !sentAny(ds) {
		if err := e.store.GiveBackSlot(context.WithoutCancel(ctx), b.key, b.claimed, b.before); err != nil {
			e.log.Error("cannot give a rate-limit slot back", "person", b.key[0], "channel", b.key[1], "err", err)
		}
	}
	for _, d := range ds {
		outcome := d.Outcome
		if d.Logged {
			outcome = rota.DeliveryLogged
		}
		e.metrics.notifications.WithLabelValues(b.key[1], outcome).Inc()
	}
	// A page's off-hours status is judged now, by the person's hours of
	// this moment, and kept, with the quiet gap that makes it an
	// interruption: accounting counts rather than rereads.
	org := e.book.Roster().Org()
	for i := range ds {
		if pg := ds[i].Page; pg != nil {
			if p := org.Person(pg.Person); p != nil {
				pg.OffHours = policy.OffHours(p, ds[i].At)
			}
			pg.Gap = interruptionGap(org, pg.Person)
		}
	}
	recorded := e.record(ctx, ds, len(b.notes))
	stop()
	if recorded && sentAny(ds) {
		e.wakeAccounting()
	}
}

// record records a round's deliveries. What was not sent stays pending
// when the store fails, and is tried again: at least once. What was sent
// is not sent again because the store failed (a full disk, a database
// outage): its claims are held, and recording is tried again, a second
// apart and then up to maxRecordWait apart, until the store takes it or
// the engine stops. It reports whether the store took it.
func (e *Engine) record(ctx context.Context, ds []rota.Delivery, notes int) bool {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		err := e.store.RecordDeliveries(context.WithoutCancel(ctx), ds, policy.LateNews)
		if err == nil {
			if attempt > 1 {
				e.log.Info("recorded sends held since the store failed", "notifications", notes, "attempts", attempt)
			}
			return true
		}
		if !sentAny(ds) {
			e.log.Error("cannot record deliveries: they stay pending and are tried again", "err", err, "notifications", notes)
			return false
		}
		if attempt == 1 {
			e.metrics.unrecorded.Inc()
			e.log.Error("sent, but the store cannot record it: held (not sent again) while recording is retried", "err", err, "notifications", notes)
		} else {
			e.log.Warn("still cannot record sends: held", "err", err, "notifications", notes, "attempt", attempt)
		}
		select {
		case <-ctx.Done():
			e.log.Error("stopping with sends not recorded: the next start may send them again", "notifications", notes)
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, maxRecordWait)
	}
}

// maxRecordWait bounds the wait between two tries to record sends: the
// record is made within it of the store's return.
const maxRecordWait = 5 * time.Second

// interruptionGap is a person's quiet gap: the shortest of their teams'
// (a page to someone in two teams interrupts them by either's measure).
func interruptionGap(org *rota.Org, person string) time.Duration {
	gap := time.Duration(0)
	for _, t := range org.Teams {
		if member(t.Members, person) && t.SLO.InterruptionGap > 0 && (gap == 0 || t.SLO.InterruptionGap < gap) {
			gap = t.SLO.InterruptionGap
		}
	}
	if gap == 0 {
		gap = rota.DefaultInterruptionGap
	}
	return gap
}

// zone is a person's time zone, for times on the timeline.
func (e *Engine) zone(person string) *time.Location {
	if p := e.book.Roster().Org().Person(person); p != nil && p.Location != nil {
		return p.Location
	}
	return time.UTC
}

func sentAny(ds []rota.Delivery) bool {
	for _, d := range ds {
		if d.Outcome == rota.DeliverySent {
			return true
		}
	}
	return false
}

// attempt sends a batch and returns the delivery outcome of each of its
// notifications.
//
// A message sent is recorded at the time rota released it (the round
// that claimed its rate-limit slot), not when its provider answered: the
// rate limit's hold and the interruption gap then both measure rota's own
// decisions, which a replay reproduces, rather than loading, reply codes
// and a provider's latency (Slack's pacing waits up to 2s), which it
// cannot.
func (e *Engine) attempt(ctx context.Context, b *batch) []rota.Delivery {
	released := b.claimed
	if released.IsZero() {
		released = e.now()
	}
	switch first := b.notes[0]; first.Kind {
	case rota.KindNotice:
		return e.attemptNotice(ctx, first, released)
	case rota.KindUpdate:
		return e.attemptUpdate(ctx, first, released)
	}
	org := e.book.Roster().Org()
	// Load the incidents: skip those no longer triggered, and order the
	// bundle oldest first.
	var alerts []rota.Incident
	seen := map[int64]bool{}
	var ds []rota.Delivery
	var live []rota.Notification
	ids := make([]int64, len(b.notes))
	for i, n := range b.notes {
		ids[i] = n.IncidentID
	}
	incidents, err := e.store.IncidentsByID(ctx, ids)
	if err != nil {
		e.log.Error("cannot load the incidents of a message", "notification", b.notes[0].ID, "err", err)
		return nil
	}
	for _, n := range b.notes {
		a, ok := incidents[n.IncidentID]
		if !ok {
			e.log.Error("cannot load the incident of a notification", "incident", n.IncidentID, "notification", n.ID)
			return nil
		}
		if a.Status != rota.StatusTriggered {
			ds = append(ds, rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryCancelled, Error: "incident " + string(a.Status),
				Events: []rota.IncidentEvent{{IncidentID: n.IncidentID, At: e.now(), Kind: rota.EventNotSent, Actor: n.Person,
					Message: fmt.Sprintf("%s to %s not sent: the incident was %s first", n.Channel, n.Person, a.Status)}}})
			continue
		}
		if until, why, held := policy.InMaintenance(org.Service(a.Service), b.maintenance[a.Service], e.now()); held {
			// Planned work began after this was queued: it waits for the
			// window's end, and goes if the incident still fires then.
			who := recipient(n)
			ds = append(ds, rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryDeferred, NextAttempt: until,
				Events: []rota.IncidentEvent{{IncidentID: n.IncidentID, At: e.now(), Kind: rota.EventMaintenance, Actor: n.Person,
					Message: fmt.Sprintf("%s to %s held: %s until %s", n.Channel, who, why, until.In(e.zone(n.Person)).Format("15:04 MST"))}}})
			continue
		}
		live = append(live, n)
		if !seen[a.ID] {
			seen[a.ID] = true
			alerts = append(alerts, a)
		}
	}
	if len(live) == 0 {
		return ds
	}
	sort.Slice(alerts, func(i, j int) bool { return alerts[i].ID < alerts[j].ID })
	first := live[0]
	msg := notify.Message{NotificationID: first.ID, Kind: first.Kind, Person: first.Person, Channel: first.Channel, Address: first.Address,
		Incidents: alerts, PublicURL: e.opts.PublicURL, Now: e.now()}
	if len(alerts) == 1 {
		msg.Reason = first.Reason
	}
	msg.Shadow = first.Shadow
	msg.Text = text(alerts, msg.Reason)
	if first.Channel == rota.ContactSMS {
		ids := make([]int64, len(alerts))
		for i, a := range alerts {
			ids[i] = a.ID
		}
		codes, err := e.store.ReplyCodes(ctx, first.Person, ids)
		if err != nil {
			e.log.Error("cannot assign reply codes", "person", first.Person, "err", err)
			return nil
		}
		msg.Codes, msg.Text = codes, smsText(alerts, codes, msg.Reason)
		if msg.Shadow {
			msg.Text = shadowText(alerts)
		}
	}
	notifier := e.opts.Notifiers.For(first.Channel)
	sctx, cancel := context.WithTimeout(ctx, e.sendTimeout(first.Channel))
	receipt, err := notifier.Notify(sctx, msg)
	cancel()
	now := e.now()
	if err == nil {
		for _, a := range alerts {
			if a.Escalation.Wave <= 1 {
				e.metrics.firstNotify.Observe(now.Sub(a.CreatedAt).Seconds())
			}
		}
		for i, n := range live {
			ev := fmt.Sprintf("notified %s (%s)", n.Person, n.Channel)
			if receipt.Logged {
				ev = fmt.Sprintf("logged for %s (%s), not sent: %s", n.Person, n.Channel, noProvider(n.Channel))
			}
			if len(alerts) > 1 {
				ev += fmt.Sprintf(", with %s in one message", pluralize(len(alerts)-1, "1 other incident", fmt.Sprintf("%d other incidents", len(alerts)-1)))
			}
			d := rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliverySent, At: released, BundleID: first.ID, ExternalID: receipt.ID, Logged: receipt.Logged,
				Page:   &rota.Page{IncidentID: n.IncidentID, Person: n.Person, Channel: n.Channel},
				Events: []rota.IncidentEvent{{IncidentID: n.IncidentID, At: now, Kind: rota.EventNotified, Actor: n.Person, Message: ev}}}
			switch {
			case n.Kind == rota.KindPost:
				// A channel is not a person: no page.
				d.Page = nil
				d.Events[0].Actor, d.Events[0].Message = "", fmt.Sprintf("posted to %s (%s)", n.ChatChannel, n.Channel)
				if receipt.Logged {
					d.Events[0].Message = fmt.Sprintf("logged for %s (%s), not posted: %s", n.ChatChannel, n.Channel, noProvider(n.Channel))
				}
			case n.Shadow:
				// A learner's copy interrupts nobody on call: no page.
				d.Page = nil
				d.Events[0].Message = fmt.Sprintf("shadow copy to %s (%s)", n.Person, n.Channel)
			}
			if i > 0 && live[i-1].IncidentID == n.IncidentID {
				d.Events = nil
			}
			ds = append(ds, d)
		}
		return ds
	}
	return append(ds, e.failed(live, err, now)...)
}

// failed decides what becomes of notifications whose send failed: a retry
// with backoff, or, given up, their person's next contact method at once.
func (e *Engine) failed(notes []rota.Notification, sendErr error, now time.Time) []rota.Delivery {
	var ds []rota.Delivery
	// A failure applies to every notification of the batch alike. Its
	// text never holds a contact's URL whole, whatever the notifier said.
	for _, n := range notes {
		err := redacted{sendErr, rota.RedactIn(sendErr.Error(), n.Address)}
		attempts := n.Attempts + 1
		next := e.nextContact(n)
		// A provider that asks to wait (Slack's 429 with Retry-After) is
		// waited for, and the attempt is not held against the contact:
		// nothing is wrong with it, the provider is pacing us.
		if after, ok := notify.RetryAfterOf(err); ok && now.Sub(n.CreatedAt) < e.opts.RetryFor {
			ds = append(ds, rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryRetry, Error: err.Error(),
				NextAttempt: now.Add(max(after, e.opts.Backoff)), KeepAttempts: true})
			continue
		}
		// With another contact method to try, a few attempts; with
		// none, retries outlast an outage: RetryFor since the first.
		giveUp := notify.IsPermanent(err) || now.Sub(n.CreatedAt) >= e.opts.RetryFor || next != nil && attempts >= e.opts.MaxAttempts
		if !giveUp {
			ds = append(ds, rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryRetry, Error: err.Error(),
				NextAttempt: now.Add(e.backoff(attempts))})
			if n.Attempts == 0 {
				// Said once a notification, with the reason (a refused
				// certificate, a wrong password), not at every retry.
				e.log.Warn("notification not delivered: retrying", "notification", n.ID, "incident", n.IncidentID, "person", n.Person,
					"channel", n.Channel, "err", err, "next_attempt", now.Add(e.backoff(attempts)))
			}
			continue
		}
		why := "gave up after " + fmt.Sprint(attempts) + " attempts"
		switch {
		case notify.IsPermanent(err):
			why = "will not retry"
		case next == nil:
			why = fmt.Sprintf("gave up after %d attempts in %s", attempts, rota.FormatDuration(now.Sub(n.CreatedAt).Round(time.Second)))
		}
		d := rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryFailed, Error: err.Error(), At: now,
			Events: []rota.IncidentEvent{{IncidentID: n.IncidentID, At: now, Kind: rota.EventNotifyFailed, Actor: n.Person,
				Message: fmt.Sprintf("%s to %s failed (%s): %v", n.Channel, recipient(n), why, err)}}}
		if next != nil {
			d.Failover = next
			d.Events[0].Message += fmt.Sprintf("; trying %s at once", next.Channel)
		}
		e.log.Warn("notification failed", "notification", n.ID, "incident", n.IncidentID, "person", n.Person, "channel", n.Channel, "err", err)
		ds = append(ds, d)
	}
	return ds
}

// nextContact returns the person's contact method after n's, from the
// current configuration, or nil when n's was the last.
func (e *Engine) nextContact(n rota.Notification) *rota.Notification {
	if n.Kind == rota.KindUpdate || n.Kind == rota.KindPost {
		return nil // news goes where the page went; a channel has one address
	}
	p := e.book.Roster().Org().Person(n.Person)
	if p == nil || n.ContactIndex+1 >= len(p.Contacts) {
		return nil
	}
	c := p.Contacts[n.ContactIndex+1]
	if n.Kind == rota.KindNotice && c.Type == rota.ContactVoice {
		// A notice is text: skip a call.
		return e.nextContact(rota.Notification{IncidentID: n.IncidentID, Person: n.Person, ContactIndex: n.ContactIndex + 1, Wave: n.Wave,
			Kind: n.Kind, Body: n.Body})
	}
	return &rota.Notification{IncidentID: n.IncidentID, Person: n.Person, Channel: c.Type, Address: c.Address,
		ContactIndex: n.ContactIndex + 1, Wave: n.Wave, Status: rota.NotifyPending, Reason: n.Reason, Kind: n.Kind, Body: n.Body,
		Updates: c.Updates && c.Type != rota.ContactVoice && n.Kind == rota.KindPage}
}

// attemptNotice sends a manager's notice: its text alone, whatever became
// of the incident that caused it.
func (e *Engine) attemptNotice(ctx context.Context, n rota.Notification, released time.Time) []rota.Delivery {
	notifier := e.opts.Notifiers.For(n.Channel)
	sctx, cancel := context.WithTimeout(ctx, e.sendTimeout(n.Channel))
	receipt, err := notifier.Notify(sctx, notify.Message{NotificationID: n.ID, Kind: notify.KindNotice, Person: n.Person, Channel: n.Channel,
		Address: n.Address, Text: n.Body, PublicURL: e.opts.PublicURL, Now: e.now()})
	cancel()
	now := e.now()
	if err != nil {
		return e.failed([]rota.Notification{n}, err, now)
	}
	told := "told"
	if receipt.Logged {
		told = fmt.Sprintf("logged, not sent (%s), for", noProvider(n.Channel))
	}
	return []rota.Delivery{{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliverySent, At: released, BundleID: n.ID, ExternalID: receipt.ID, Logged: receipt.Logged,
		Events: []rota.IncidentEvent{{IncidentID: n.IncidentID, At: now, Kind: rota.EventNotified, Actor: n.Person,
			Message: fmt.Sprintf("%s %s (%s): %s", told, recipient(n), n.Channel, truncate(n.Body, 80))}}}}
}

// attemptUpdate tells someone already notified of an incident what
// became of it (n.Body: "acknowledged by alice (slack)"), on the contact
// they were notified on: never a page. The incident is sent as it stands
// now, so that a chat message edited in place shows its state.
func (e *Engine) attemptUpdate(ctx context.Context, n rota.Notification, released time.Time) []rota.Delivery {
	inc, err := e.store.Incident(ctx, n.IncidentID)
	if err != nil {
		e.log.Error("cannot load the incident of an update", "incident", n.IncidentID, "notification", n.ID, "err", err)
		return nil
	}
	u := n.Update
	if u.Action == "" {
		u = legacyUpdate(n.Body)
	}
	action, by, verb := u.Action, u.By, u.Action.PastTense()
	text := truncate(fmt.Sprintf("#%d %s: %s - %s", inc.ID, inc.Service, inc.Summary, u.Text()), maxText)
	if n.Channel == rota.ContactSMS {
		text = truncateASCII(gsm(text), 160)
	}
	notifier := e.opts.Notifiers.For(n.Channel)
	sctx, cancel := context.WithTimeout(ctx, e.sendTimeout(n.Channel))
	receipt, err := notifier.Notify(sctx, notify.Message{NotificationID: n.ID, Kind: notify.KindUpdate, Person: n.Person, Channel: n.Channel,
		Address: n.Address, Incidents: []rota.Incident{inc}, Text: text, PublicURL: e.opts.PublicURL, Now: e.now(), Shadow: n.Shadow,
		Update: &notify.Update{Action: action, By: by, Thread: n.Thread}})
	cancel()
	now := e.now()
	if err != nil {
		return e.failed([]rota.Notification{n}, err, now)
	}
	who := n.Person
	if who == "" {
		who = "the channel"
	}
	msg := fmt.Sprintf("told %s it was %s (%s)", who, verb, n.Channel)
	if receipt.Logged {
		msg = fmt.Sprintf("logged for %s that it was %s (%s), not sent: %s", who, verb, n.Channel, noProvider(n.Channel))
	}
	return []rota.Delivery{{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliverySent, At: released, BundleID: n.ID, ExternalID: receipt.ID, Logged: receipt.Logged,
		Events: []rota.IncidentEvent{{IncidentID: n.IncidentID, At: now, Kind: rota.EventNotified, Actor: n.Person, Message: msg}}}}
}

// legacyUpdate reads an update queued before updates were typed (schema
// 27), from its text: "acknowledged by alice (sms)", "escalated by chloe
// (web) to alice", "escalated to alice".
func legacyUpdate(body string) rota.Update {
	verb, by, _ := strings.Cut(body, " by ")
	var to string
	if rest, ok := strings.CutPrefix(verb, "escalated to "); ok {
		verb, by, to = "escalated", "", rest
	}
	if b, t, ok := strings.Cut(by, " to "); ok { // "chloe (web) to alice"
		by, to = b, t
	}
	u := rota.Update{Action: map[string]rota.Action{"acknowledged": rota.ActionAcknowledge, "resolved": rota.ActionResolve, "escalated": rota.ActionEscalate}[verb], By: by}
	if to != "" {
		u.To = strings.Split(to, ", ")
	}
	return u
}

// renewClaims keeps b's claims alive until the returned stop is called.
func (e *Engine) renewClaims(ctx context.Context, b *batch) (stop func()) {
	ids := make([]int64, len(b.notes))
	for i, n := range b.notes {
		ids[i] = n.ID
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(claimLease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := e.store.RenewClaims(context.WithoutCancel(ctx), e.owner, ids, e.now().Add(claimLease)); err != nil {
					e.log.Warn("cannot renew claims on notifications being sent", "err", err)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// recipient names who a notification is for: its person, or the chat
// channel a post or an announcement goes to.
func recipient(n rota.Notification) string {
	switch {
	case n.Person != "":
		return n.Person
	case n.ChatChannel != "":
		return n.ChatChannel
	}
	return "the channel"
}

// noProvider says why a notification on channel c only went to the log.
func noProvider(c rota.Channel) string {
	return fmt.Sprintf("no provider is configured for %s", c)
}

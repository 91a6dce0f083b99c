package paging

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// rateLimited reports whether a channel interrupts a person by phone: SMS
// and voice are held to one per person per RateLimit and bundled.
func rateLimited(channel string) bool {
	return channel == rota.ContactSMS || channel == rota.ContactVoice
}

// batch is notifications sent as one message: one notification, or those
// a rate limit held back for one person and channel.
type batch struct {
	key   [2]string // person, channel
	notes []rota.Notification
	// claimed is when the batch took its rate-limit slot, and before what
	// the slot held; a failed send gives the slot back.
	claimed, before time.Time
}

// deliverDue sends the notifications due at now that are not already in
// flight.
func (e *Engine) deliverDue(ctx context.Context, now time.Time) error {
	// The due list is read under the lock a finishing delivery takes to
	// leave the in-flight set, after recording its outcome. So either the
	// outcome was committed before this read (the row is no longer due)
	// or the notification is still marked in flight below: never sent
	// twice from a stale list.
	e.mu.Lock()
	due, err := e.store.DueNotifications(ctx, now, 2000)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	var batches []*batch
	grouped := map[[2]string]*batch{}
	var deferred []rota.Delivery
	for _, n := range due {
		if e.inflight[n.ID] {
			continue
		}
		e.metrics.lag.Observe(now.Sub(n.NextAttempt).Seconds())
		if !rateLimited(n.Channel) {
			batches = append(batches, &batch{key: [2]string{n.Person, n.Channel}, notes: []rota.Notification{n}})
			continue
		}
		key := [2]string{n.Person, n.Channel}
		if next := e.lastSent[key].Add(e.opts.RateLimit); now.Before(next) {
			deferred = append(deferred, rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryDeferred, NextAttempt: next})
			e.metrics.notifications.WithLabelValues(n.Channel, rota.DeliveryDeferred).Inc()
			continue
		}
		b := grouped[key]
		if b == nil {
			b = &batch{key: key}
			grouped[key] = b
			batches = append(batches, b)
		}
		b.notes = append(b.notes, n)
	}
	for _, b := range batches {
		for _, n := range b.notes {
			e.inflight[n.ID] = true
		}
		if rateLimited(b.key[1]) {
			// Claimed now, so that the next round holds further
			// notifications for this person back while this one is
			// being sent.
			b.claimed, b.before = now, e.lastSent[b.key]
			e.lastSent[b.key] = now
		}
	}
	e.mu.Unlock()

	if len(deferred) > 0 {
		if err := e.store.RecordDeliveries(ctx, deferred); err != nil {
			return err
		}
	}
	for _, b := range batches {
		e.wg.Add(1)
		e.slots <- struct{}{}
		go func(b *batch) {
			defer func() { <-e.slots; e.wg.Done() }()
			e.deliver(ctx, b)
		}(b)
	}
	return nil
}

// deliver sends one batch and records what happened.
func (e *Engine) deliver(ctx context.Context, b *batch) {
	defer func() {
		e.mu.Lock()
		for _, n := range b.notes {
			delete(e.inflight, n.ID)
		}
		e.mu.Unlock()
		e.Wake()
	}()
	ds := e.attempt(ctx, b)
	if !b.claimed.IsZero() && !sentAny(ds) {
		e.mu.Lock()
		if e.lastSent[b.key].Equal(b.claimed) {
			e.lastSent[b.key] = b.before
		}
		e.mu.Unlock()
	}
	for _, d := range ds {
		e.metrics.notifications.WithLabelValues(b.key[1], d.Outcome).Inc()
	}
	// A page's off-hours status is judged now, by the person's hours of
	// this moment, and kept: accounting counts rather than rereads.
	org := e.book.Roster().Org()
	for i := range ds {
		if pg := ds[i].Page; pg != nil {
			if p := org.Person(pg.Person); p != nil {
				pg.OffHours = policy.OffHours(p, ds[i].At)
			}
		}
	}
	if err := e.store.RecordDeliveries(context.WithoutCancel(ctx), ds); err != nil {
		// The notifications stay pending and are sent again: at least once.
		e.log.Error("cannot record deliveries", "err", err, "notifications", len(b.notes))
		return
	}
	accountStart := time.Now()
	for _, d := range ds {
		if d.Page != nil {
			pg := *d.Page
			pg.At = d.At
			e.account(context.WithoutCancel(ctx), pg)
		}
	}
	e.metrics.accounting.Observe(time.Since(accountStart).Seconds())
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
func (e *Engine) attempt(ctx context.Context, b *batch) []rota.Delivery {
	// Load the alerts: skip those no longer triggered, and order the
	// bundle oldest first.
	var alerts []rota.Incident
	seen := map[int64]bool{}
	var ds []rota.Delivery
	var live []rota.Notification
	for _, n := range b.notes {
		a, err := e.store.Incident(ctx, n.IncidentID)
		if err != nil {
			e.log.Error("cannot load alert for a notification", "alert", n.IncidentID, "notification", n.ID, "err", err)
			return nil
		}
		if a.Status != rota.StatusTriggered {
			ds = append(ds, rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryCancelled, Error: "incident " + string(a.Status)})
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
	msg := Message{NotificationID: first.ID, Person: first.Person, Channel: first.Channel, Address: first.Address,
		Incidents: alerts, Now: e.now()}
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
	notifier := e.opts.Notifiers[first.Channel]
	if notifier == nil {
		notifier = e.opts.Fallback
	}
	sctx, cancel := context.WithTimeout(ctx, e.opts.SendTimeout)
	receipt, err := notifier.Notify(sctx, msg)
	cancel()
	now := e.now()
	if err == nil {
		for _, a := range alerts {
			if a.Escalation.Wave <= 1 {
				e.metrics.firstNotify.Observe(now.Sub(a.CreatedAt).Seconds())
			}
		}
		bundled := len(alerts) > 1
		for i, n := range live {
			ev := fmt.Sprintf("%s to %s sent", n.Channel, n.Person)
			if bundled {
				ev = fmt.Sprintf("%s to %s sent in a bundle of %d alerts", n.Channel, n.Person, len(alerts))
			}
			// The bundle interrupted the person once: its first alert is
			// the page, the others are bundled duplicates.
			d := rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliverySent, At: now, BundleID: first.ID, ExternalID: receipt.ID,
				Page:   &rota.Page{IncidentID: n.IncidentID, Person: n.Person, Channel: n.Channel, Bundled: bundled && n.IncidentID != alerts[0].ID},
				Events: []rota.IncidentEvent{{IncidentID: n.IncidentID, At: now, Kind: rota.EventNotified, Actor: n.Person, Message: ev}}}
			if n.Shadow {
				// A learner's copy interrupts nobody on call: no page.
				d.Page = nil
				d.Events[0].Message = fmt.Sprintf("shadow copy by %s to %s sent", n.Channel, n.Person)
			}
			if i > 0 && live[i-1].IncidentID == n.IncidentID {
				d.Events = nil
			}
			ds = append(ds, d)
		}
		return ds
	}

	// A failure applies to every notification of the batch alike.
	for _, n := range live {
		attempts := n.Attempts + 1
		if !IsPermanent(err) && attempts < e.opts.MaxAttempts {
			ds = append(ds, rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryRetry, Error: err.Error(),
				NextAttempt: now.Add(e.backoff(attempts))})
			continue
		}
		why := "gave up after " + fmt.Sprint(attempts) + " attempts"
		if IsPermanent(err) {
			why = "will not retry"
		}
		d := rota.Delivery{NotificationID: n.ID, IncidentID: n.IncidentID, Outcome: rota.DeliveryFailed, Error: err.Error(), At: now,
			Events: []rota.IncidentEvent{{IncidentID: n.IncidentID, At: now, Kind: rota.EventNotifyFailed, Actor: n.Person,
				Message: fmt.Sprintf("%s to %s failed (%s): %v", n.Channel, n.Person, why, err)}}}
		if next := e.nextContact(n); next != nil {
			d.Failover = next
			d.Events[0].Message += fmt.Sprintf("; trying %s at once", next.Channel)
		}
		e.log.Warn("notification failed", "notification", n.ID, "alert", n.IncidentID, "person", n.Person, "channel", n.Channel, "err", err)
		ds = append(ds, d)
	}
	return ds
}

// nextContact returns the person's contact method after n's, from the
// current configuration, or nil when n's was the last.
func (e *Engine) nextContact(n rota.Notification) *rota.Notification {
	p := e.book.Roster().Org().Person(n.Person)
	if p == nil || n.ContactIndex+1 >= len(p.Contacts) {
		return nil
	}
	c := p.Contacts[n.ContactIndex+1]
	return &rota.Notification{IncidentID: n.IncidentID, Person: n.Person, Channel: c.Type, Address: c.Address,
		ContactIndex: n.ContactIndex + 1, Wave: n.Wave, Status: rota.NotifyPending, Reason: n.Reason}
}

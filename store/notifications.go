package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

const notificationColumns = `id, COALESCE(incident_id, 0), person, channel, address, contact_index, wave, status, attempts,
	next_attempt_ms, last_error, created_ms, sent_ms, bundle_id, external_id, provider_status, delivered_ms, reason, shadow, kind, body, updates, thread,
	update_action, update_by, update_to, chat_channel`

func (db *DB) notifications(ctx context.Context, where string, args ...any) ([]rota.Notification, error) {
	rows, err := db.query(ctx, "SELECT "+notificationColumns+" FROM notifications "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return scanNotifications(rows)
}

func scanNotifications(rows *sql.Rows) ([]rota.Notification, error) {
	defer rows.Close()
	var out []rota.Notification
	for rows.Next() {
		var n rota.Notification
		var next, created int64
		var sent, bundle, delivered sql.NullInt64
		var to string
		if err := rows.Scan(&n.ID, &n.IncidentID, &n.Person, &n.Channel, &n.Address, &n.ContactIndex, &n.Wave, &n.Status, &n.Attempts,
			&next, &n.LastError, &created, &sent, &bundle, &n.ExternalID, &n.ProviderStatus, &delivered, &n.Reason, &n.Shadow, &n.Kind, &n.Body, &n.Updates, &n.Thread,
			&n.Update.Action, &n.Update.By, &to, &n.ChatChannel); err != nil {
			return nil, fmt.Errorf("list notifications: %w", err)
		}
		if to != "" {
			n.Update.To = strings.Split(to, ", ")
		}
		n.NextAttempt, n.CreatedAt, n.SentAt, n.BundleID = fromMillis(next), fromMillis(created), nullTime(sent), bundle.Int64
		n.DeliveredAt = nullTime(delivered)
		out = append(out, n)
	}
	return out, rows.Err()
}

// PendingNotifications counts the outbox: pending notifications, due or not.
func (db *DB) PendingNotifications(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE status = 'pending'").Scan(&n)
	return n, err
}

// LastSent returns, per person and channel, when the last notification was
// sent since since: what rate limits start from after a restart.
func (db *DB) LastSent(ctx context.Context, since time.Time) (map[[2]string]time.Time, error) {
	rows, err := db.query(ctx, "SELECT person, channel, MAX(sent_ms) FROM notifications WHERE status = 'sent' AND sent_ms >= ? GROUP BY person, channel", since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("last sent: %w", err)
	}
	defer rows.Close()
	out := map[[2]string]time.Time{}
	for rows.Next() {
		var person, channel string
		var ms int64
		if err := rows.Scan(&person, &channel, &ms); err != nil {
			return nil, err
		}
		out[[2]string{person, channel}] = fromMillis(ms)
	}
	return out, rows.Err()
}

// RecordDeliveries writes the outcomes of a round of sending in one
// transaction: sent notifications with their pages, retries and deferrals
// with their next attempts, failures with their failover. late decides
// who hears of an incident answered while its page was on its way (nil:
// nobody).
func (db *DB) RecordDeliveries(ctx context.Context, ds []rota.Delivery, late func(rota.Incident, []rota.Notification) []rota.Notification) error {
	if len(ds) == 0 {
		return nil
	}
	var people []string
	for _, d := range ds {
		if d.Outcome == rota.DeliverySent && d.Page != nil {
			people = append(people, "person:"+d.Page.Person)
		}
	}
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		// Every person's lock at once, in order, rather than one by one
		// as their pages are recorded (see lock).
		if err := tx.lock(people...); err != nil {
			return err
		}
		return recordRound(tx, ds, late, now)
	})
	if err == nil && !db.pg {
		db.local.release(ds)
	}
	return err
}

// recordRound records a round's deliveries: their timeline notes first, in
// one statement (before what a failure adds: "the step reached nobody"),
// then each outcome.
func recordRound(tx wtx, ds []rota.Delivery, late func(rota.Incident, []rota.Notification) []rota.Notification, now time.Time) error {
	var events []rota.IncidentEvent
	for _, d := range ds {
		events = append(events, d.Events...)
	}
	if err := insertEvents(tx, events); err != nil {
		return err
	}
	sent := sentMessages(ds, now)
	if err := defer_(tx, ds); err != nil {
		return err
	}
	if err := tellLate(tx, sent, late, now); err != nil {
		return err
	}
	near := map[nearKey]bool{}
	fresh := map[pageKey]bool{}
	var accounting []rota.AccountItem
	for _, d := range ds {
		if d.Outcome == rota.DeliverySent {
			// A message is marked sent, all its notifications at once, when
			// its first comes up: before its pages are recorded, after the
			// pages of the messages before it (whose interruption it may
			// then be near).
			m := sentMessageOf(d, now)
			if ids, ok := sent[m]; ok {
				if err := markSent(tx, m, ids); err != nil {
					return err
				}
				if err := insertPages(tx, ds, m, now, fresh); err != nil {
					return err
				}
				delete(sent, m)
			}
		}
		if err := recordDelivery(tx, d, now, near, fresh, &accounting); err != nil {
			return fmt.Errorf("record delivery of notification %d: %w", d.NotificationID, err)
		}
	}
	return queueAccounting(tx, accounting)
}

// defer_ holds back the round's deferred notifications, a statement for
// each time they are held until (the rate limit holds a person's
// notifications until the same moment) rather than one each.
func defer_(tx wtx, ds []rota.Delivery) error {
	var order []int64
	ids := map[int64][]string{}
	for _, d := range ds {
		if d.Outcome != rota.DeliveryDeferred {
			continue
		}
		at := d.NextAttempt.UnixMilli()
		if _, ok := ids[at]; !ok {
			order = append(order, at)
		}
		ids[at] = append(ids[at], strconv.FormatInt(d.NotificationID, 10))
	}
	for _, at := range order {
		tx.due(time.UnixMilli(at))
		in, arg := idsIn(tx, ids[at])
		if err := tx.later("UPDATE notifications SET next_attempt_ms = ?, claim_until_ms = NULL WHERE status = 'pending' AND "+in, at, arg); err != nil {
			return fmt.Errorf("hold notifications: %w", err)
		}
	}
	return nil
}

// idsIn is a condition on notifications' ids, in one statement whatever
// their number (prepared once): an array on PostgreSQL, a JSON array on
// SQLite.
func idsIn(tx wtx, ids []string) (string, string) {
	if tx.db.pg {
		return "id = ANY(CAST(? AS BIGINT[]))", "{" + strings.Join(ids, ",") + "}"
	}
	return "id IN (SELECT value FROM json_each(?))", "[" + strings.Join(ids, ",") + "]"
}

// sentMessage is one message sent: a bundle's notifications share their
// time, message id and provider status; a notification of no bundle is a
// message alone (one, its id).
type sentMessage struct {
	at                 int64
	bundle, one        int64
	external, provider string
}

func sentMessageOf(d rota.Delivery, now time.Time) sentMessage {
	m := sentMessage{at: sentAt(d, now).UnixMilli(), bundle: d.BundleID, external: d.ExternalID}
	if d.BundleID == 0 {
		m.one = d.NotificationID
	}
	if d.Logged {
		m.provider = rota.DeliveryLogged
	}
	return m
}

// sentMessages lists the ids of the round's sent notifications by message.
func sentMessages(ds []rota.Delivery, now time.Time) map[sentMessage][]string {
	ids := map[sentMessage][]string{}
	for _, d := range ds {
		if d.Outcome == rota.DeliverySent {
			m := sentMessageOf(d, now)
			ids[m] = append(ids[m], strconv.FormatInt(d.NotificationID, 10))
		}
	}
	return ids
}

// tellLate reads, for a round's sent messages, the pages and posts about
// incidents acknowledged or resolved since they were claimed (the answer
// found them on their way, and the updates it queued passed them by), and
// queues the updates late decides for them. One read for the round.
func tellLate(tx wtx, sent map[sentMessage][]string, late func(rota.Incident, []rota.Notification) []rota.Notification, now time.Time) error {
	if len(sent) == 0 || late == nil {
		return nil
	}
	var all []string
	thread := map[int64]string{}
	for m, ids := range sent {
		all = append(all, ids...)
		for _, id := range ids {
			n, _ := strconv.ParseInt(id, 10, 64)
			thread[n] = m.external
		}
	}
	in, arg := idsIn(tx, all)
	rows, err := tx.query(`SELECT n.id, n.incident_id, n.person, n.channel, n.address, n.contact_index, n.shadow, n.chat_channel, n.updates, n.kind,
		i.status, i.acked_by, i.resolved_by
		FROM notifications n JOIN incidents i ON i.id = n.incident_id
		WHERE i.status <> 'triggered' AND n.kind IN ('page', 'post') AND n.`+in+" ORDER BY n.id", arg)
	if err != nil {
		return fmt.Errorf("updates of answered incidents: %w", err)
	}
	incidents := map[int64]*rota.Incident{}
	var order []int64
	byIncident := map[int64][]rota.Notification{}
	for rows.Next() {
		n := rota.Notification{Status: rota.NotifySent}
		inc := rota.Incident{}
		if err := rows.Scan(&n.ID, &n.IncidentID, &n.Person, &n.Channel, &n.Address, &n.ContactIndex, &n.Shadow, &n.ChatChannel, &n.Updates, &n.Kind,
			&inc.Status, &inc.AckedBy, &inc.ResolvedBy); err != nil {
			rows.Close()
			return fmt.Errorf("updates of answered incidents: %w", err)
		}
		n.Thread = thread[n.ID]
		if incidents[n.IncidentID] == nil {
			inc.ID = n.IncidentID
			incidents[n.IncidentID] = &inc
			order = append(order, n.IncidentID)
		}
		byIncident[n.IncidentID] = append(byIncident[n.IncidentID], n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("updates of answered incidents: %w", err)
	}
	for _, id := range order {
		for _, n := range late(*incidents[id], byIncident[id]) {
			if _, err := insertNotification(tx, n, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// markSent marks a message's notifications sent in one statement rather
// than one each: at the end of a storm's rate-limit hold, one message to a
// person carries dozens.
func markSent(tx wtx, m sentMessage, ids []string) error {
	in, arg := idsIn(tx, ids)
	// Sent stands even if the alert was acknowledged meanwhile: the
	// message went out. Logged (no provider for the channel) is sent as
	// far as rota goes, and says so in its provider status.
	if err := tx.later("UPDATE notifications SET status = 'sent', attempts = attempts + 1, sent_ms = ?, bundle_id = ?, external_id = ?, last_error = '', claim_until_ms = NULL, provider_status = CASE WHEN ? = '' THEN provider_status ELSE ? END WHERE "+in,
		m.at, nullID(m.bundle), m.external, m.provider, m.provider, arg); err != nil {
		return fmt.Errorf("record sent notifications: %w", err)
	}
	return nil
}

func sentAt(d rota.Delivery, now time.Time) time.Time {
	if d.At.IsZero() {
		return now
	}
	return d.At
}

// recordDelivery records one delivery's outcome (recordRound inserts its
// timeline notes, markSent marks the sent ones sent). near remembers, for
// the round, the messages whose interruption is decided.
func recordDelivery(tx wtx, d rota.Delivery, now time.Time, near map[nearKey]bool, fresh map[pageKey]bool, accounting *[]rota.AccountItem) error {
	at := sentAt(d, now)
	var err error
	switch d.Outcome {
	case rota.DeliverySent:
		if d.Page != nil {
			err = recordPage(tx, d, at, near, fresh, accounting)
		}
	case rota.DeliveryRetry:
		counted := 1
		if d.KeepAttempts {
			counted = 0
		}
		tx.due(d.NextAttempt)
		err = tx.later("UPDATE notifications SET attempts = attempts + ?, next_attempt_ms = ?, last_error = ?, claim_until_ms = NULL WHERE id = ? AND status = 'pending'",
			counted, d.NextAttempt.UnixMilli(), d.Error, d.NotificationID)
	case rota.DeliveryDeferred:
		// defer_ did it.
	case rota.DeliveryCancelled:
		err = tx.later("UPDATE notifications SET status = 'cancelled', last_error = ?, claim_until_ms = NULL WHERE id = ? AND status = 'pending'",
			d.Error, d.NotificationID)
	case rota.DeliveryFailed:
		err = tx.later("UPDATE notifications SET status = 'failed', attempts = attempts + 1, last_error = ?, claim_until_ms = NULL WHERE id = ? AND status = 'pending'",
			d.Error, d.NotificationID)
		if err == nil && d.Failover != nil {
			err = failoverTx(tx, *d.Failover, now)
		} else if err == nil {
			err = stepFailed(tx, d.NotificationID, now)
		}
	default:
		return fmt.Errorf("unknown delivery outcome %q", d.Outcome)
	}
	return err
}

// failoverTx brings the person's next contact method forward to now: the
// pending notification for it in the same wave if there is one (a voice
// call waiting its delay), or a new one. Nothing happens once the incident
// is no longer triggered. A notice is text with no scheduled contacts:
// its next contact is always a notification of its own, whatever became
// of the incident.
func failoverTx(tx wtx, n rota.Notification, now time.Time) error {
	if n.Kind == rota.KindNotice {
		n.NextAttempt = now
		_, err := insertNotification(tx, n, now)
		return err
	}
	var status string
	if err := tx.queryRow("SELECT status FROM incidents WHERE id = ?", n.IncidentID).Scan(&status); err != nil {
		return err
	}
	if rota.Status(status) != rota.StatusTriggered {
		return nil
	}
	var id int64
	var st string
	err := tx.queryRow("SELECT id, status FROM notifications WHERE incident_id = ? AND person = ? AND wave = ? AND contact_index = ?",
		n.IncidentID, n.Person, n.Wave, n.ContactIndex).Scan(&id, &st)
	switch {
	case err == sql.ErrNoRows:
		n.NextAttempt = now
		_, err = insertNotification(tx, n, now)
		return err
	case err != nil:
		return err
	case st == rota.NotifyPending:
		tx.due(now)
		_, err = tx.exec("UPDATE notifications SET next_attempt_ms = CASE WHEN next_attempt_ms < ?1 THEN next_attempt_ms ELSE ?1 END WHERE id = ?2", now.UnixMilli(), id)
		return err
	}
	return nil
}

// nearKey is one message to one person: the notifications of a bundle
// share their interruption (the first decides it; the others are near it).
type nearKey struct {
	person string
	bundle int64
	at     int64
}

// pageKey is an incident's page to a person.
type pageKey struct {
	incident int64
	person   string
}

// insertPages records the pages of one message's notifications (one
// person, channel and time) in one statement, and notes in fresh which
// incidents reached the person for the first time; recordPage then reads
// it. A bundle at the end of a storm's rate-limit hold pages dozens.
func insertPages(tx wtx, ds []rota.Delivery, m sentMessage, now time.Time, fresh map[pageKey]bool) error {
	type group struct {
		person   string
		channel  rota.Channel
		offhours bool
	}
	var order []group
	incs := map[group][]string{}
	for _, d := range ds {
		if d.Outcome != rota.DeliverySent || d.Page == nil || sentMessageOf(d, now) != m {
			continue
		}
		g := group{d.Page.Person, d.Page.Channel, d.Page.OffHours}
		if _, ok := incs[g]; !ok {
			order = append(order, g)
		}
		incs[g] = append(incs[g], strconv.FormatInt(d.Page.IncidentID, 10))
	}
	for _, g := range order {
		if err := tx.lock("person:" + g.person); err != nil {
			return err
		}
		q := "INSERT INTO pages (incident_id, person, at_ms, channel, bundled, offhours) SELECT value, ?, ?, ?, 0, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING RETURNING incident_id"
		arg := "[" + strings.Join(incs[g], ",") + "]"
		if tx.db.pg {
			q = "INSERT INTO pages (incident_id, person, at_ms, channel, bundled, offhours) SELECT unnest(CAST(? AS BIGINT[])), ?, ?, ?, 0, ? ON CONFLICT DO NOTHING RETURNING incident_id"
			arg = "{" + strings.Join(incs[g], ",") + "}"
		}
		var args []any
		if tx.db.pg {
			args = []any{arg, g.person, m.at, g.channel, g.offhours}
		} else {
			args = []any{g.person, m.at, g.channel, g.offhours, arg}
		}
		rows, err := tx.query(q, args...)
		if err != nil {
			return fmt.Errorf("record pages: %w", err)
		}
		for _, id := range incs[g] {
			n, _ := strconv.ParseInt(id, 10, 64)
			fresh[pageKey{n, g.person}] = false
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("record pages: %w", err)
			}
			fresh[pageKey{id, g.person}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("record pages: %w", err)
		}
	}
	return nil
}

// recordPage records what a sent notification did to its person: the
// incident reached them (a page, off-hours or not: insertPages inserted
// it, fresh says whether it was new), and, when nothing reached them for
// the gap before, an interruption began. What is new for their budgets is
// queued for accounting in the same transaction.
func recordPage(tx wtx, d rota.Delivery, at time.Time, decided map[nearKey]bool, fresh map[pageKey]bool, accounting *[]rota.AccountItem) error {
	pg := d.Page
	if err := tx.lock("person:" + pg.Person); err != nil {
		return err
	}
	ms := at.UnixMilli()
	var item rota.AccountItem
	isNew, recorded := fresh[pageKey{pg.IncidentID, pg.Person}]
	if !recorded {
		return fmt.Errorf("page of incident %d to %s was not recorded with its message", pg.IncidentID, pg.Person)
	}
	if isNew {
		item.OffHours = pg.OffHours
		// The next notification of this message to the same incident
		// (two alerts' notifications of one incident) reaches it again.
		fresh[pageKey{pg.IncidentID, pg.Person}] = false
	} else if pg.OffHours {
		// Reached again, off-hours this time: it became an off-hours
		// incident, as of now.
		res, err := tx.exec("UPDATE pages SET offhours = 1, at_ms = ? WHERE incident_id = ? AND person = ? AND COALESCE(offhours, 0) = 0", ms, pg.IncidentID, pg.Person)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		item.OffHours = n == 1
	}
	// An interruption begins unless something else reached the person
	// closer than the gap: a notification of another message, or an
	// interruption this round began. Later ones count too: two channels'
	// sends may be recorded in either order.
	gap := pg.Gap.Milliseconds()
	key := nearKey{pg.Person, d.BundleID, ms}
	var near bool
	if d.BundleID == 0 || !decided[key] {
		decided[key] = d.BundleID != 0
	} else {
		// Another notification of this message was recorded this round:
		// the interruption, if any, is its.
		near = true
	}
	if !near {
		if err := tx.queryRow(`SELECT EXISTS (SELECT 1 FROM notifications WHERE person = ? AND status = 'sent' AND sent_ms > ? AND sent_ms < ? AND kind = 'page'
		AND shadow = 0 AND COALESCE(bundle_id, id) <> ?) OR EXISTS (SELECT 1 FROM interruptions WHERE person = ? AND (at_ms > ? AND at_ms < ? OR at_ms = ?))`,
			pg.Person, ms-gap, ms+gap, d.BundleID, pg.Person, ms-gap, ms+gap, ms).Scan(&near); err != nil {
			return err
		}
	}
	if !near {
		if err := tx.later("INSERT INTO interruptions (person, at_ms, incident_id, notification_id, channel, offhours) VALUES (?, ?, ?, ?, ?, ?)",
			pg.Person, ms, pg.IncidentID, d.NotificationID, pg.Channel, pg.OffHours); err != nil {
			return err
		}
		item.Interruption = true
	}
	if item.Interruption || item.OffHours {
		item.Person, item.IncidentID, item.At = pg.Person, pg.IncidentID, fromMillis(ms)
		*accounting = append(*accounting, item)
	}
	return nil
}

// queueAccounting queues a round's pages for accounting, in as few
// statements as it takes.
func queueAccounting(tx wtx, items []rota.AccountItem) error {
	const cols = 5
	for len(items) > 0 {
		chunk := items[:min(len(items), 500)]
		items = items[len(chunk):]
		args := make([]any, 0, len(chunk)*cols)
		for _, it := range chunk {
			args = append(args, it.Person, it.IncidentID, it.At.UnixMilli(), it.Interruption, it.OffHours)
		}
		rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", ")
		if err := tx.later("INSERT INTO accounting (person, incident_id, at_ms, interruption, offhours) VALUES "+rows, args...); err != nil {
			return fmt.Errorf("queue accounting: %w", err)
		}
	}
	return nil
}

// stepFailed runs the next escalation step at once when notification id,
// failed for good with no contact left, was its step's last hope: none of
// the step's pages is pending or was sent, so nobody can answer it, and
// waiting the step's delay would only delay the next. The reason goes on
// the timeline.
func stepFailed(tx wtx, id int64, now time.Time) error {
	var incident int64
	var wave int
	var kind string
	var shadow bool
	if err := tx.queryRow("SELECT COALESCE(incident_id, 0), wave, kind, shadow FROM notifications WHERE id = ?", id).Scan(&incident, &wave, &kind, &shadow); err != nil {
		return err
	}
	if kind != rota.KindPage || shadow {
		return nil
	}
	var hope bool
	if err := tx.queryRow(`SELECT EXISTS (SELECT 1 FROM notifications WHERE incident_id = ? AND wave = ? AND kind = 'page' AND shadow = 0 AND id <> ?
		AND status IN ('pending', 'sent'))`, incident, wave, id).Scan(&hope); err != nil || hope {
		return err
	}
	inc, err := scanIncident(tx.queryRow("SELECT "+incidentColumns+" FROM incidents WHERE id = ?", incident))
	if err != nil {
		return err
	}
	if inc.Status != rota.StatusTriggered || inc.Escalation.Wave != wave {
		return nil // answered, or a later step runs already
	}
	msg := "the step reached nobody: every notification of it failed for good"
	if inc.Escalation.State == rota.EscalationActive && inc.Escalation.DueAt.After(now) {
		tx.due(now)
		if _, err := tx.exec("UPDATE incidents SET esc_due_ms = ?, updated_ms = ? WHERE id = ?", now.UnixMilli(), now.UnixMilli(), incident); err != nil {
			return err
		}
		msg += "; the next step runs now"
	}
	return insertEvents(tx, []rota.IncidentEvent{{IncidentID: incident, At: now, Kind: rota.EventStepFailed, Message: msg}})
}

// withdraw undoes what a message that the provider failed to deliver did
// to its person: the notifications it carried (a bundle's, all of them)
// are failed; each incident's page stands only if another notification of
// it reached the person; the interruption it began, if any, passes to the
// next notification that did reach them within the gap (or is gone), and
// its pending accounting with it.
func withdraw(tx wtx, n rota.Notification, r rota.ProviderReport, now time.Time) error {
	if err := tx.lock("person:" + n.Person); err != nil {
		return err
	}
	bundle := n.BundleID
	if bundle == 0 {
		bundle = n.ID
	}
	rows, err := tx.query("SELECT id, COALESCE(incident_id, 0) FROM notifications WHERE COALESCE(bundle_id, id) = ? AND person = ? AND status = 'sent'", bundle, n.Person)
	if err != nil {
		return err
	}
	var ids, incidents []int64
	for rows.Next() {
		var id, inc int64
		if err := rows.Scan(&id, &inc); err != nil {
			rows.Close()
			return err
		}
		ids, incidents = append(ids, id), append(incidents, inc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i, id := range ids {
		status := ""
		if id == n.ID {
			status = r.Status
		}
		if _, err := tx.exec("UPDATE notifications SET provider_status = CASE WHEN ? = '' THEN provider_status ELSE ? END, status = 'failed', last_error = ? WHERE id = ?",
			status, status, r.Error, id); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM pages WHERE incident_id = ? AND person = ? AND NOT EXISTS (
			SELECT 1 FROM notifications WHERE incident_id = ? AND person = ? AND status = 'sent' AND kind = 'page')`, incidents[i], n.Person, incidents[i], n.Person); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var begun, at int64
	err = tx.queryRow("SELECT id, at_ms FROM interruptions WHERE notification_id IN ("+placeholders(len(ids))+") LIMIT 1", int64sAny(ids)...).Scan(&begun, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := tx.exec("DELETE FROM interruptions WHERE id = ?", begun); err != nil {
		return err
	}
	if _, err := tx.exec("DELETE FROM accounting WHERE person = ? AND at_ms = ? AND interruption = 1", n.Person, at); err != nil {
		return err
	}
	// The first notification that did reach the person within the gap
	// after it begins the interruption instead.
	var next, nextID, inc int64
	var channel string
	err = tx.queryRow(`SELECT sent_ms, id, incident_id, channel FROM notifications WHERE person = ? AND status = 'sent' AND kind = 'page' AND shadow = 0
		AND sent_ms >= ? AND sent_ms < ? ORDER BY sent_ms, id LIMIT 1`, n.Person, at, at+r.Gap.Milliseconds()).Scan(&next, &nextID, &inc, &channel)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var off sql.NullBool
	if err := tx.queryRow("SELECT offhours FROM pages WHERE incident_id = ? AND person = ?", inc, n.Person).Scan(&off); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := tx.exec("INSERT INTO interruptions (person, at_ms, incident_id, notification_id, channel, offhours) VALUES (?, ?, ?, ?, ?, ?)",
		n.Person, next, inc, nextID, channel, off.Bool); err != nil {
		return err
	}
	_, err = tx.exec("INSERT INTO accounting (person, incident_id, at_ms, interruption, offhours) VALUES (?, ?, ?, 1, 0)", n.Person, inc, next)
	return err
}

func int64sAny(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Pages returns the pages recorded since since, oldest first, each with
// whether it paged its person as a deploy's author or merger (a page with
// a reason that is not a shadow's copy).
func (db *DB) Pages(ctx context.Context, since time.Time) ([]rota.Page, error) {
	rows, err := db.query(ctx, `SELECT incident_id, person, at_ms, channel, COALESCE(offhours, 0),
		EXISTS (SELECT 1 FROM notifications n WHERE n.incident_id = pages.incident_id AND n.person = pages.person AND n.reason <> '' AND n.shadow = 0)
		FROM pages WHERE at_ms >= ? ORDER BY at_ms, incident_id`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	defer rows.Close()
	var out []rota.Page
	for rows.Next() {
		var p rota.Page
		var at int64
		if err := rows.Scan(&p.IncidentID, &p.Person, &at, &p.Channel, &p.OffHours, &p.AsAuthor); err != nil {
			return nil, fmt.Errorf("list pages: %w", err)
		}
		p.At = fromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// pageColumns selects what pages scans, before a FROM's INDEXED BY or WHERE.
const pageColumns = "SELECT incident_id, person, at_ms, channel, COALESCE(offhours, 0) FROM pages "

// pages runs q, which selects pageColumns, and scans its pages; what names
// the read in its error.
func (db *DB) pages(ctx context.Context, what, q string, args ...any) ([]rota.Page, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []rota.Page
	for rows.Next() {
		var p rota.Page
		var at int64
		if err := rows.Scan(&p.IncidentID, &p.Person, &at, &p.Channel, &p.OffHours); err != nil {
			return nil, err
		}
		p.At = fromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Notification returns notification id, or an ENOTFOUND error.
func (db *DB) Notification(ctx context.Context, id int64) (rota.Notification, error) {
	ns, err := db.notifications(ctx, "WHERE id = ?", id)
	if err != nil {
		return rota.Notification{}, err
	}
	if len(ns) == 0 {
		return rota.Notification{}, rota.Errorf(rota.ENOTFOUND, "notification %d not found", id)
	}
	return ns[0], nil
}

// RecordProviderReport records a provider's status callback. A failure of
// a message recorded as sent marks the notifications it carried failed,
// withdraws what it did to the person (see withdraw) and brings failover
// forward, all in one transaction with the events. It returns the
// notification as it was before.
func (db *DB) RecordProviderReport(ctx context.Context, r rota.ProviderReport, failover *rota.Notification, events []rota.IncidentEvent) (rota.Notification, error) {
	n, err := db.Notification(ctx, r.NotificationID)
	if err != nil {
		return n, err
	}
	if r.ExternalID != "" && n.ExternalID != "" && r.ExternalID != n.ExternalID {
		return n, rota.Errorf(rota.ECONFLICT, "notification %d is %s, not %s", n.ID, n.ExternalID, r.ExternalID)
	}
	err = db.tx(ctx, func(tx wtx, now time.Time) error {
		switch {
		case r.Delivered:
			_, err := tx.exec("UPDATE notifications SET provider_status = ?, delivered_ms = COALESCE(delivered_ms, ?) WHERE id = ?", r.Status, now.UnixMilli(), n.ID)
			return err
		case r.Failed && n.Status == rota.NotifySent:
			if err := withdraw(tx, n, r, now); err != nil {
				return err
			}
			if failover != nil {
				if err := failoverTx(tx, *failover, now); err != nil {
					return err
				}
			} else if err := stepFailed(tx, n.ID, now); err != nil {
				return err
			}
			return insertEvents(tx, events)
		default:
			_, err := tx.exec("UPDATE notifications SET provider_status = ? WHERE id = ?", r.Status, n.ID)
			return err
		}
	})
	return n, err
}

// PagesFor counts the pages person got (or was to get) for incident id,
// and the shadow copies among them.
func (db *DB) PagesFor(ctx context.Context, person string, id int64) (rota.PagesFor, error) {
	var p rota.PagesFor
	err := db.queryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(shadow), 0) FROM notifications WHERE person = ? AND incident_id = ? AND kind = 'page'", person, id).Scan(&p.Pages, &p.Shadows)
	if err != nil {
		return p, fmt.Errorf("pages for %s: %w", person, err)
	}
	return p, nil
}

// CancelStale cancels pending notifications created before before, each
// with a note on its incident's timeline, and returns how many: what a
// restored backup would otherwise send again, long after it mattered.
func (db *DB) CancelStale(ctx context.Context, before time.Time, why string) (int, error) {
	var n int
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		rows, err := tx.query("SELECT id, COALESCE(incident_id, 0), person, channel FROM notifications WHERE status = 'pending' AND created_ms < ?", before.UnixMilli())
		if err != nil {
			return err
		}
		var events []rota.IncidentEvent
		var ids []int64
		for rows.Next() {
			var id, inc int64
			var person, channel string
			if err := rows.Scan(&id, &inc, &person, &channel); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			events = append(events, rota.IncidentEvent{IncidentID: inc, At: now, Kind: rota.EventNotSent, Actor: person,
				Message: fmt.Sprintf("%s to %s not sent: %s", channel, person, why)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.exec("UPDATE notifications SET status = 'cancelled', last_error = ? WHERE id = ?", why, id); err != nil {
				return err
			}
		}
		n = len(ids)
		return insertEvents(tx, events)
	})
	return n, err
}

// ClaimDue claims the pending notifications due at now that no live claim
// holds, for owner until until, in one transaction (on SQLite, which one
// daemon serves, the claims are kept in memory: claims_local.go): decide is given them
// and the rate limit's last send per person and channel, and says which
// to send now, which the rate limit holds (deferred), and the rate-limit
// slots the sends take. Two daemons never claim one notification, nor one
// person's slot; a claim whose lease runs out (its daemon died) passes to
// whoever claims next. decide may run more than once (a transaction
// retried after a conflict): it must start afresh each time.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, owner string, until time.Time,
	decide func(due []rota.Notification, last map[[2]string]time.Time) rota.OutboxPlan) (rota.OutboxPlan, error) {
	if !db.pg {
		return db.claimLocal(ctx, now, limit, until, decide)
	}
	var plan rota.OutboxPlan
	err := db.tx(ctx, func(tx wtx, _ time.Time) error {
		// Daemons claim side by side, each person's notifications (their
		// rate limit, their bundle) one daemon's decision at a time: the
		// claim tries the locks of the people due (never waiting, so it
		// neither queues behind another claim nor closes a circle), leaves
		// those another transaction holds for the next round, and reads
		// the others' notifications again under their locks, so that what
		// another daemon claimed meanwhile is not claimed twice.
		rows, err := tx.query("SELECT "+notificationColumns+` FROM notifications WHERE status = 'pending' AND next_attempt_ms <= ?
			AND (claim_until_ms IS NULL OR claim_until_ms <= ?) ORDER BY attempts > 0, next_attempt_ms, id LIMIT ?`, now.UnixMilli(), now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		seen, err := scanNotifications(rows)
		if err != nil {
			return err
		}
		var keys []string
		for _, n := range seen {
			keys = append(keys, claimKey(n))
		}
		ours, err := tx.tryLocks(keys)
		if err != nil {
			return err
		}
		args := []any{now.UnixMilli()}
		busy := 0
		for _, n := range seen {
			if ours[claimKey(n)] {
				args = append(args, n.ID)
			} else {
				busy++
			}
		}
		var due []rota.Notification
		if len(args) > 1 {
			rows, err := tx.query("SELECT "+notificationColumns+` FROM notifications WHERE status = 'pending'
				AND (claim_until_ms IS NULL OR claim_until_ms <= ?) AND id IN (`+placeholders(len(args)-1)+`) ORDER BY attempts > 0, next_attempt_ms, id`, args...)
			if err != nil {
				return err
			}
			if due, err = scanNotifications(rows); err != nil {
				return err
			}
		}
		last := map[[2]string]time.Time{}
		if len(due) > 0 {
			// The rate limit of the people due only, not the whole table.
			args := []any{now.Add(-24 * time.Hour).UnixMilli()}
			seen := map[string]bool{}
			for _, n := range due {
				if n.Person != "" && !seen[n.Person] {
					seen[n.Person] = true
					args = append(args, n.Person)
				}
			}
			if len(args) == 1 {
				args = append(args, "")
			}
			rows, err := tx.query("SELECT person, channel, last_ms FROM rate_limits WHERE last_ms > ? AND person IN ("+placeholders(len(args)-1)+")", args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var person, channel string
				var ms int64
				if err := rows.Scan(&person, &channel, &ms); err != nil {
					rows.Close()
					return err
				}
				last[[2]string{person, channel}] = fromMillis(ms)
			}
			rows.Close()
		}
		plan = decide(due, last)
		plan.Busy = busy
		// One statement for the claims (a round trip each would be most
		// of a claim's cost on PostgreSQL).
		for ids := plan.Claim; len(ids) > 0; {
			chunk := ids[:min(len(ids), 500)]
			ids = ids[len(chunk):]
			args := []any{until.UnixMilli(), owner}
			for _, id := range chunk {
				args = append(args, id)
			}
			if err := tx.later("UPDATE notifications SET claim_until_ms = ?, claimed_by = ? WHERE id IN ("+placeholders(len(chunk))+")", args...); err != nil {
				return err
			}
		}
		for key, at := range plan.Slots {
			if err := tx.later(`INSERT INTO rate_limits (person, channel, last_ms) VALUES (?, ?, ?)
				ON CONFLICT (person, channel) DO UPDATE SET last_ms = excluded.last_ms`, key[0], key[1], at.UnixMilli()); err != nil {
				return err
			}
		}
		return recordRound(tx, plan.Deferred, nil, now) // deferrals: nothing sent
	})
	if err != nil {
		return rota.OutboxPlan{}, fmt.Errorf("claim due notifications: %w", err)
	}
	return plan, nil
}

// claimKey is the lock a claim of n takes: its person's, or, for a post
// to a channel, the channel's.
func claimKey(n rota.Notification) string {
	if n.Person != "" {
		return "person:" + n.Person
	}
	if n.ChatChannel != "" {
		return "post:" + n.ChatChannel
	}
	return "post:" + string(n.Channel) + ":" + n.Address
}

// RenewClaims extends owner's claims on notifications still being sent.
func (db *DB) RenewClaims(ctx context.Context, owner string, ids []int64, until time.Time) error {
	if !db.pg {
		db.local.renew(ids, until)
		return nil
	}
	if len(ids) == 0 {
		return nil
	}
	return db.tx(ctx, func(tx wtx, _ time.Time) error {
		args := []any{until.UnixMilli(), owner}
		for _, id := range ids {
			args = append(args, id)
		}
		_, err := tx.exec("UPDATE notifications SET claim_until_ms = ? WHERE claimed_by = ? AND status = 'pending' AND id IN ("+placeholders(len(ids))+")", args...)
		return err
	})
}

// GiveBackSlot returns a rate-limit slot a send took and did not use
// (nothing was sent), unless a later send took it since.
func (db *DB) GiveBackSlot(ctx context.Context, key [2]string, took, before time.Time) error {
	if !db.pg {
		db.local.giveBack(key, took, before)
		return nil
	}
	return db.tx(ctx, func(tx wtx, _ time.Time) error {
		var err error
		if before.IsZero() {
			_, err = tx.exec("DELETE FROM rate_limits WHERE person = ? AND channel = ? AND last_ms = ?", key[0], key[1], took.UnixMilli())
		} else {
			_, err = tx.exec("UPDATE rate_limits SET last_ms = ? WHERE person = ? AND channel = ? AND last_ms = ?", before.UnixMilli(), key[0], key[1], took.UnixMilli())
		}
		return err
	})
}

// QueueOnce queues notices (outbox notifications of kind notice, which
// may belong to no incident) the first time key is seen, in the
// transaction that records key, and says whether it was the first: what
// several daemons each decide to send (a team's digest of one minute)
// goes out once, and, queued, is retried and never lost at a crash.
func (db *DB) QueueOnce(ctx context.Context, key string, notices []rota.Notification) (bool, error) {
	first := false
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		res, err := tx.exec("INSERT INTO done_once (key, at_ms) VALUES (?, ?) ON CONFLICT DO NOTHING", key, now.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		first = true
		for _, n := range notices {
			n.Kind = rota.KindNotice
			if _, err := insertNotification(tx, n, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("queue once %s: %w", key, err)
	}
	return first, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

const incidentColumns = `id, service, group_key, status, summary, severity, alert_count,
	created_ms, updated_ms, acked_ms, acked_by, resolved_ms, resolved_by,
	policy, esc_step, esc_round, esc_wave, esc_state, esc_due_ms, started_ms, deploy, maintenance`

func scanIncident(s scanner) (rota.Incident, error) {
	var a rota.Incident
	var created, updated int64
	var acked, resolved, due, started sql.NullInt64
	var policy string
	var deploy sql.NullString
	err := s.Scan(&a.ID, &a.Service, &a.GroupKey, &a.Status, &a.Summary, &a.Severity, &a.AlertCount,
		&created, &updated, &acked, &a.AckedBy, &resolved, &a.ResolvedBy,
		&policy, &a.Escalation.Step, &a.Escalation.Round, &a.Escalation.Wave, &a.Escalation.State, &due, &started, &deploy, &a.InMaintenance)
	if err != nil {
		return rota.Incident{}, err
	}
	if deploy.Valid {
		a.Deploy = new(rota.Deploy)
		if err := json.Unmarshal([]byte(deploy.String), a.Deploy); err != nil {
			return rota.Incident{}, fmt.Errorf("incident %d deploy: %w", a.ID, err)
		}
	}
	a.StartedAt = nullTime(started)
	if err := json.Unmarshal([]byte(policy), &a.Policy); err != nil {
		return rota.Incident{}, fmt.Errorf("incident %d policy: %w", a.ID, err)
	}
	a.CreatedAt, a.UpdatedAt = fromMillis(created), fromMillis(updated)
	a.AckedAt, a.ResolvedAt, a.Escalation.DueAt = nullTime(acked), nullTime(resolved), nullTime(due)
	return a, nil
}

func nullTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}

func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// openIncident returns the incident q selects (one row of
// incidentColumns), or nil. The grouping lookups name their partial
// indexes: without statistics SQLite would read every incident the
// service ever had.
func openIncident(tx wtx, q string, args ...any) (*rota.Incident, error) {
	inc, err := scanIncident(tx.queryRow("SELECT "+incidentColumns+" FROM incidents "+q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &inc, nil
}

// Trigger applies a trigger event in one transaction: it reads the facts
// (the open alert with the event's dedup key; the service's open incident
// with groupKey, and its youngest open incident created within window),
// asks decide what the event becomes, and writes that: a
// repeat counts, a new alert joins its incident, or a new incident opens
// with its first escalation step (notifications and timeline).
func (db *DB) Trigger(ctx context.Context, ev *rota.Event, groupKey string, window time.Duration, decide func(rota.TriggerFacts) rota.TriggerDecision) (rota.TriggerResult, error) {
	var out rota.TriggerResult
	// What the trigger reads decides under a lock: the service's, or,
	// when it does not group (no group key, no window), only its dedup
	// key's, with the service's in share mode. Then a storm of distinct
	// alerts into one service is not decided one at a time, and what
	// changes the service's incidents (a step, an acknowledgement, a
	// grouping trigger) still waits for them and they for it.
	keys := []string{"service:" + ev.Service}
	if groupKey == "" && window <= 0 {
		keys = []string{fmt.Sprintf("alert:%d:%s:%s", len(ev.Service), ev.Service, ev.DedupKey), shared("service:" + ev.Service)}
	}
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		if err := tx.lock(keys...); err != nil {
			return err
		}
		facts := rota.TriggerFacts{Now: now}
		a, open, err := openAlert(tx, ev.Service, ev.DedupKey)
		if err != nil {
			return err
		}
		if open {
			facts.Open = &a
		} else {
			if facts.Maintenance, err = maintenanceWindows(tx, ev.Service, now); err != nil {
				return err
			}
			if groupKey != "" {
				if facts.Grouped, err = openIncident(tx, "INDEXED BY incidents_open WHERE service = ? AND group_key = ? AND status <> 'resolved' ORDER BY created_ms DESC LIMIT 1", ev.Service, groupKey); err != nil {
					return err
				}
			}
			if window > 0 {
				if facts.Recent, err = openIncident(tx, "INDEXED BY incidents_open_by_age WHERE service = ? AND status <> 'resolved' AND created_ms > ? ORDER BY created_ms DESC LIMIT 1",
					ev.Service, now.Add(-window).UnixMilli()); err != nil {
					return err
				}
			}
		}
		d := decide(facts)
		out.Outcome = d.Outcome
		ms := now.UnixMilli()
		switch d.Outcome {
		case rota.TriggerDeduplicated:
			if facts.Open == nil {
				return fmt.Errorf("trigger: a repeat of no open alert")
			}
			a := *facts.Open
			a.Count++
			a.UpdatedAt = fromMillis(ms)
			if _, err := tx.exec("UPDATE alerts SET count = count + 1, updated_ms = ? WHERE id = ?", ms, a.ID); err != nil {
				return err
			}
			out.Alert = a
			inc, err := openIncident(tx, "WHERE id = ?", a.IncidentID)
			if err != nil || inc == nil {
				return fmt.Errorf("trigger: alert %d's incident: %w", a.ID, err)
			}
			out.Incident = *inc
			return nil
		case rota.TriggerGrouped:
			inc := d.Incident
			inc.AlertCount++
			inc.UpdatedAt = fromMillis(ms)
			tx.due(inc.Escalation.DueAt)
			if _, err := tx.exec("UPDATE incidents SET alert_count = alert_count + 1, severity = ?, esc_due_ms = ?, updated_ms = ? WHERE id = ?",
				inc.Severity, nullMillis(inc.Escalation.DueAt), ms, inc.ID); err != nil {
				return fmt.Errorf("group alert: %w", err)
			}
			a := d.Alert
			a.IncidentID, a.CreatedAt, a.UpdatedAt = inc.ID, fromMillis(ms), fromMillis(ms)
			if inc.Status == rota.StatusAcknowledged {
				a.Status = rota.StatusAcknowledged
			}
			if err := insertAlert(tx, &a); err != nil {
				return err
			}
			out.Alert, out.Incident = a, inc
			return insertEvents(tx, withIDs(d.Events, inc.ID, a.ID))
		case rota.TriggerCreated:
		default:
			return fmt.Errorf("trigger: unknown outcome %q", d.Outcome)
		}
		inc := d.Incident
		inc.Status, inc.AlertCount, inc.CreatedAt, inc.UpdatedAt = rota.StatusTriggered, 1, fromMillis(ms), fromMillis(ms)
		if inc.StartedAt.IsZero() {
			inc.StartedAt = inc.CreatedAt
		}
		pol, err := json.Marshal(inc.Policy)
		if err != nil {
			return err
		}
		var deploy, deployID any
		if inc.Deploy != nil {
			b, err := json.Marshal(inc.Deploy)
			if err != nil {
				return err
			}
			deploy, deployID = string(b), inc.Deploy.ID
		}
		id, err := tx.insert(`INSERT INTO incidents (service, group_key, status, summary, severity, alert_count,
			created_ms, updated_ms, policy, esc_state, started_ms, deploy_id, deploy, maintenance) VALUES (?, ?, 'triggered', ?, ?, 1, ?, ?, ?, 'active', ?, ?, ?, ?)`,
			inc.Service, inc.GroupKey, inc.Summary, inc.Severity, ms, ms, string(pol), inc.StartedAt.UnixMilli(), deployID, deploy, inc.InMaintenance)
		if err != nil {
			return fmt.Errorf("insert incident: %w", err)
		}
		inc.ID = id
		a = d.Alert
		a.IncidentID, a.CreatedAt, a.UpdatedAt = inc.ID, fromMillis(ms), fromMillis(ms)
		if err := insertAlert(tx, &a); err != nil {
			return err
		}
		// The trigger's notes and the first step's, in one statement.
		step := d.Step
		step.Events = append(withIDs(d.Events, inc.ID, a.ID), withIDs(step.Events, inc.ID, 0)...)
		for i := range step.Notifications {
			step.Notifications[i].IncidentID = inc.ID
		}
		if err := applyStep(tx, &inc, step, now); err != nil {
			return err
		}
		out.Alert, out.Incident = a, inc
		return nil
	})
	return out, err
}

// withIDs sets the incident (and, where not set and not zero, the alert)
// of timeline events decided before either had an id.
func withIDs(events []rota.IncidentEvent, incident, alert int64) []rota.IncidentEvent {
	for i := range events {
		events[i].IncidentID = incident
		if events[i].AlertID == 0 {
			events[i].AlertID = alert
		}
	}
	return events
}

// applyStep writes a step's outcome: the alert's escalation state, its
// notifications and its timeline notes.
func applyStep(tx wtx, a *rota.Incident, out rota.StepOutcome, now time.Time) error {
	e := out.Escalation
	if err := tx.later("UPDATE incidents SET esc_step = ?, esc_round = ?, esc_wave = ?, esc_state = ?, esc_due_ms = ?, updated_ms = ? WHERE id = ?",
		e.Step, e.Round, e.Wave, e.State, nullMillis(e.DueAt), now.UnixMilli(), a.ID); err != nil {
		return fmt.Errorf("update escalation: %w", err)
	}
	a.Escalation = e
	tx.due(e.DueAt)
	for _, n := range out.Notifications {
		tx.due(dueAt(n, now))
		// Nobody reads their ids: they go with the next round trip.
		q, args := notificationInsert(n, now)
		if err := tx.later(q, args...); err != nil {
			return fmt.Errorf("insert notification: %w", err)
		}
	}
	return insertEvents(tx, out.Events)
}

func insertNotification(tx wtx, n rota.Notification, now time.Time) (int64, error) {
	tx.due(dueAt(n, now))
	q, args := notificationInsert(n, now)
	id, err := tx.insert(q, args...)
	if err != nil {
		return 0, fmt.Errorf("insert notification: %w", err)
	}
	return id, nil
}

// dueAt is when notification n, made at now, is due.
func dueAt(n rota.Notification, now time.Time) time.Time {
	if n.NextAttempt.IsZero() {
		return now
	}
	return n.NextAttempt
}

// notificationInsert is the statement that inserts n.
func notificationInsert(n rota.Notification, now time.Time) (string, []any) {
	next := n.NextAttempt
	if next.IsZero() {
		next = now
	}
	kind := n.Kind
	if kind == "" {
		kind = rota.KindPage
	}
	return `INSERT INTO notifications (incident_id, person, channel, address, contact_index, wave, status,
		next_attempt_ms, created_ms, reason, shadow, kind, body, updates, thread, update_action, update_by, update_to, chat_channel)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		[]any{nullID(n.IncidentID), n.Person, n.Channel, n.Address, n.ContactIndex, n.Wave, next.UnixMilli(), now.UnixMilli(), n.Reason, n.Shadow, kind, n.Body,
			n.Updates, n.Thread, n.Update.Action, n.Update.By, strings.Join(n.Update.To, ", "), n.ChatChannel}
}

// insertEvents writes timeline notes in one statement (a round trip each
// was most of a new incident's cost on PostgreSQL).
func insertEvents(tx wtx, events []rota.IncidentEvent) error {
	const cols = 6
	var args []any
	for _, e := range events {
		if e.IncidentID == 0 {
			continue // a notice of no incident (a digest) has no timeline
		}
		if e.At.IsZero() {
			return fmt.Errorf("incident event without a time: %+v", e)
		}
		args = append(args, e.IncidentID, nullID(e.AlertID), e.At.UnixMilli(), e.Kind, e.Actor, e.Message)
	}
	for len(args) > 0 {
		// SQLite takes at most 32,766 parameters a statement.
		chunk := args[:min(len(args), 500*cols)]
		args = args[len(chunk):]
		rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(chunk)/cols), ", ")
		if err := tx.later("INSERT INTO incident_events (incident_id, alert_id, at_ms, kind, actor, message) VALUES "+rows, chunk...); err != nil {
			return fmt.Errorf("insert incident events: %w", err)
		}
	}
	return nil
}

// Escalate runs the due escalation step of alert id. run is called inside
// the transaction with the alert as stored and the transaction's time; it
// is not called when the alert is no longer triggered or its step is not
// due (acknowledged, resolved, or run already), so a step never runs twice.
func (db *DB) Escalate(ctx context.Context, id int64, run func(*rota.Incident, time.Time) rota.StepOutcome) (rota.Incident, bool, error) {
	var alert rota.Incident
	var ran bool
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		alert, ran = rota.Incident{}, false
		// Every daemon finds the step due at the same moment: the first
		// runs it, the others leave it (waiting for its service's lock,
		// then reading it, would only find it run).
		// "escalate:" sorts below "service:", so that the service's
		// lock, next, may still be waited for (a try-only key above it
		// would make every later lock a try, failing in a storm).
		step := fmt.Sprintf("escalate:%d", id)
		if ok, err := tx.tryLocks([]string{step}); err != nil || !ok[step] {
			return err
		}
		if err := tx.lockIncident(id); err != nil {
			return err
		}
		a, err := scanIncident(tx.queryRow("SELECT "+incidentColumns+" FROM incidents WHERE id = ?", id))
		if err != nil {
			return fmt.Errorf("escalate incident %d: %w", id, err)
		}
		alert = a
		if a.Status != rota.StatusTriggered || a.Escalation.DueAt.IsZero() || a.Escalation.DueAt.After(now) {
			return nil
		}
		ran = true
		if a.Maintenance, err = maintenanceWindows(tx, a.Service, now); err != nil {
			return err
		}
		out := run(&a, now)
		if err := applyStep(tx, &alert, out, now); err != nil {
			return err
		}
		return tellNews(tx, a.ID, out.News, now)
	})
	return alert, ran, err
}

// tellNews reads what was sent about an incident (its pages and posts,
// and the updates of an escalation requested and not yet sent), asks news
// who hears of its change, and queues (or amends) those updates; nil news
// tells nobody.
func tellNews(tx wtx, incident int64, news func(rota.NewsFacts) rota.News, now time.Time) error {
	if news == nil {
		return nil
	}
	var facts rota.NewsFacts
	rows, err := tx.query(`SELECT person, channel, address, contact_index, external_id, shadow, chat_channel, updates, kind FROM notifications
		WHERE incident_id = ? AND status = 'sent' AND kind IN ('page', 'post') ORDER BY id`, incident)
	if err != nil {
		return fmt.Errorf("updates: %w", err)
	}
	for rows.Next() {
		n := rota.Notification{IncidentID: incident, Status: rota.NotifySent}
		if err := rows.Scan(&n.Person, &n.Channel, &n.Address, &n.ContactIndex, &n.Thread, &n.Shadow, &n.ChatChannel, &n.Updates, &n.Kind); err != nil {
			rows.Close()
			return fmt.Errorf("updates: %w", err)
		}
		facts.Sent = append(facts.Sent, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("updates: %w", err)
	}
	if len(facts.Sent) == 0 {
		return nil // nobody was told of it: nobody hears
	}
	rows, err = tx.query(`SELECT id, update_by FROM notifications WHERE incident_id = ? AND kind = 'update' AND status = 'pending'
		AND update_action = ? AND update_to = ''`, incident, rota.ActionEscalate)
	if err != nil {
		return fmt.Errorf("updates: %w", err)
	}
	for rows.Next() {
		n := rota.Notification{IncidentID: incident, Kind: rota.KindUpdate, Status: rota.NotifyPending, Update: rota.Update{Action: rota.ActionEscalate}}
		if err := rows.Scan(&n.ID, &n.Update.By); err != nil {
			rows.Close()
			return fmt.Errorf("updates: %w", err)
		}
		facts.Requested = append(facts.Requested, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("updates: %w", err)
	}
	return applyNews(tx, news(facts), now)
}

// applyNews queues a decision's updates and amends the requested ones.
func applyNews(tx wtx, news rota.News, now time.Time) error {
	for _, n := range news.Amend {
		if err := tx.later("UPDATE notifications SET update_to = ?, body = ? WHERE id = ?", strings.Join(n.Update.To, ", "), n.Body, n.ID); err != nil {
			return err
		}
	}
	for _, n := range news.Tell {
		if _, err := insertNotification(tx, n, now); err != nil {
			return err
		}
	}
	return nil
}

// DueEscalations returns the alerts whose next escalation step is due at
// now, earliest first.
func (db *DB) DueEscalations(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := db.query(ctx, "SELECT id FROM incidents WHERE esc_due_ms IS NOT NULL AND esc_due_ms <= ? ORDER BY esc_due_ms LIMIT ?", now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("due escalations: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// NextDue returns the earliest time at which an escalation step or a
// pending notification is due; ok is false when nothing is. Accounting
// has its own loop.
func (db *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	if !db.pg {
		return db.nextDueLocal(ctx)
	}
	// Each part is the first row of an index (incidents_due,
	// notifications_due, notifications_claimed), not a scan of the
	// outbox: a notification is due at its next attempt, or, while a
	// claim holds it past that, when the claim lapses. LEAST skips NULLs.
	var due sql.NullInt64
	err := db.queryRow(ctx, `SELECT LEAST(
		(SELECT esc_due_ms FROM incidents WHERE esc_due_ms IS NOT NULL ORDER BY esc_due_ms LIMIT 1),
		(SELECT next_attempt_ms FROM notifications WHERE status = 'pending' AND (claim_until_ms IS NULL OR claim_until_ms <= next_attempt_ms) ORDER BY next_attempt_ms LIMIT 1),
		(SELECT claim_until_ms FROM notifications WHERE status = 'pending' AND claim_until_ms > next_attempt_ms ORDER BY claim_until_ms LIMIT 1),
		(SELECT MIN(deadline_ms) FROM heartbeats WHERE state = 'up'))`).Scan(&due)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return nullTime(due), due.Valid, nil
}

// nextDueLocal is NextDue on SQLite, whose outbox claims are in memory.
func (db *DB) nextDueLocal(ctx context.Context) (time.Time, bool, error) {
	var esc sql.NullInt64
	if err := db.queryRow(ctx, "SELECT MIN(esc_due_ms) FROM incidents WHERE esc_due_ms IS NOT NULL").Scan(&esc); err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	next, ok, err := db.nextLocal(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	if esc.Valid && (!ok || fromMillis(esc.Int64).Before(next)) {
		next, ok = fromMillis(esc.Int64), true
	}
	return db.heartbeatDue(ctx, next, ok)
}

// heartbeatDue brings next forward to the earliest heartbeat deadline.
func (db *DB) heartbeatDue(ctx context.Context, next time.Time, ok bool) (time.Time, bool, error) {
	var hb sql.NullInt64
	if err := db.queryRow(ctx, "SELECT MIN(deadline_ms) FROM heartbeats WHERE state = 'up'").Scan(&hb); err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	if hb.Valid && (!ok || fromMillis(hb.Int64).Before(next)) {
		return fromMillis(hb.Int64), true, nil
	}
	return next, ok, nil
}

// Acknowledge and resolve.

// ChangeStatus acknowledges, resolves or escalates incident id as decide
// says (policy.ChangeStatus), from the incident as this transaction reads
// it, and applies the change: the incident, its alerts, its pending pages
// and posts, the status updates to those its notifications reached, and
// the timeline, in one transaction.
func (db *DB) ChangeStatus(ctx context.Context, id int64, decide func(rota.Incident, time.Time) (rota.StatusChange, error)) (rota.Incident, error) {
	var inc rota.Incident
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		if err := tx.lockIncident(id); err != nil {
			return err
		}
		a, err := scanIncident(tx.queryRow("SELECT "+incidentColumns+" FROM incidents WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return rota.Errorf(rota.ENOTFOUND, "incident %d not found", id)
		}
		if err != nil {
			return err
		}
		ch, err := decide(a, now)
		if err != nil {
			return err
		}
		inc = ch.Incident
		if !ch.Changed {
			return nil
		}
		return applyStatus(tx, ch, now)
	})
	return inc, err
}

// applyStatus writes a status change.
func applyStatus(tx wtx, ch rota.StatusChange, now time.Time) error {
	a, ms := ch.Incident, now.UnixMilli()
	if !a.Escalation.DueAt.IsZero() {
		tx.due(a.Escalation.DueAt)
	}
	rearm := ""
	if ch.Rearm {
		rearm = ", unreached_ms = NULL"
	}
	if _, err := tx.exec(`UPDATE incidents SET status = ?, acked_ms = ?, acked_by = ?, resolved_ms = ?, resolved_by = ?, updated_ms = ?,
		esc_state = ?, esc_due_ms = ?, esc_step = ?, esc_round = ?`+rearm+` WHERE id = ?`,
		a.Status, nullMillis(a.AckedAt), a.AckedBy, nullMillis(a.ResolvedAt), a.ResolvedBy, ms,
		a.Escalation.State, nullMillis(a.Escalation.DueAt), a.Escalation.Step, a.Escalation.Round, a.ID); err != nil {
		return err
	}
	var err error
	switch ch.Alerts {
	case rota.StatusTriggered:
		_, err = tx.exec("UPDATE alerts SET status = 'triggered', updated_ms = ? WHERE incident_id = ? AND status = 'acknowledged'", ms, a.ID)
	case rota.StatusAcknowledged:
		_, err = tx.exec("UPDATE alerts SET status = 'acknowledged', updated_ms = ? WHERE incident_id = ? AND status = 'triggered'", ms, a.ID)
	case rota.StatusResolved:
		_, err = tx.exec("UPDATE alerts SET status = 'resolved', resolved_ms = ?, resolved_by = ?, updated_ms = ? WHERE incident_id = ? AND status <> 'resolved'",
			ms, a.ResolvedBy, ms, a.ID)
	}
	if err != nil {
		return err
	}
	if ch.Cancel != "" {
		if _, err := tx.exec("UPDATE notifications SET status = 'cancelled', last_error = ? WHERE incident_id = ? AND status = 'pending' AND kind IN ('page', 'post')",
			ch.Cancel, a.ID); err != nil {
			return err
		}
	}
	if err := tellNews(tx, a.ID, ch.News, now); err != nil {
		return err
	}
	return insertEvents(tx, []rota.IncidentEvent{ch.Event})
}

// Waiting lists the triggered incidents waiting for their next step
// (escalation active, due later than now), each with when its last step
// ran (zero when none has): what a reload may move (policy.RebaseWait).
func (db *DB) Waiting(ctx context.Context, now time.Time) ([]rota.Incident, map[int64]time.Time, error) {
	rows, err := db.query(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE status = 'triggered' AND esc_state = 'active' AND esc_due_ms > ?", now.UnixMilli())
	if err != nil {
		return nil, nil, fmt.Errorf("waiting incidents: %w", err)
	}
	incs, err := scanIncidents(rows)
	if err != nil {
		return nil, nil, fmt.Errorf("waiting incidents: %w", err)
	}
	ran := make(map[int64]time.Time, len(incs))
	for _, inc := range incs {
		var at sql.NullInt64
		if err := db.queryRow(ctx, "SELECT MAX(at_ms) FROM incident_events WHERE incident_id = ? AND kind = ?", inc.ID, rota.EventEscalated).Scan(&at); err != nil {
			return nil, nil, fmt.Errorf("waiting incident %d: %w", inc.ID, err)
		}
		if at.Valid {
			ran[inc.ID] = fromMillis(at.Int64)
		}
	}
	return incs, ran, nil
}

// MoveWait moves an incident's wait for its next step from the due time
// it was read with to inc's, with inc's policy (its delays), and notes
// why on its timeline; false when the incident has moved on since (a
// step ran, someone acknowledged, another daemon moved it).
func (db *DB) MoveWait(ctx context.Context, inc rota.Incident, from time.Time, note string) (bool, error) {
	var moved bool
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		pol, err := json.Marshal(inc.Policy)
		if err != nil {
			return err
		}
		tx.due(inc.Escalation.DueAt)
		res, err := tx.exec("UPDATE incidents SET esc_due_ms = ?, policy = ? WHERE id = ? AND status = 'triggered' AND esc_state = 'active' AND esc_due_ms = ?",
			inc.Escalation.DueAt.UnixMilli(), string(pol), inc.ID, from.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n != 1 {
			return err
		}
		moved = true
		return insertEvents(tx, []rota.IncidentEvent{{IncidentID: inc.ID, At: now, Kind: rota.EventReload, Actor: "rotad (reload)", Message: note}})
	})
	if err != nil {
		return false, fmt.Errorf("move incident %d's next step: %w", inc.ID, err)
	}
	return moved, nil
}

// Reads.

// Incident returns incident id, or an ENOTFOUND error.
func (db *DB) Incident(ctx context.Context, id int64) (rota.Incident, error) {
	a, err := scanIncident(db.queryRow(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return rota.Incident{}, rota.Errorf(rota.ENOTFOUND, "incident %d not found", id)
	}
	if err != nil {
		return rota.Incident{}, fmt.Errorf("get incident: %w", err)
	}
	return a, nil
}

// IncidentsByID returns the incidents of ids that exist, in one read
// (a bundle's notifications carry many).
func (db *DB) IncidentsByID(ctx context.Context, ids []int64) (map[int64]rota.Incident, error) {
	out := make(map[int64]rota.Incident, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// One statement whatever the number of ids, so that it is prepared
	// once: an array on PostgreSQL, a JSON array on SQLite.
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = strconv.FormatInt(id, 10)
	}
	q, arg := "SELECT "+incidentColumns+" FROM incidents WHERE id IN (SELECT value FROM json_each(?))", "["+strings.Join(list, ",")+"]"
	if db.pg {
		q, arg = "SELECT "+incidentColumns+" FROM incidents WHERE id = ANY(CAST(? AS BIGINT[]))", "{"+strings.Join(list, ",")+"}"
	}
	rows, err := db.query(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("get incidents: %w", err)
	}
	incs, err := scanIncidents(rows)
	if err != nil {
		return nil, fmt.Errorf("get incidents: %w", err)
	}
	for _, inc := range incs {
		out[inc.ID] = inc
	}
	return out, nil
}

// Incidents lists incidents, newest first.
func (db *DB) Incidents(ctx context.Context, f rota.IncidentFilter) ([]rota.Incident, error) {
	q, args := filterQuery("SELECT "+incidentColumns+" FROM incidents", f)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return scanIncidents(rows)
}

// scanIncidents scans rows of incidentColumns and closes them.
func scanIncidents(rows *sql.Rows) ([]rota.Incident, error) {
	defer rows.Close()
	var out []rota.Incident
	for rows.Next() {
		a, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("scan incidents: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Timeline returns incident id's events and notifications in order.
func (db *DB) Timeline(ctx context.Context, id int64) ([]rota.IncidentEvent, []rota.Notification, error) {
	rows, err := db.query(ctx, "SELECT id, incident_id, alert_id, at_ms, kind, actor, message FROM incident_events WHERE incident_id = ? ORDER BY id", id)
	if err != nil {
		return nil, nil, fmt.Errorf("incident timeline: %w", err)
	}
	defer rows.Close()
	var events []rota.IncidentEvent
	for rows.Next() {
		var e rota.IncidentEvent
		var at int64
		var alert sql.NullInt64
		if err := rows.Scan(&e.ID, &e.IncidentID, &alert, &at, &e.Kind, &e.Actor, &e.Message); err != nil {
			return nil, nil, err
		}
		e.At, e.AlertID = fromMillis(at), alert.Int64
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	ns, err := db.notifications(ctx, "WHERE incident_id = ? ORDER BY id", id)
	return events, ns, err
}

// TriggerAlert applies a trigger event as an incident of its own, with no
// grouping and no deploy routing: a repeat of an open alert counts (created
// is false); otherwise a new incident opens with policy, and start decides
// its first step. For tools and tests that drive the store directly.
func (db *DB) TriggerAlert(ctx context.Context, ev *rota.Event, policy rota.EscalationPolicy, start func(*rota.Incident, time.Time) rota.StepOutcome) (inc rota.Incident, created bool, err error) {
	res, err := db.Trigger(ctx, ev, "", 0, func(f rota.TriggerFacts) rota.TriggerDecision {
		if f.Open != nil {
			return rota.TriggerDecision{Outcome: rota.TriggerDeduplicated}
		}
		inc := rota.Incident{Service: ev.Service, Status: rota.StatusTriggered, Summary: ev.Summary, Severity: ev.Severity, Policy: policy,
			Escalation: rota.Escalation{State: rota.EscalationActive}, StartedAt: f.Now}
		return rota.TriggerDecision{Outcome: rota.TriggerCreated, Incident: inc, Step: start(&inc, f.Now),
			Alert: rota.Alert{Service: ev.Service, DedupKey: ev.DedupKey, Status: rota.StatusTriggered, Summary: ev.Summary, Severity: ev.Severity,
				Source: ev.Source, Details: ev.Details, Links: ev.Links, Integration: ev.Integration, StartedAt: f.Now},
			Events: []rota.IncidentEvent{{At: f.Now, Kind: rota.EventTriggered, Actor: ev.Integration,
				Message: fmt.Sprintf("triggered by %s: %s", ev.Integration, ev.Summary)}}}
	})
	return res.Incident, res.Outcome == rota.TriggerCreated, err
}

// Unreached returns triggered incidents whose policy ran out with nobody
// reached (no page of theirs was sent, and none is still being tried)
// whose managers were not yet told.
func (db *DB) Unreached(ctx context.Context) ([]rota.Incident, error) {
	rows, err := db.query(ctx, "SELECT "+incidentColumns+` FROM incidents i INDEXED BY incidents_exhausted WHERE status = 'triggered' AND esc_state = 'exhausted' AND unreached_ms IS NULL
		AND NOT EXISTS (SELECT 1 FROM notifications WHERE incident_id = i.id AND kind = 'page' AND shadow = 0 AND status IN ('sent', 'pending'))
		ORDER BY id LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("unreached incidents: %w", err)
	}
	return scanIncidents(rows)
}

// Exhausted lists triggered incidents whose policy ran out after
// reaching someone (a page sent, none pending), nobody having
// acknowledged, and whose managers are not yet told (RecordUnreached
// marks both kinds).
func (db *DB) Exhausted(ctx context.Context) ([]rota.Incident, error) {
	rows, err := db.query(ctx, "SELECT "+incidentColumns+` FROM incidents i INDEXED BY incidents_exhausted WHERE status = 'triggered' AND esc_state = 'exhausted' AND unreached_ms IS NULL
		AND EXISTS (SELECT 1 FROM notifications WHERE incident_id = i.id AND kind = 'page' AND shadow = 0 AND status = 'sent')
		AND NOT EXISTS (SELECT 1 FROM notifications WHERE incident_id = i.id AND kind = 'page' AND shadow = 0 AND status = 'pending')
		ORDER BY id LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("exhausted incidents: %w", err)
	}
	return scanIncidents(rows)
}

// RecordUnreached records, once, that incident id reached nobody: the
// managers' notices go into the outbox and the note on its timeline, in
// one transaction. It reports whether this was the first time.
func (db *DB) RecordUnreached(ctx context.Context, id int64, notices []rota.Notification, event rota.IncidentEvent) (bool, error) {
	var first bool
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		res, err := tx.exec("UPDATE incidents SET unreached_ms = ? WHERE id = ? AND unreached_ms IS NULL", now.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		first = true
		for _, n := range notices {
			if _, err := insertNotification(tx, n, now); err != nil {
				return err
			}
		}
		if event.At.IsZero() {
			event.At = now
		}
		return insertEvents(tx, []rota.IncidentEvent{event})
	})
	if err != nil {
		return false, fmt.Errorf("record unreached incident %d: %w", id, err)
	}
	return first, nil
}

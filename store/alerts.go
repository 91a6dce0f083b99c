package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

const alertColumns = `id, service, dedup_key, status, summary, severity, source, details, links, integration, count,
	created_ms, updated_ms, acked_ms, acked_by, resolved_ms, resolved_by,
	policy, esc_step, esc_round, esc_wave, esc_state, esc_due_ms, started_ms, deploy`

func scanAlert(s scanner) (rota.Alert, error) {
	var a rota.Alert
	var details, links sql.NullString
	var created, updated int64
	var acked, resolved, due, started sql.NullInt64
	var policy string
	var deploy sql.NullString
	err := s.Scan(&a.ID, &a.Service, &a.DedupKey, &a.Status, &a.Summary, &a.Severity, &a.Source, &details, &links, &a.Integration, &a.Count,
		&created, &updated, &acked, &a.AckedBy, &resolved, &a.ResolvedBy,
		&policy, &a.Escalation.Step, &a.Escalation.Round, &a.Escalation.Wave, &a.Escalation.State, &due, &started, &deploy)
	if err != nil {
		return rota.Alert{}, err
	}
	if deploy.Valid {
		a.Deploy = new(rota.Deploy)
		if err := json.Unmarshal([]byte(deploy.String), a.Deploy); err != nil {
			return rota.Alert{}, fmt.Errorf("alert %d deploy: %w", a.ID, err)
		}
	}
	a.StartedAt = nullTime(started)
	if details.Valid {
		a.Details = json.RawMessage(details.String)
	}
	if links.Valid {
		if err := json.Unmarshal([]byte(links.String), &a.Links); err != nil {
			return rota.Alert{}, fmt.Errorf("alert %d links: %w", a.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(policy), &a.Policy); err != nil {
		return rota.Alert{}, fmt.Errorf("alert %d policy: %w", a.ID, err)
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

// openAlert returns the open alert of service with dedupKey; ok is false
// when there is none.
func openAlert(tx wtx, service, dedupKey string) (rota.Alert, bool, error) {
	a, err := scanAlert(tx.queryRow("SELECT "+alertColumns+" FROM alerts WHERE service = ? AND dedup_key = ? AND status <> 'resolved'", service, dedupKey))
	if errors.Is(err, sql.ErrNoRows) {
		return rota.Alert{}, false, nil
	}
	return a, err == nil, err
}

// TriggerAlert applies a trigger event. If the service has an open alert
// with the event's dedup key, its count goes up and nobody is paged
// (created is false). Otherwise a new alert is inserted with the policy
// snapshot, and start, given the new alert and the transaction's time,
// decides its first escalation step, whose notifications and timeline
// notes are written in the same transaction.
//
// Before start, prepare (if not nil) may set the new alert's policy
// snapshot, start time and suspected deploy from the transaction's time.
func (db *DB) TriggerAlert(ctx context.Context, ev *rota.Event, policy rota.EscalationPolicy, start func(*rota.Alert, time.Time) rota.StepOutcome) (alert rota.Alert, created bool, err error) {
	return db.TriggerAlertWith(ctx, ev, policy, nil, start)
}

// TriggerAlertWith is TriggerAlert with a prepare step.
func (db *DB) TriggerAlertWith(ctx context.Context, ev *rota.Event, policy rota.EscalationPolicy, prepare func(*rota.Alert, time.Time), start func(*rota.Alert, time.Time) rota.StepOutcome) (alert rota.Alert, created bool, err error) {
	if err := ev.Validate(); err != nil {
		return rota.Alert{}, false, err
	}
	var links any
	if len(ev.Links) > 0 {
		b, err := json.Marshal(ev.Links)
		if err != nil {
			return rota.Alert{}, false, err
		}
		links = string(b)
	}
	var details any
	if len(ev.Details) > 0 {
		details = string(ev.Details)
	}
	err = db.tx(ctx, func(tx wtx, now time.Time) error {
		a, open, err := openAlert(tx, ev.Service, ev.DedupKey)
		if err != nil {
			return err
		}
		if open {
			a.Count++
			a.UpdatedAt = fromMillis(now.UnixMilli())
			alert, created = a, false
			_, err := tx.exec("UPDATE alerts SET count = count + 1, updated_ms = ? WHERE id = ?", now.UnixMilli(), a.ID)
			return err
		}
		a = rota.Alert{Service: ev.Service, DedupKey: ev.DedupKey, Status: rota.StatusTriggered, Summary: ev.Summary,
			Severity: ev.Severity, Source: ev.Source, Details: ev.Details, Links: ev.Links, Integration: ev.Integration, Count: 1,
			CreatedAt: fromMillis(now.UnixMilli()), UpdatedAt: fromMillis(now.UnixMilli()), Policy: policy,
			Escalation: rota.Escalation{State: rota.EscalationActive}, StartedAt: fromMillis(now.UnixMilli())}
		if prepare != nil {
			prepare(&a, now)
		}
		pol, err := json.Marshal(a.Policy)
		if err != nil {
			return err
		}
		var deploy, deployID any
		if a.Deploy != nil {
			b, err := json.Marshal(a.Deploy)
			if err != nil {
				return err
			}
			deploy, deployID = string(b), a.Deploy.ID
		}
		res, err := tx.exec(`INSERT INTO alerts (service, dedup_key, status, summary, severity, source, details, links,
			integration, created_ms, updated_ms, policy, esc_state, started_ms, deploy_id, deploy) VALUES (?, ?, 'triggered', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`,
			ev.Service, ev.DedupKey, ev.Summary, ev.Severity, ev.Source, details, links, ev.Integration, now.UnixMilli(), now.UnixMilli(), string(pol),
			a.StartedAt.UnixMilli(), deployID, deploy)
		if err != nil {
			return fmt.Errorf("insert alert: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		a.ID = id
		events := []rota.AlertEvent{{AlertID: id, At: now, Kind: rota.EventTriggered, Actor: ev.Integration,
			Message: fmt.Sprintf("triggered by %s: %s", ev.Integration, ev.Summary)}}
		if err := insertEvents(tx, events); err != nil {
			return err
		}
		if err := applyStep(tx, &a, start(&a, now), now); err != nil {
			return err
		}
		alert, created = a, true
		return nil
	})
	return alert, created, err
}

// applyStep writes a step's outcome: the alert's escalation state, its
// notifications and its timeline notes.
func applyStep(tx wtx, a *rota.Alert, out rota.StepOutcome, now time.Time) error {
	e := out.Escalation
	if _, err := tx.exec("UPDATE alerts SET esc_step = ?, esc_round = ?, esc_wave = ?, esc_state = ?, esc_due_ms = ?, updated_ms = ? WHERE id = ?",
		e.Step, e.Round, e.Wave, e.State, nullMillis(e.DueAt), now.UnixMilli(), a.ID); err != nil {
		return fmt.Errorf("update escalation: %w", err)
	}
	a.Escalation = e
	for _, n := range out.Notifications {
		if _, err := insertNotification(tx, n, now); err != nil {
			return err
		}
	}
	return insertEvents(tx, out.Events)
}

func insertNotification(tx wtx, n rota.Notification, now time.Time) (int64, error) {
	next := n.NextAttempt
	if next.IsZero() {
		next = now
	}
	res, err := tx.exec(`INSERT INTO notifications (alert_id, person, channel, address, contact_index, wave, status,
		next_attempt_ms, created_ms, reason, shadow) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
		n.AlertID, n.Person, n.Channel, n.Address, n.ContactIndex, n.Wave, next.UnixMilli(), now.UnixMilli(), n.Reason, n.Shadow)
	if err != nil {
		return 0, fmt.Errorf("insert notification: %w", err)
	}
	return res.LastInsertId()
}

func insertEvents(tx wtx, events []rota.AlertEvent) error {
	for _, e := range events {
		at := e.At
		if at.IsZero() {
			return fmt.Errorf("alert event without a time: %+v", e)
		}
		if _, err := tx.exec("INSERT INTO alert_events (alert_id, at_ms, kind, actor, message) VALUES (?, ?, ?, ?, ?)",
			e.AlertID, at.UnixMilli(), e.Kind, e.Actor, e.Message); err != nil {
			return fmt.Errorf("insert alert event: %w", err)
		}
	}
	return nil
}

// Escalate runs the due escalation step of alert id. run is called inside
// the transaction with the alert as stored and the transaction's time; it
// is not called when the alert is no longer triggered or its step is not
// due (acknowledged, resolved, or run already), so a step never runs twice.
func (db *DB) Escalate(ctx context.Context, id int64, run func(*rota.Alert, time.Time) rota.StepOutcome) (rota.Alert, bool, error) {
	var alert rota.Alert
	var ran bool
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		a, err := scanAlert(tx.queryRow("SELECT "+alertColumns+" FROM alerts WHERE id = ?", id))
		if err != nil {
			return fmt.Errorf("escalate alert %d: %w", id, err)
		}
		alert = a
		if a.Status != rota.StatusTriggered || a.Escalation.DueAt.IsZero() || a.Escalation.DueAt.After(now) {
			return nil
		}
		ran = true
		return applyStep(tx, &alert, run(&a, now), now)
	})
	return alert, ran, err
}

// DueEscalations returns the alerts whose next escalation step is due at
// now, earliest first.
func (db *DB) DueEscalations(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := db.query(ctx, "SELECT id FROM alerts WHERE esc_due_ms IS NOT NULL AND esc_due_ms <= ? ORDER BY esc_due_ms LIMIT ?", now.UnixMilli(), limit)
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
// pending notification is due; ok is false when nothing is.
func (db *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	err := db.queryRow(ctx, `SELECT MIN(t) FROM (
		SELECT MIN(esc_due_ms) AS t FROM alerts WHERE esc_due_ms IS NOT NULL
		UNION ALL SELECT MIN(next_attempt_ms) FROM notifications WHERE status = 'pending')`).Scan(&due)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return nullTime(due), due.Valid, nil
}

// Acknowledge and resolve.

// FollowUp acknowledges or resolves the open alert of service with
// dedupKey, as the PagerDuty Events API does: acknowledging an
// acknowledged alert changes nothing; with no open alert it returns an
// ENOTFOUND error.
func (db *DB) FollowUp(ctx context.Context, service, dedupKey, action, actor string) (rota.Alert, error) {
	var alert rota.Alert
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		a, open, err := openAlert(tx, service, dedupKey)
		if err != nil {
			return err
		}
		if !open {
			return rota.Errorf(rota.ENOTFOUND, "no open alert on %s with dedup key %q", service, dedupKey)
		}
		alert, err = transition(tx, a, action, actor, now)
		return err
	})
	return alert, err
}

// SetStatus acknowledges or resolves alert id. Acknowledging or resolving
// a resolved alert is an ECONFLICT error; acknowledging an acknowledged one
// changes nothing.
func (db *DB) SetStatus(ctx context.Context, id int64, action, actor string) (rota.Alert, error) {
	var alert rota.Alert
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		a, err := scanAlert(tx.queryRow("SELECT "+alertColumns+" FROM alerts WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return rota.Errorf(rota.ENOTFOUND, "alert %d not found", id)
		}
		if err != nil {
			return err
		}
		if a.Status == rota.StatusResolved {
			return rota.Errorf(rota.ECONFLICT, "alert %d was resolved at %s by %s: it cannot be %s", id,
				a.ResolvedAt.Format(time.RFC3339), orUnknown(a.ResolvedBy), pastTense(action))
		}
		alert, err = transition(tx, a, action, actor, now)
		return err
	})
	return alert, err
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown actor"
	}
	return s
}

func pastTense(action string) string {
	if action == rota.ActionAcknowledge {
		return "acknowledged"
	}
	return "resolved"
}

// transition moves an open alert to acknowledged or resolved, stops its
// escalation and cancels its pending notifications.
func transition(tx wtx, a rota.Alert, action, actor string, now time.Time) (rota.Alert, error) {
	ms := now.UnixMilli()
	switch action {
	case rota.ActionAcknowledge:
		if a.Status != rota.StatusTriggered {
			return a, nil
		}
		a.Status, a.AckedAt, a.AckedBy = rota.StatusAcknowledged, fromMillis(ms), actor
		if _, err := tx.exec("UPDATE alerts SET status = 'acknowledged', acked_ms = ?, acked_by = ?, updated_ms = ?, esc_state = 'stopped', esc_due_ms = NULL WHERE id = ?",
			ms, actor, ms, a.ID); err != nil {
			return a, err
		}
	case rota.ActionResolve:
		a.Status, a.ResolvedAt, a.ResolvedBy = rota.StatusResolved, fromMillis(ms), actor
		if _, err := tx.exec("UPDATE alerts SET status = 'resolved', resolved_ms = ?, resolved_by = ?, updated_ms = ?, esc_state = 'stopped', esc_due_ms = NULL WHERE id = ?",
			ms, actor, ms, a.ID); err != nil {
			return a, err
		}
	default:
		return a, rota.FieldError("action", "must be acknowledge or resolve, not %q", action)
	}
	if a.Escalation.State != rota.EscalationExhausted {
		a.Escalation.State = rota.EscalationStopped
	}
	a.Escalation.DueAt = time.Time{}
	if _, err := tx.exec("UPDATE notifications SET status = 'cancelled', last_error = ? WHERE alert_id = ? AND status = 'pending'",
		"alert "+pastTense(action), a.ID); err != nil {
		return a, err
	}
	kind := rota.EventAcknowledged
	if action == rota.ActionResolve {
		kind = rota.EventResolved
	}
	msg := pastTense(action)
	if actor != "" {
		msg += " by " + actor
	}
	return a, insertEvents(tx, []rota.AlertEvent{{AlertID: a.ID, At: now, Kind: kind, Actor: actor, Message: msg}})
}

// Reads.

// Alert returns alert id, or an ENOTFOUND error.
func (db *DB) Alert(ctx context.Context, id int64) (rota.Alert, error) {
	a, err := scanAlert(db.queryRow(ctx, "SELECT "+alertColumns+" FROM alerts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return rota.Alert{}, rota.Errorf(rota.ENOTFOUND, "alert %d not found", id)
	}
	if err != nil {
		return rota.Alert{}, fmt.Errorf("get alert: %w", err)
	}
	return a, nil
}

// Alerts lists alerts, newest first.
func (db *DB) Alerts(ctx context.Context, f rota.AlertFilter) ([]rota.Alert, error) {
	var where []string
	var args []any
	switch f.Status {
	case "":
	case "open":
		where = append(where, "status <> 'resolved'")
	default:
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Service != "" {
		where = append(where, "service = ?")
		args = append(args, f.Service)
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := "SELECT " + alertColumns + " FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.query(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []rota.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Timeline returns alert id's events and notifications in order.
func (db *DB) Timeline(ctx context.Context, id int64) ([]rota.AlertEvent, []rota.Notification, error) {
	rows, err := db.query(ctx, "SELECT id, alert_id, at_ms, kind, actor, message FROM alert_events WHERE alert_id = ? ORDER BY id", id)
	if err != nil {
		return nil, nil, fmt.Errorf("alert timeline: %w", err)
	}
	defer rows.Close()
	var events []rota.AlertEvent
	for rows.Next() {
		var e rota.AlertEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.AlertID, &at, &e.Kind, &e.Actor, &e.Message); err != nil {
			return nil, nil, err
		}
		e.At = fromMillis(at)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	ns, err := db.notifications(ctx, "WHERE alert_id = ? ORDER BY id", id)
	return events, ns, err
}

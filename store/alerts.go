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

const alertColumns = `id, incident_id, service, dedup_key, status, summary, severity, source, details, links, integration, group_key, count,
	created_ms, updated_ms, started_ms, resolved_ms, resolved_by`

func scanAlert(s scanner) (rota.Alert, error) { return scanAlertWith(s) }

// scanAlertWith scans an alert's columns and then extra ones.
func scanAlertWith(s scanner, extra ...any) (rota.Alert, error) {
	var a rota.Alert
	var details, links sql.NullString
	var created, updated int64
	var started, resolved sql.NullInt64
	err := s.Scan(append([]any{&a.ID, &a.IncidentID, &a.Service, &a.DedupKey, &a.Status, &a.Summary, &a.Severity, &a.Source, &details, &links, &a.Integration,
		&a.GroupKey, &a.Count, &created, &updated, &started, &resolved, &a.ResolvedBy}, extra...)...)
	if err != nil {
		return rota.Alert{}, err
	}
	if details.Valid {
		a.Details = json.RawMessage(details.String)
	}
	if links.Valid {
		if err := json.Unmarshal([]byte(links.String), &a.Links); err != nil {
			return rota.Alert{}, fmt.Errorf("alert %d links: %w", a.ID, err)
		}
	}
	a.CreatedAt, a.UpdatedAt = fromMillis(created), fromMillis(updated)
	a.StartedAt, a.ResolvedAt = nullTime(started), nullTime(resolved)
	return a, nil
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

func insertAlert(tx wtx, a *rota.Alert) error {
	var links, details any
	if len(a.Links) > 0 {
		b, err := json.Marshal(a.Links)
		if err != nil {
			return err
		}
		links = string(b)
	}
	if len(a.Details) > 0 {
		details = string(a.Details)
	}
	id, err := tx.insert(`INSERT INTO alerts (incident_id, service, dedup_key, status, summary, severity, source, details, links,
		integration, group_key, count, created_ms, updated_ms, started_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
		a.IncidentID, a.Service, a.DedupKey, a.Status, a.Summary, a.Severity, a.Source, details, links,
		a.Integration, a.GroupKey, a.CreatedAt.UnixMilli(), a.UpdatedAt.UnixMilli(), nullMillis(a.StartedAt))
	if err != nil {
		return fmt.Errorf("insert alert: %w", err)
	}
	a.Count = 1
	a.ID = id
	return err
}

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
func (db *DB) Alerts(ctx context.Context, f rota.IncidentFilter) ([]rota.Alert, error) {
	q, args := filterQuery("SELECT "+alertColumns+" FROM alerts", f)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return scanAlerts(rows)
}

// IncidentAlerts lists an incident's alerts, oldest first.
func (db *DB) IncidentAlerts(ctx context.Context, incident int64) ([]rota.Alert, error) {
	rows, err := db.query(ctx, "SELECT "+alertColumns+" FROM alerts WHERE incident_id = ? ORDER BY id", incident)
	if err != nil {
		return nil, fmt.Errorf("incident alerts: %w", err)
	}
	return scanAlerts(rows)
}

func scanAlerts(rows *sql.Rows) ([]rota.Alert, error) {
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

// filterQuery adds f's conditions, order and limit to q, a select from
// alerts or incidents.
func filterQuery(q string, f rota.IncidentFilter) (string, []any) {
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
	if f.Services != nil {
		if len(f.Services) == 0 {
			where = append(where, "1 = 0")
		} else {
			where = append(where, "service IN ("+placeholders(len(f.Services))+")")
			for _, s := range f.Services {
				args = append(args, s)
			}
		}
	}
	if f.PagedTo != "" {
		where = append(where, "id IN (SELECT incident_id FROM pages WHERE person = ?)")
		args = append(args, f.PagedTo)
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return q + " ORDER BY id DESC LIMIT ?", append(args, limit)
}

// SetAlertStatus acknowledges alert id's incident, or resolves the alert
// (and its incident with it when it was the incident's last open alert).
// Acting on a resolved alert is an ECONFLICT error.
//
// decide is the decision of what the action does to the alert's incident
// (policy.ChangeStatus): acknowledging acknowledges it; resolving the
// last open alert resolves it.
func (db *DB) SetAlertStatus(ctx context.Context, id int64, decide func(rota.AlertFacts) (rota.AlertChange, error)) (rota.Alert, error) {
	var alert rota.Alert
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		if tx.db.pg {
			var svc string
			if err := tx.queryRow("SELECT service FROM alerts WHERE id = ?", id).Scan(&svc); err == nil {
				if err := tx.lock("service:" + svc); err != nil {
					return err
				}
			}
		}
		a, err := scanAlert(tx.queryRow("SELECT "+alertColumns+" FROM alerts WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return rota.Errorf(rota.ENOTFOUND, "alert %d not found", id)
		}
		if err != nil {
			return err
		}
		alert, err = alertAction(tx, a, now, decide)
		return err
	})
	return alert, err
}

// FollowUp acknowledges or resolves the open alert of service with
// dedupKey, as the PagerDuty Events API does: acknowledging acknowledges
// its incident; resolving resolves the alert, and the incident with its
// last open alert. With no open alert it returns an ENOTFOUND error.
func (db *DB) FollowUp(ctx context.Context, service, dedupKey string, decide func(rota.AlertFacts) (rota.AlertChange, error)) (rota.Alert, error) {
	var alert rota.Alert
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		if err := tx.lock("service:" + service); err != nil {
			return err
		}
		a, open, err := openAlert(tx, service, dedupKey)
		if err != nil {
			return err
		}
		if !open {
			return rota.Errorf(rota.ENOTFOUND, "no open alert on %s with dedup key %q", service, dedupKey)
		}
		alert, err = alertAction(tx, a, now, decide)
		return err
	})
	return alert, err
}

// alertAction reads what acting on alert a is decided on (its incident,
// how many of the incident's other alerts are open), asks decide, and
// writes the decision.
func alertAction(tx wtx, a rota.Alert, now time.Time, decide func(rota.AlertFacts) (rota.AlertChange, error)) (rota.Alert, error) {
	f := rota.AlertFacts{Now: now, Alert: a}
	var err error
	if f.Incident, err = scanIncident(tx.queryRow("SELECT "+incidentColumns+" FROM incidents WHERE id = ?", a.IncidentID)); err != nil {
		return a, fmt.Errorf("alert %d's incident: %w", a.ID, err)
	}
	if err := tx.queryRow("SELECT COUNT(*) FROM alerts WHERE incident_id = ? AND id <> ? AND status <> 'resolved'", a.IncidentID, a.ID).Scan(&f.OthersOpen); err != nil {
		return a, err
	}
	ch, err := decide(f)
	if err != nil {
		return a, err
	}
	if ch.AlertChanged {
		b := ch.Alert
		if _, err := tx.exec("UPDATE alerts SET status = ?, resolved_ms = ?, resolved_by = ?, updated_ms = ? WHERE id = ?",
			b.Status, nullMillis(b.ResolvedAt), b.ResolvedBy, now.UnixMilli(), b.ID); err != nil {
			return a, err
		}
	}
	if ch.Incident != nil {
		if err := applyStatus(tx, *ch.Incident, now); err != nil {
			return a, err
		}
	}
	if ch.Event != nil {
		if err := insertEvents(tx, []rota.IncidentEvent{*ch.Event}); err != nil {
			return a, err
		}
	}
	return ch.Alert, nil
}

// ExportAlerts lists the alerts created in [from, to), oldest first,
// each with when its incident opened and was acknowledged: what a replay
// reads (rotad export-alerts).
func (db *DB) ExportAlerts(ctx context.Context, from, to time.Time) ([]rota.ExportedAlert, error) {
	cols := ""
	for _, c := range strings.Split(alertColumns, ",") {
		cols += "a." + strings.TrimSpace(c) + ", "
	}
	rows, err := db.query(ctx, "SELECT "+cols+`i.created_ms, i.acked_ms, COALESCE(i.acked_by, '') FROM alerts a JOIN incidents i ON i.id = a.incident_id
		WHERE a.created_ms >= ? AND a.created_ms < ? ORDER BY a.created_ms, a.id`, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("export alerts: %w", err)
	}
	defer rows.Close()
	var out []rota.ExportedAlert
	for rows.Next() {
		var e rota.ExportedAlert
		var created int64
		var acked sql.NullInt64
		a, err := scanAlertWith(rows, &created, &acked, &e.IncidentAckedBy)
		if err != nil {
			return nil, fmt.Errorf("export alerts: %w", err)
		}
		e.Alert, e.IncidentCreated, e.IncidentAcked = a, fromMillis(created), nullTime(acked)
		out = append(out, e)
	}
	return out, rows.Err()
}

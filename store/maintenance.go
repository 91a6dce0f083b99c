package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

const maintenanceColumns = "id, service, start_ms, end_ms, reason, created_by, created_ms, ended_early"

func scanMaintenance(rows *sql.Rows) ([]rota.Maintenance, error) {
	defer rows.Close()
	var out []rota.Maintenance
	for rows.Next() {
		var m rota.Maintenance
		var start, end, created int64
		if err := rows.Scan(&m.ID, &m.Service, &start, &end, &m.Reason, &m.CreatedBy, &created, &m.EndedEarly); err != nil {
			return nil, fmt.Errorf("maintenance: %w", err)
		}
		m.Start, m.End, m.CreatedAt = fromMillis(start), fromMillis(end), fromMillis(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// maintenanceWindows are a service's ad hoc windows that end after now.
func maintenanceWindows(tx wtx, service string, now time.Time) ([]rota.Maintenance, error) {
	rows, err := tx.query("SELECT "+maintenanceColumns+" FROM maintenance WHERE service = ? AND end_ms > ? ORDER BY start_ms", service, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("maintenance of %s: %w", service, err)
	}
	return scanMaintenance(rows)
}

// StartMaintenance stores an ad hoc window, setting its id and time; a
// window that starts in the past starts now.
func (db *DB) StartMaintenance(ctx context.Context, m *rota.Maintenance) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return db.tx(ctx, func(tx wtx, now time.Time) error {
		if m.Start.Before(now) {
			m.Start = fromMillis(now.UnixMilli())
		}
		if !m.End.After(m.Start) {
			return rota.FieldError("end", "is in the past")
		}
		m.CreatedAt = fromMillis(now.UnixMilli())
		id, err := tx.insert("INSERT INTO maintenance (service, start_ms, end_ms, reason, created_by, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
			m.Service, m.Start.UnixMilli(), m.End.UnixMilli(), m.Reason, m.CreatedBy, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("maintenance: %w", err)
		}
		m.ID = id
		return nil
	})
}

// EndMaintenance ends window id now (or cancels it, not yet begun): what
// waited for its end (the service's held escalations and notifications)
// is due now. ENOTFOUND for no such window, ECONFLICT for one over.
func (db *DB) EndMaintenance(ctx context.Context, id int64) (rota.Maintenance, error) {
	var m rota.Maintenance
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		rows, err := tx.query("SELECT "+maintenanceColumns+" FROM maintenance WHERE id = ?", id)
		if err != nil {
			return err
		}
		ms, err := scanMaintenance(rows)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return rota.Errorf(rota.ENOTFOUND, "no maintenance window %d", id)
		}
		m = ms[0]
		nowMS := now.UnixMilli()
		if !m.End.After(now) {
			return rota.Errorf(rota.ECONFLICT, "maintenance window %d of %s ended at %s", id, m.Service, m.End.UTC().Format(time.RFC3339))
		}
		if err := tx.lock("service:" + m.Service); err != nil {
			return err
		}
		oldEnd := m.End.UnixMilli()
		if m.Start.After(now) {
			m.Start = fromMillis(nowMS) // cancelled before it began
		}
		m.End, m.EndedEarly = fromMillis(nowMS), true
		if _, err := tx.exec("UPDATE maintenance SET start_ms = ?, end_ms = ?, ended_early = 1 WHERE id = ?", m.Start.UnixMilli(), nowMS, id); err != nil {
			return err
		}
		// The service's open incidents say so on their timelines.
		rows, err = tx.query("SELECT id FROM incidents WHERE service = ? AND status <> 'resolved' ORDER BY id LIMIT 1000", m.Service)
		if err != nil {
			return err
		}
		var events []rota.IncidentEvent
		for rows.Next() {
			var inc int64
			if err := rows.Scan(&inc); err != nil {
				rows.Close()
				return err
			}
			msg := fmt.Sprintf("maintenance window %d ended early: what waited for it goes now", id)
			if m.Reason != "" {
				msg = fmt.Sprintf("maintenance window %d (%s) ended early: what waited for it goes now", id, m.Reason)
			}
			events = append(events, rota.IncidentEvent{IncidentID: inc, At: now, Kind: rota.EventMaintenance, Message: msg})
		}
		rows.Close()
		if err := insertEvents(tx, events); err != nil {
			return err
		}
		// What waited for this window's end waits no more; if another
		// window holds it still, the step or the delivery holds it
		// again.
		tx.due(fromMillis(nowMS))
		if _, err := tx.exec(`UPDATE incidents SET esc_due_ms = ? WHERE service = ? AND status = 'triggered' AND esc_due_ms = ?`, nowMS, m.Service, oldEnd); err != nil {
			return err
		}
		_, err = tx.exec(`UPDATE notifications SET next_attempt_ms = ? WHERE status = 'pending' AND next_attempt_ms = ?
			AND incident_id IN (SELECT id FROM incidents WHERE service = ? AND status <> 'resolved')`, nowMS, oldEnd, m.Service)
		return err
	})
	return m, err
}

// MaintenanceWindows lists ad hoc windows ending after since, for one
// service or all (""), by start.
func (db *DB) MaintenanceWindows(ctx context.Context, service string, since time.Time) ([]rota.Maintenance, error) {
	q, args := "SELECT "+maintenanceColumns+" FROM maintenance WHERE end_ms > ?", []any{since.UnixMilli()}
	if service != "" {
		q += " AND service = ?"
		args = append(args, service)
	}
	rows, err := db.query(ctx, q+" ORDER BY start_ms, id", args...)
	if err != nil {
		return nil, fmt.Errorf("maintenance: %w", err)
	}
	return scanMaintenance(rows)
}

// ActiveMaintenance is each service's ad hoc windows holding now or
// later, for the outbox's check before a page goes out.
func (db *DB) ActiveMaintenance(ctx context.Context, now time.Time) (map[string][]rota.Maintenance, error) {
	ms, err := db.MaintenanceWindows(ctx, "", now)
	if err != nil {
		return nil, err
	}
	out := map[string][]rota.Maintenance{}
	for _, m := range ms {
		out[m.Service] = append(out[m.Service], m)
	}
	return out, nil
}

// MaintenanceByID returns one ad hoc window, or ENOTFOUND.
func (db *DB) MaintenanceByID(ctx context.Context, id int64) (rota.Maintenance, error) {
	rows, err := db.query(ctx, "SELECT "+maintenanceColumns+" FROM maintenance WHERE id = ?", id)
	if err != nil {
		return rota.Maintenance{}, fmt.Errorf("maintenance: %w", err)
	}
	ms, err := scanMaintenance(rows)
	if err != nil {
		return rota.Maintenance{}, err
	}
	if len(ms) == 0 {
		return rota.Maintenance{}, rota.Errorf(rota.ENOTFOUND, "no maintenance window %d", id)
	}
	return ms[0], nil
}

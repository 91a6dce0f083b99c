package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

// Beat records a heartbeat's beat at the transaction's time: it is up,
// and due again within timeout. wasDown says it had been missed (its
// incident is to be resolved); first that it had never beaten.
func (db *DB) Beat(ctx context.Context, service, name string, timeout time.Duration) (hb rota.Heartbeat, wasDown, first bool, err error) {
	err = db.tx(ctx, func(tx wtx, now time.Time) error {
		var state string
		err := tx.queryRow("SELECT state FROM heartbeats WHERE service = ? AND name = ?", service, name).Scan(&state)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			first = true
		case err != nil:
			return err
		}
		wasDown = state == "down"
		ms := now.UnixMilli()
		hb = rota.Heartbeat{Service: service, Name: name, Last: fromMillis(ms), Deadline: fromMillis(ms).Add(timeout), Up: true}
		_, err = tx.exec(`INSERT INTO heartbeats (service, name, last_ms, deadline_ms, state) VALUES (?, ?, ?, ?, 'up')
			ON CONFLICT (service, name) DO UPDATE SET last_ms = excluded.last_ms, deadline_ms = excluded.deadline_ms, state = 'up'`,
			service, name, ms, hb.Deadline.UnixMilli())
		return err
	})
	if err != nil {
		return rota.Heartbeat{}, false, false, fmt.Errorf("heartbeat %s/%s: %w", service, name, err)
	}
	return hb, wasDown, first, nil
}

// DueHeartbeats lists the heartbeats that are up and past their
// deadline at now: missed.
func (db *DB) DueHeartbeats(ctx context.Context, now time.Time) ([]rota.Heartbeat, error) {
	return db.heartbeats(ctx, "WHERE state = 'up' AND deadline_ms <= ? ORDER BY deadline_ms", now.UnixMilli())
}

// Heartbeats lists every heartbeat that has beaten, by service and name.
func (db *DB) Heartbeats(ctx context.Context) ([]rota.Heartbeat, error) {
	return db.heartbeats(ctx, "ORDER BY service, name")
}

func (db *DB) heartbeats(ctx context.Context, where string, args ...any) ([]rota.Heartbeat, error) {
	rows, err := db.query(ctx, "SELECT service, name, last_ms, deadline_ms, state FROM heartbeats "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("heartbeats: %w", err)
	}
	defer rows.Close()
	var out []rota.Heartbeat
	for rows.Next() {
		var h rota.Heartbeat
		var last, deadline int64
		var state string
		if err := rows.Scan(&h.Service, &h.Name, &last, &deadline, &state); err != nil {
			return nil, fmt.Errorf("heartbeats: %w", err)
		}
		h.Last, h.Deadline, h.Up = fromMillis(last), fromMillis(deadline), state == "up"
		out = append(out, h)
	}
	return out, rows.Err()
}

// MoveHeartbeatDeadline sets an up heartbeat's deadline to deadline,
// unless it has beaten (or been marked down) since h was read: the
// configuration changed its timeout. false when it changed since.
func (db *DB) MoveHeartbeatDeadline(ctx context.Context, h rota.Heartbeat, deadline time.Time) (bool, error) {
	var moved bool
	err := db.tx(ctx, func(tx wtx, _ time.Time) error {
		tx.due(deadline)
		res, err := tx.exec("UPDATE heartbeats SET deadline_ms = ? WHERE service = ? AND name = ? AND deadline_ms = ? AND state = 'up'",
			deadline.UnixMilli(), h.Service, h.Name, h.Deadline.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		moved = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("move heartbeat %s/%s: %w", h.Service, h.Name, err)
	}
	return moved, nil
}

// MarkHeartbeatDown records that a heartbeat was missed at the deadline
// it was found past; false when it has beaten since (or another daemon
// marked it).
func (db *DB) MarkHeartbeatDown(ctx context.Context, h rota.Heartbeat) (bool, error) {
	var marked bool
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		res, err := tx.exec("UPDATE heartbeats SET state = 'down' WHERE service = ? AND name = ? AND deadline_ms = ? AND state = 'up'",
			h.Service, h.Name, h.Deadline.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		marked = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("heartbeat %s/%s: %w", h.Service, h.Name, err)
	}
	return marked, nil
}

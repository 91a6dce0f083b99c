package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

// SaveLeave keeps person's leave from their calendar.
func (db *DB) SaveLeave(ctx context.Context, person string, leave []rota.Leave, fetched time.Time) error {
	b, err := json.Marshal(leave)
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx wtx, _ time.Time) error {
		_, err := tx.exec(`INSERT INTO leave_cache (person, leave, fetched_ms) VALUES (?, ?, ?)
			ON CONFLICT (person) DO UPDATE SET leave = excluded.leave, fetched_ms = excluded.fetched_ms`, person, string(b), fetched.UnixMilli())
		return err
	})
}

// Leave returns every person's kept calendar leave.
func (db *DB) Leave(ctx context.Context) (map[string][]rota.Leave, error) {
	rows, err := db.query(ctx, "SELECT person, leave FROM leave_cache")
	if err != nil {
		return nil, fmt.Errorf("load leave: %w", err)
	}
	defer rows.Close()
	out := map[string][]rota.Leave{}
	for rows.Next() {
		var person, js string
		if err := rows.Scan(&person, &js); err != nil {
			return nil, err
		}
		var ls []rota.Leave
		if err := json.Unmarshal([]byte(js), &ls); err != nil {
			return nil, fmt.Errorf("leave of %s: %w", person, err)
		}
		out[person] = ls
	}
	return out, rows.Err()
}

// LeaveVersion changes whenever a person's calendar leave is saved, by
// any daemon.
func (db *DB) LeaveVersion(ctx context.Context) (string, error) {
	var n, last int64
	err := db.queryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(fetched_ms), 0) FROM leave_cache").Scan(&n, &last)
	return fmt.Sprintf("%d/%d", n, last), err
}

// QueueReminder queues a handover reminder's notices the first time it is
// asked for (rotation, person, start), marking it in the same
// transaction: sent once across daemons, and not lost at a crash.
func (db *DB) QueueReminder(ctx context.Context, rotation, person string, start time.Time, notices []rota.Notification) (first bool, err error) {
	err = db.tx(ctx, func(tx wtx, now time.Time) error {
		res, err := tx.exec("INSERT INTO reminders (rotation, person, start_ms, sent_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", rotation, person, start.UnixMilli(), now.UnixMilli())
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
	return first, err
}

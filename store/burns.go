package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

// RecordBurn records a burn unless one is recorded for the same team,
// person and budget in the same window; rolling, when not zero, makes any
// burn of that budget within rolling before this one the same window (the
// off-hours budget). first is whether this burn is new: whether to tell.
func (db *DB) RecordBurn(ctx context.Context, b rota.BurnRecord, rolling time.Duration) (first bool, err error) {
	pages, err := json.Marshal(b.Pages)
	if err != nil {
		return false, err
	}
	err = db.tx(ctx, func(tx wtx, _ time.Time) error {
		if rolling > 0 {
			var n int
			if err := tx.queryRow("SELECT COUNT(*) FROM burns WHERE team = ? AND person = ? AND budget = ? AND at_ms > ?",
				b.Team, b.Person, b.Budget, b.At.Add(-rolling).UnixMilli()).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
		}
		res, err := tx.exec("INSERT OR IGNORE INTO burns (team, person, budget, window_ms, at_ms, pages) VALUES (?, ?, ?, ?, ?, ?)",
			b.Team, b.Person, b.Budget, b.Window.UnixMilli(), b.At.UnixMilli(), string(pages))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		first = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record burn: %w", err)
	}
	return first, nil
}

// PersonPages returns person's pages since since, oldest first.
func (db *DB) PersonPages(ctx context.Context, person string, since time.Time) ([]rota.Page, error) {
	rows, err := db.query(ctx, "SELECT alert_id, person, at_ms, channel, bundled FROM pages WHERE person = ? AND at_ms >= ? ORDER BY at_ms, alert_id", person, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("pages of %s: %w", person, err)
	}
	defer rows.Close()
	var out []rota.Page
	for rows.Next() {
		var p rota.Page
		var at int64
		if err := rows.Scan(&p.AlertID, &p.Person, &at, &p.Channel, &p.Bundled); err != nil {
			return nil, err
		}
		p.At = fromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

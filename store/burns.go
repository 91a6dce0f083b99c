package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	return db.pages(ctx, "pages of "+person, pageColumns+"WHERE person = ? AND at_ms >= ? ORDER BY at_ms, incident_id", person, since.UnixMilli())
}

// OffHoursPages returns person's counted pages since since that were
// off-hours when recorded, or recorded before that was noted, in no
// particular order: what an off-hours burn names, read from the partial
// indexes instead of every page of the window.
func (db *DB) OffHoursPages(ctx context.Context, person string, since time.Time) ([]rota.Page, error) {
	return db.pages(ctx, "off-hours pages of "+person,
		pageColumns+"INDEXED BY pages_offhours_by_person WHERE person = ? AND bundled = 0 AND offhours = 1 AND at_ms >= ? UNION ALL "+
			pageColumns+"INDEXED BY pages_unknown_offhours WHERE person = ? AND offhours IS NULL AND bundled = 0 AND at_ms >= ?",
		person, since.UnixMilli(), person, since.UnixMilli())
}

// NthPage returns the alert of person's n-th counted (not bundled) page
// in [from, to], oldest first (n from 1), or 0 when there are fewer; with
// offHours, of their off-hours pages only. It reads at most n rows of an
// index, however many pages the person has had: the budget check on the
// page path.
func (db *DB) NthPage(ctx context.Context, person string, from, to time.Time, n int, offHours bool) (int64, error) {
	// INDEXED BY: without statistics SQLite picks the counted-pages index
	// for off-hours queries too, and reads every page of the window.
	q := "SELECT incident_id FROM pages INDEXED BY pages_counted_by_person WHERE person = ? AND bundled = 0 AND at_ms >= ? AND at_ms <= ?"
	if offHours {
		q = "SELECT incident_id FROM pages INDEXED BY pages_offhours_by_person WHERE person = ? AND bundled = 0 AND offhours = 1 AND at_ms >= ? AND at_ms <= ?"
	}
	var id int64
	// ORDER BY at_ms alone, the index's order: adding a tie-breaker would
	// make SQLite sort every page of the window.
	err := db.queryRow(ctx, q+" ORDER BY at_ms LIMIT 1 OFFSET ?", person, from.UnixMilli(), to.UnixMilli(), n-1).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// UnknownOffHours reports whether person has pages in [from, to] recorded
// before their off-hours status was kept.
func (db *DB) UnknownOffHours(ctx context.Context, person string, from, to time.Time) (bool, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM pages INDEXED BY pages_unknown_offhours WHERE person = ? AND offhours IS NULL AND at_ms >= ? AND at_ms <= ? LIMIT 1)",
		person, from.UnixMilli(), to.UnixMilli()).Scan(&n)
	return n > 0, err
}

// HasBurn reports whether a burn of team, person and budget is recorded
// for the window.
func (db *DB) HasBurn(ctx context.Context, team, person, budget string, window time.Time) (bool, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM burns WHERE team = ? AND person = ? AND budget = ? AND window_ms = ?", team, person, budget, window.UnixMilli()).Scan(&n)
	return n > 0, err
}

// CountTeamPages counts the counted pages of people in [from, to].
func (db *DB) CountTeamPages(ctx context.Context, people []string, from, to time.Time) (int, error) {
	if len(people) == 0 {
		return 0, nil
	}
	args := []any{from.UnixMilli(), to.UnixMilli()}
	for _, p := range people {
		args = append(args, p)
	}
	var n int
	err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM pages WHERE bundled = 0 AND at_ms >= ? AND at_ms <= ? AND person IN ("+placeholders(len(people))+")", args...).Scan(&n)
	return n, err
}

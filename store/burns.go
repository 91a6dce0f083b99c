package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/rotahq/rota"
)

// PendingAccounting returns pages still to be accounted against budgets,
// oldest first: what recording a page queued in its transaction. On
// PostgreSQL the items returned are claimed for this daemon for
// accountingLease, so that daemons sharing the database account each page
// once between them (accounting twice would decide the same, at twice the
// cost); an item still there when its lease ends (its daemon stopped, or
// could not record it) is anyone's again.
func (db *DB) PendingAccounting(ctx context.Context, limit int) ([]rota.AccountItem, error) {
	const cols = "id, person, incident_id, at_ms, interruption, offhours"
	var rows *sql.Rows
	var err error
	if db.pg {
		now := db.Now().UnixMilli()
		// One statement, so its own transaction: rows another daemon is
		// claiming at the same moment are skipped, not waited for.
		rows, err = db.write.QueryContext(ctx, db.sql(`UPDATE accounting SET claim_until_ms = ? WHERE id IN (
			SELECT id FROM accounting WHERE claim_until_ms IS NULL OR claim_until_ms <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
			RETURNING `+cols), now+accountingLease.Milliseconds(), now, limit)
		err = unavailable(err)
	} else {
		rows, err = db.query(ctx, "SELECT "+cols+" FROM accounting ORDER BY id LIMIT ?", limit)
	}
	if err != nil {
		return nil, fmt.Errorf("pending accounting: %w", err)
	}
	defer rows.Close()
	var out []rota.AccountItem
	for rows.Next() {
		var it rota.AccountItem
		var at int64
		if err := rows.Scan(&it.ID, &it.Person, &it.IncidentID, &at, &it.Interruption, &it.OffHours); err != nil {
			return nil, err
		}
		it.At = fromMillis(at)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending accounting: %w", unavailable(err))
	}
	slices.SortFunc(out, func(a, b rota.AccountItem) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// accountingLease is how long a daemon's claim on pages to account lasts
// (PostgreSQL).
const accountingLease = 30 * time.Second

// BudgetFacts reads what accounting a person's page at at decides from:
// their interruptions in [weekFrom, at] and their off-hours incidents in
// (offFrom, at], each oldest first, read as pages from their indexes.
func (db *DB) BudgetFacts(ctx context.Context, person string, weekFrom, offFrom, at time.Time) (week, offHours []rota.Page, err error) {
	week, err = db.pages(ctx, "interruptions of "+person, `SELECT incident_id, person, at_ms, channel, offhours FROM interruptions
		WHERE person = ? AND at_ms >= ? AND at_ms <= ? ORDER BY at_ms, id`, person, weekFrom.UnixMilli(), at.UnixMilli())
	if err != nil {
		return nil, nil, err
	}
	offHours, err = db.pages(ctx, "off-hours incidents of "+person, pageColumns+`INDEXED BY pages_offhours_by_person
		WHERE person = ? AND offhours = 1 AND at_ms > ? AND at_ms <= ? ORDER BY at_ms, incident_id`, person, offFrom.UnixMilli(), at.UnixMilli())
	return week, offHours, err
}

// Interruptions returns the interruptions of people in [from, to], oldest
// first, read as pages.
func (db *DB) Interruptions(ctx context.Context, people []string, from, to time.Time) ([]rota.Page, error) {
	if len(people) == 0 {
		return nil, nil
	}
	args := []any{from.UnixMilli(), to.UnixMilli()}
	for _, p := range people {
		args = append(args, p)
	}
	return db.pages(ctx, "interruptions", `SELECT incident_id, person, at_ms, channel, offhours FROM interruptions
		WHERE at_ms >= ? AND at_ms <= ? AND person IN (`+placeholders(len(people))+`) ORDER BY at_ms, id`, args...)
}

// CountInterruptions counts the interruptions of people in [from, to].
func (db *DB) CountInterruptions(ctx context.Context, people []string, from, to time.Time) (int, error) {
	if len(people) == 0 {
		return 0, nil
	}
	args := []any{from.UnixMilli(), to.UnixMilli()}
	for _, p := range people {
		args = append(args, p)
	}
	var n int
	err := db.queryRowOnce(ctx, "SELECT COUNT(*) FROM interruptions WHERE at_ms >= ? AND at_ms <= ? AND person IN ("+placeholders(len(people))+")", args...).Scan(&n)
	return n, err
}

// RecordAccounting records what accounting decided of item id, in one
// transaction: each burn once per window, and for each burn that is new
// its managers' notices (into the outbox) and timeline note; then the item
// is done. Run again after a crash, it records nothing twice. It returns
// which burns were new.
func (db *DB) RecordAccounting(ctx context.Context, id int64, burns []rota.BurnNotice) ([]bool, error) {
	fresh := make([]bool, len(burns))
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		for i, b := range burns {
			first, err := insertBurn(tx, b.Burn, b.Rolling)
			if err != nil {
				return err
			}
			fresh[i] = first
			if !first {
				continue
			}
			for _, n := range b.Notices {
				if _, err := insertNotification(tx, n, now); err != nil {
					return err
				}
			}
			if b.Event.Message != "" {
				if b.Event.At.IsZero() {
					b.Event.At = now
				}
				if err := insertEvents(tx, []rota.IncidentEvent{b.Event}); err != nil {
					return err
				}
			}
		}
		return tx.later("DELETE FROM accounting WHERE id = ?", id)
	})
	if err != nil {
		return nil, fmt.Errorf("record accounting: %w", err)
	}
	return fresh, nil
}

// RecordBurn records a burn unless one is recorded for the same team,
// person and budget in the same window; rolling, when not zero, makes any
// burn of that budget within rolling before this one the same window (the
// off-hours budget). first is whether this burn is new.
func (db *DB) RecordBurn(ctx context.Context, b rota.BurnRecord, rolling time.Duration) (first bool, err error) {
	err = db.tx(ctx, func(tx wtx, _ time.Time) error {
		first, err = insertBurn(tx, b, rolling)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record burn: %w", err)
	}
	return first, nil
}

func insertBurn(tx wtx, b rota.BurnRecord, rolling time.Duration) (bool, error) {
	pages, err := json.Marshal(b.Pages)
	if err != nil {
		return false, err
	}
	if rolling > 0 {
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM burns WHERE team = ? AND person = ? AND budget = ? AND at_ms > ?",
			b.Team, b.Person, b.Budget, b.At.Add(-rolling).UnixMilli()).Scan(&n); err != nil {
			return false, err
		}
		if n > 0 {
			return false, nil
		}
	}
	res, err := tx.exec("INSERT INTO burns (team, person, budget, window_ms, at_ms, pages) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		b.Team, b.Person, b.Budget, b.Window.UnixMilli(), b.At.UnixMilli(), string(pages))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UnknownOffHours returns pages recorded before their off-hours status
// was kept, at most limit.
func (db *DB) UnknownOffHours(ctx context.Context, limit int) ([]rota.Page, error) {
	return db.pages(ctx, "pages of unknown hours", pageColumns+"INDEXED BY pages_unknown_offhours WHERE offhours IS NULL LIMIT ?", limit)
}

// SetOffHours records the off-hours status of pages judged late.
func (db *DB) SetOffHours(ctx context.Context, pages []rota.Page) error {
	if len(pages) == 0 {
		return nil
	}
	return db.tx(ctx, func(tx wtx, _ time.Time) error {
		for _, pg := range pages {
			if _, err := tx.exec("UPDATE pages SET offhours = ? WHERE incident_id = ? AND person = ? AND offhours IS NULL", pg.OffHours, pg.IncidentID, pg.Person); err != nil {
				return fmt.Errorf("set off-hours: %w", err)
			}
		}
		return nil
	})
}

// PersonPages returns the incidents that reached person since since,
// oldest first.
func (db *DB) PersonPages(ctx context.Context, person string, since time.Time) ([]rota.Page, error) {
	return db.pages(ctx, "pages of "+person, pageColumns+"WHERE person = ? AND at_ms >= ? ORDER BY at_ms, incident_id", person, since.UnixMilli())
}

// BurnedSince reports whether a burn of team, person and budget is
// recorded after since (a rolling window's burn, as RecordAccounting
// finds it).
func (db *DB) BurnedSince(ctx context.Context, team, person, budget string, since time.Time) (bool, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM burns WHERE team = ? AND person = ? AND budget = ? AND at_ms > ?", team, person, budget, since.UnixMilli()).Scan(&n)
	return n > 0, err
}

// HasBurn reports whether a burn of team, person and budget is recorded
// for the window.
func (db *DB) HasBurn(ctx context.Context, team, person, budget string, window time.Time) (bool, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM burns WHERE team = ? AND person = ? AND budget = ? AND window_ms = ?", team, person, budget, window.UnixMilli()).Scan(&n)
	return n > 0, err
}

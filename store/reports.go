package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ReportData reads what a team's human-SLO report needs (see
// rota.ReportData), from indexes, a person at a time so that no row
// carries (and allocates) the person's name.
func (db *DB) ReportData(ctx context.Context, q rota.ReportQuery) (rota.ReportData, error) {
	out := rota.ReportData{Incidents: map[int64]rota.Incident{}, OffHoursInWindow: map[string]int{}, Reached: map[string]rota.Reached{},
		Interruptions: map[string][]rota.Page{}}
	perPerson := func(what, query string, args func(person string) []any, each func(person string, rows *sql.Rows) error) error {
		stmt, err := db.read.PrepareContext(ctx, db.sql(query))
		if err != nil {
			return fmt.Errorf("report %s: %w", what, err)
		}
		defer stmt.Close()
		for _, person := range q.People {
			if err := func() error {
				rows, err := stmt.QueryContext(ctx, db.args(args(person))...)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					if err := each(person, rows); err != nil {
						return err
					}
				}
				return rows.Err()
			}(); err != nil {
				return fmt.Errorf("report %s of %s: %w", what, person, err)
			}
		}
		return nil
	}
	span := func(person string) []any { return []any{person, q.From.UnixMilli(), q.To.UnixMilli()} }
	var id, at int64 // outside the loops: Scan's pointers escape
	var off bool
	if err := perPerson("interruptions", "SELECT incident_id, at_ms, offhours FROM interruptions WHERE person = ? AND at_ms >= ? AND at_ms < ?", span,
		func(person string, rows *sql.Rows) error {
			if err := rows.Scan(&id, &at, &off); err != nil {
				return err
			}
			out.Interruptions[person] = append(out.Interruptions[person], rota.Page{IncidentID: id, Person: person, At: fromMillis(at), OffHours: off})
			return nil
		}); err != nil {
		return out, err
	}
	// Reached incidents are counted in the index, not read: a person's
	// off-hours ones, few, are read for their times.
	var all, offCount int
	if err := perPerson("pages", "SELECT COUNT(*), COALESCE(SUM(offhours), 0) FROM pages WHERE person = ? AND at_ms >= ? AND at_ms < ?", span,
		func(person string, rows *sql.Rows) error {
			if err := rows.Scan(&all, &offCount); err != nil {
				return err
			}
			out.Reached[person] = rota.Reached{Incidents: all, OffHours: offCount}
			return nil
		}); err != nil {
		return out, err
	}
	if err := perPerson("off-hours pages", "SELECT at_ms FROM pages INDEXED BY pages_offhours_by_person WHERE person = ? AND offhours = 1 AND at_ms >= ? AND at_ms < ?", span,
		func(person string, rows *sql.Rows) error {
			if err := rows.Scan(&at); err != nil {
				return err
			}
			r := out.Reached[person]
			r.OffHoursAt = append(r.OffHoursAt, fromMillis(at))
			out.Reached[person] = r
			return nil
		}); err != nil {
		return out, err
	}
	var n int
	if err := perPerson("off-hours incidents", "SELECT COUNT(*) FROM pages INDEXED BY pages_offhours_by_person WHERE person = ? AND offhours = 1 AND at_ms > ? AND at_ms <= ?",
		func(person string) []any {
			return []any{person, q.To.Add(-q.OffHoursWindow).UnixMilli(), q.To.UnixMilli()}
		},
		func(person string, rows *sql.Rows) error {
			if err := rows.Scan(&n); err != nil {
				return err
			}
			out.OffHoursInWindow[person] = n
			return nil
		}); err != nil {
		return out, err
	}
	// Reports read an incident's service, summary, size and times, not
	// its policy.
	// An incident counts as a page avoided by maintenance when it opened
	// in a window and never reached anyone (not when it paged once the
	// window ended).
	const reportColumns = `id, service, summary, severity, alert_count, created_ms, acked_ms, resolved_ms,
		CASE WHEN maintenance = 1 AND NOT EXISTS (SELECT 1 FROM pages pg WHERE pg.incident_id = incidents.id) THEN 1 ELSE 0 END`
	scan := func(query string, args ...any) error {
		rows, err := db.queryOnce(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a rota.Incident
			var created int64
			var acked, resolved sql.NullInt64
			if err := rows.Scan(&a.ID, &a.Service, &a.Summary, &a.Severity, &a.AlertCount, &created, &acked, &resolved, &a.InMaintenance); err != nil {
				return err
			}
			a.CreatedAt, a.AckedAt, a.ResolvedAt = fromMillis(created), nullTime(acked), nullTime(resolved)
			out.Incidents[a.ID] = a
		}
		return rows.Err()
	}
	var svcArgs []any
	for _, s := range q.Services {
		svcArgs = append(svcArgs, s)
	}
	inRange := append([]any{q.From.UnixMilli(), q.To.UnixMilli()}, svcArgs...)
	if len(q.Services) > 0 {
		if err := scan("SELECT "+reportColumns+" FROM incidents WHERE created_ms >= ? AND created_ms < ? AND service IN ("+placeholders(len(q.Services))+")", inRange...); err != nil {
			return out, fmt.Errorf("report incidents: %w", err)
		}
		rows, err := db.queryOnce(ctx, "SELECT service, summary, COUNT(*) FROM alerts WHERE created_ms >= ? AND created_ms < ? AND service IN ("+
			placeholders(len(q.Services))+") GROUP BY service, summary", inRange...)
		if err != nil {
			return out, fmt.Errorf("report alerts: %w", err)
		}
		for rows.Next() {
			var c rota.AlertCount
			if err := rows.Scan(&c.Service, &c.Summary, &c.Alerts); err != nil {
				rows.Close()
				return out, err
			}
			out.Alerts = append(out.Alerts, c)
		}
		rows.Close()
	}
	var missing []any
	seen := map[int64]bool{}
	for _, pages := range out.Interruptions {
		for _, pg := range pages {
			if _, ok := out.Incidents[pg.IncidentID]; !ok && !seen[pg.IncidentID] {
				seen[pg.IncidentID] = true
				missing = append(missing, pg.IncidentID)
			}
		}
	}
	for len(missing) > 0 {
		n := min(len(missing), 500)
		if err := scan("SELECT "+reportColumns+" FROM incidents WHERE id IN ("+placeholders(n)+")", missing[:n]...); err != nil {
			return out, fmt.Errorf("report incidents: %w", err)
		}
		missing = missing[n:]
	}
	var err error
	if out.Burns, err = db.burns(ctx, "report burns", "team = ? AND at_ms >= ? AND at_ms < ?", q.Team, q.From.UnixMilli(), q.To.UnixMilli()); err != nil {
		return out, err
	}
	if len(q.Services) > 0 {
		args := append([]any{rota.EventQuiet, q.From.UnixMilli(), q.To.UnixMilli()}, svcArgs...)
		rows, err := db.queryOnce(ctx, `SELECT e.id, e.incident_id, e.at_ms, e.kind, e.actor, e.message FROM incident_events e JOIN incidents a ON a.id = e.incident_id
			WHERE e.kind = ? AND e.at_ms >= ? AND e.at_ms < ? AND a.service IN (`+placeholders(len(q.Services))+`)`, args...)
		if err != nil {
			return out, fmt.Errorf("report quiet hours: %w", err)
		}
		for rows.Next() {
			var e rota.IncidentEvent
			var at int64
			if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor, &e.Message); err != nil {
				rows.Close()
				return out, err
			}
			e.At = fromMillis(at)
			out.Avoided = append(out.Avoided, e)
		}
		rows.Close()
	}
	return out, nil
}

// Burns lists every team's burns told in [from, to), oldest first.
func (db *DB) Burns(ctx context.Context, from, to time.Time) ([]rota.BurnRecord, error) {
	return db.burns(ctx, "list burns", "at_ms >= ? AND at_ms < ?", from.UnixMilli(), to.UnixMilli())
}

// burns reads the burns where says, oldest first; what names the read in
// its errors.
func (db *DB) burns(ctx context.Context, what, where string, args ...any) ([]rota.BurnRecord, error) {
	rows, err := db.queryOnce(ctx, "SELECT team, person, budget, window_ms, at_ms, pages FROM burns WHERE "+where+" ORDER BY at_ms, id", args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []rota.BurnRecord
	for rows.Next() {
		var b rota.BurnRecord
		var w, at int64
		var js string
		if err := rows.Scan(&b.Team, &b.Person, &b.Budget, &w, &at, &js); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		b.Window, b.At = fromMillis(w), fromMillis(at)
		if err := json.Unmarshal([]byte(js), &b.Pages); err != nil {
			return nil, fmt.Errorf("%s: pages of a burn: %w", what, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

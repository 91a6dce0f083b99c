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

// ReportData reads what a team's report needs: the pages of people in
// [from, to) (counted or not), the alerts of services created in [from,
// to) and those the pages belong to, the team's burns, and the quiet-hours
// notes of those alerts.
func (db *DB) ReportData(ctx context.Context, team string, people, services []string, from, to time.Time) ([]rota.Page, map[int64]rota.Incident, []rota.BurnRecord, []rota.IncidentEvent, error) {
	alerts := map[int64]rota.Incident{}
	var pages []rota.Page
	if len(people) > 0 {
		// Only counted pages (bundled ones do not count), only what
		// accounting reads, from one covering index, a person at a time
		// so no row carries (and allocates) the person's name.
		stmt, err := db.read.PrepareContext(ctx, "SELECT incident_id, at_ms FROM pages WHERE person = ? AND bundled = 0 AND at_ms >= ? AND at_ms < ?")
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("report pages: %w", err)
		}
		defer stmt.Close()
		for _, person := range people {
			if err := func() error {
				rows, err := stmt.QueryContext(ctx, person, from.UnixMilli(), to.UnixMilli())
				if err != nil {
					return err
				}
				defer rows.Close()
				var id, at int64 // outside the loop: Scan's pointers escape
				for rows.Next() {
					if err := rows.Scan(&id, &at); err != nil {
						return err
					}
					pages = append(pages, rota.Page{IncidentID: id, Person: person, At: fromMillis(at)})
				}
				return rows.Err()
			}(); err != nil {
				return nil, nil, nil, nil, fmt.Errorf("report pages of %s: %w", person, err)
			}
		}
	}
	// Reports read an alert's service, summary and times, not its policy
	// and details.
	const reportColumns = "id, service, summary, created_ms, acked_ms, resolved_ms"
	scan := func(q string, args ...any) error {
		rows, err := db.read.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a rota.Incident
			var created int64
			var acked, resolved sql.NullInt64
			if err := rows.Scan(&a.ID, &a.Service, &a.Summary, &created, &acked, &resolved); err != nil {
				return err
			}
			a.CreatedAt, a.AckedAt, a.ResolvedAt = fromMillis(created), nullTime(acked), nullTime(resolved)
			alerts[a.ID] = a
		}
		return rows.Err()
	}
	if len(services) > 0 {
		args := []any{from.UnixMilli(), to.UnixMilli()}
		for _, s := range services {
			args = append(args, s)
		}
		if err := scan("SELECT "+reportColumns+" FROM incidents WHERE created_ms >= ? AND created_ms < ? AND service IN ("+placeholders(len(services))+")", args...); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("report alerts: %w", err)
		}
	}
	var missing []any
	for _, pg := range pages {
		if _, ok := alerts[pg.IncidentID]; !ok {
			missing = append(missing, pg.IncidentID)
		}
	}
	for len(missing) > 0 {
		n := min(len(missing), 500)
		if err := scan("SELECT "+reportColumns+" FROM incidents WHERE id IN ("+placeholders(n)+")", missing[:n]...); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("report alerts: %w", err)
		}
		missing = missing[n:]
	}
	var burns []rota.BurnRecord
	rows, err := db.read.QueryContext(ctx, "SELECT team, person, budget, window_ms, at_ms, pages FROM burns WHERE team = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms", team, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("report burns: %w", err)
	}
	for rows.Next() {
		var b rota.BurnRecord
		var w, at int64
		var js string
		if err := rows.Scan(&b.Team, &b.Person, &b.Budget, &w, &at, &js); err != nil {
			rows.Close()
			return nil, nil, nil, nil, err
		}
		b.Window, b.At = fromMillis(w), fromMillis(at)
		json.Unmarshal([]byte(js), &b.Pages)
		burns = append(burns, b)
	}
	rows.Close()
	var quiet []rota.IncidentEvent
	if len(services) > 0 {
		args := []any{rota.EventQuiet, from.UnixMilli(), to.UnixMilli()}
		for _, s := range services {
			args = append(args, s)
		}
		rows, err := db.read.QueryContext(ctx, `SELECT e.id, e.incident_id, e.at_ms, e.kind, e.actor, e.message FROM incident_events e JOIN incidents a ON a.id = e.incident_id
			WHERE e.kind = ? AND e.at_ms >= ? AND e.at_ms < ? AND a.service IN (`+placeholders(len(services))+`)`, args...)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("report quiet hours: %w", err)
		}
		for rows.Next() {
			var e rota.IncidentEvent
			var at int64
			if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor, &e.Message); err != nil {
				rows.Close()
				return nil, nil, nil, nil, err
			}
			e.At = fromMillis(at)
			quiet = append(quiet, e)
		}
		rows.Close()
	}
	return pages, alerts, burns, quiet, nil
}

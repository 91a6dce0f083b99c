package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

// ReplyCodes returns the reply code of each alert for person, giving the
// smallest free code to alerts that have none. Codes of resolved alerts
// are freed first, so codes stay short.
func (db *DB) ReplyCodes(ctx context.Context, person string, alertIDs []int64) (map[int64]int, error) {
	codes := make(map[int64]int, len(alertIDs))
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		if err := tx.lock("person:" + person); err != nil {
			return err
		}
		// The person's codes only (reply_codes_by_incident), each
		// incident looked up by its key: not every resolved incident
		// ever, which grows with history.
		if _, err := tx.exec(`DELETE FROM reply_codes WHERE person = ? AND EXISTS (SELECT 1 FROM incidents i WHERE i.id = reply_codes.incident_id AND i.status = 'resolved')`, person); err != nil {
			return err
		}
		for _, id := range alertIDs {
			var code int
			err := tx.queryRow("SELECT code FROM reply_codes WHERE person = ? AND incident_id = ?", person, id).Scan(&code)
			if err == nil {
				codes[id] = code
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			// The smallest code not in use: 1 if free, else the first
			// gap after a used code.
			err = tx.queryRow(`SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM reply_codes WHERE person = ?1 AND code = 1) THEN 1 ELSE
				(SELECT MIN(code) + 1 FROM reply_codes r WHERE person = ?1 AND NOT EXISTS (
					SELECT 1 FROM reply_codes WHERE person = ?1 AND code = r.code + 1)) END`, person).Scan(&code)
			if err != nil {
				return err
			}
			if _, err := tx.exec("INSERT INTO reply_codes (person, code, incident_id, created_ms) VALUES (?, ?, ?, ?)", person, code, id, now.UnixMilli()); err != nil {
				return err
			}
			codes[id] = code
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reply codes: %w", err)
	}
	return codes, nil
}

// IncidentByCode returns the alert person's reply code names, or ENOTFOUND.
func (db *DB) IncidentByCode(ctx context.Context, person string, code int) (rota.Incident, error) {
	a, err := scanIncident(db.queryRow(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = (SELECT incident_id FROM reply_codes WHERE person = ? AND code = ?)", person, code))
	if errors.Is(err, sql.ErrNoRows) {
		return rota.Incident{}, rota.Errorf(rota.ENOTFOUND, "no alert has reply code %d for %s", code, person)
	}
	return a, err
}

// IncidentsPaging returns the open incidents whose pages reached person
// (sent to them), most recently first. A manager's notice about an
// incident does not make it theirs to answer.
func (db *DB) IncidentsPaging(ctx context.Context, person string) ([]rota.Incident, error) {
	rows, err := db.query(ctx, "SELECT "+incidentColumns+` FROM incidents a JOIN (
		SELECT incident_id, MAX(sent_ms) AS last FROM notifications WHERE person = ? AND sent_ms IS NOT NULL AND kind = 'page' GROUP BY incident_id) n ON n.incident_id = a.id
		WHERE a.status <> 'resolved' ORDER BY n.last DESC, a.id DESC`, person)
	if err != nil {
		return nil, fmt.Errorf("alerts paging %s: %w", person, err)
	}
	return scanIncidents(rows)
}

// FirstInbound records an inbound provider request by its key (a message's
// SID) and reports whether it is the first with that key: a replayed
// request, validly signed as it is, must not act again.
func (db *DB) FirstInbound(ctx context.Context, key string) (bool, error) {
	var first bool
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		res, err := tx.exec("INSERT INTO inbound_seen (key, at_ms) VALUES (?, ?) ON CONFLICT DO NOTHING", key, now.UnixMilli())
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		first = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("inbound request %s: %w", key, err)
	}
	return first, nil
}

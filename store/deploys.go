package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

const deployColumns = `id, service, commit_sha, author, merged_by, deployed_ms, url, compare_url, summary, source,
	environment, repository, COALESCE(external_id, ''), recorded_by, created_ms`

func scanDeploy(s scanner) (rota.Deploy, error) {
	var d rota.Deploy
	var deployed, created int64
	err := s.Scan(&d.ID, &d.Service, &d.Commit, &d.Author, &d.MergedBy, &deployed, &d.URL, &d.CompareURL, &d.Summary, &d.Source,
		&d.Environment, &d.Repository, &d.ExternalID, &d.RecordedBy, &created)
	d.DeployedAt, d.CreatedAt = fromMillis(deployed), fromMillis(created)
	return d, err
}

// CreateDeploy records a deploy and sets its ID and CreatedAt. A deploy
// whose source and external ID are already recorded is not recorded
// again: the stored one is returned with created false.
func (db *DB) CreateDeploy(ctx context.Context, d *rota.Deploy) (created bool, err error) {
	if err := d.Validate(); err != nil {
		return false, err
	}
	var ext any
	if d.ExternalID != "" {
		ext = d.ExternalID
	}
	err = db.tx(ctx, func(tx wtx, now time.Time) error {
		if d.ExternalID != "" {
			prev, err := scanDeploy(tx.queryRow("SELECT "+deployColumns+" FROM deploys WHERE source = ? AND external_id = ?", d.Source, d.ExternalID))
			if err == nil {
				*d, created = prev, false
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		id, err := tx.insert(`INSERT INTO deploys (service, commit_sha, author, merged_by, deployed_ms, url, compare_url, summary, source,
			environment, repository, external_id, recorded_by, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.Service, d.Commit, d.Author, d.MergedBy, d.DeployedAt.UnixMilli(), d.URL, d.CompareURL, d.Summary, d.Source,
			d.Environment, d.Repository, ext, d.RecordedBy, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("insert deploy: %w", err)
		}
		d.ID = id
		d.DeployedAt, d.CreatedAt = fromMillis(d.DeployedAt.UnixMilli()), fromMillis(now.UnixMilli())
		created = true
		return nil
	})
	return created, err
}

// Deploys lists deploys, most recent first.
func (db *DB) Deploys(ctx context.Context, f rota.DeployFilter) ([]rota.Deploy, error) {
	var where []string
	var args []any
	if f.Service != "" {
		where = append(where, "service = ?")
		args = append(args, f.Service)
	}
	if !f.Since.IsZero() {
		where = append(where, "deployed_ms > ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, "deployed_ms <= ?")
		args = append(args, f.Until.UnixMilli())
	}
	q := "SELECT " + deployColumns + " FROM deploys"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.query(ctx, q+" ORDER BY deployed_ms DESC, id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list deploys: %w", err)
	}
	defer rows.Close()
	var out []rota.Deploy
	for rows.Next() {
		d, err := scanDeploy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

// CreateOverride stores o, setting its ID and CreatedAt. Times are kept to
// the millisecond.
func (db *DB) CreateOverride(ctx context.Context, o *rota.Override) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return db.tx(ctx, func(tx wtx, now time.Time) error {
		id, err := tx.insert(`INSERT INTO overrides (rotation, person, start_ms, end_ms, reason, created_by, created_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			o.Rotation, o.Person, o.Start.UnixMilli(), o.End.UnixMilli(), o.Reason, o.CreatedBy, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("create override: %w", err)
		}
		o.ID = id
		o.Start, o.End = fromMillis(o.Start.UnixMilli()), fromMillis(o.End.UnixMilli())
		o.CreatedAt = fromMillis(now.UnixMilli())
		return nil
	})
}

const overrideColumns = "id, rotation, person, start_ms, end_ms, reason, created_by, created_ms"

// Overrides returns rotation's overrides (every rotation's when rotation is
// empty) in order of start.
func (db *DB) Overrides(ctx context.Context, rotation string) ([]rota.Override, error) {
	q := "SELECT " + overrideColumns + " FROM overrides"
	var args []any
	if rotation != "" {
		q += " WHERE rotation = ?"
		args = append(args, rotation)
	}
	rows, err := db.query(ctx, q+" ORDER BY start_ms, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list overrides: %w", err)
	}
	defer rows.Close()
	var out []rota.Override
	for rows.Next() {
		o, err := scanOverride(rows)
		if err != nil {
			return nil, fmt.Errorf("list overrides: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list overrides: %w", err)
	}
	return out, nil
}

// Override returns the override with id, or an ENOTFOUND error.
func (db *DB) Override(ctx context.Context, id int64) (rota.Override, error) {
	o, err := scanOverride(db.queryRow(ctx, "SELECT "+overrideColumns+" FROM overrides WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return rota.Override{}, rota.Errorf(rota.ENOTFOUND, "override %d not found", id)
	}
	if err != nil {
		return rota.Override{}, fmt.Errorf("get override: %w", err)
	}
	return o, nil
}

// DeleteOverride removes the override with id and returns it, or an
// ENOTFOUND error.
func (db *DB) DeleteOverride(ctx context.Context, id int64) (rota.Override, error) {
	var o rota.Override
	err := db.tx(ctx, func(tx wtx, _ time.Time) error {
		var err error
		o, err = scanOverride(tx.queryRow("DELETE FROM overrides WHERE id = ? RETURNING "+overrideColumns, id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return rota.Override{}, rota.Errorf(rota.ENOTFOUND, "override %d not found", id)
	}
	if err != nil {
		return rota.Override{}, fmt.Errorf("delete override: %w", err)
	}
	return o, nil
}

type scanner interface{ Scan(...any) error }

func scanOverride(s scanner) (rota.Override, error) {
	var o rota.Override
	var start, end, created int64
	if err := s.Scan(&o.ID, &o.Rotation, &o.Person, &start, &end, &o.Reason, &o.CreatedBy, &created); err != nil {
		return rota.Override{}, err
	}
	o.Start, o.End, o.CreatedAt = fromMillis(start), fromMillis(end), fromMillis(created)
	return o, nil
}

// CreateOverrides stores several overrides in one transaction: all or
// none (a swap is two).
func (db *DB) CreateOverrides(ctx context.Context, os []*rota.Override) error {
	for _, o := range os {
		if err := o.Validate(); err != nil {
			return err
		}
	}
	return db.tx(ctx, func(tx wtx, now time.Time) error { return insertOverrides(tx, now, os) })
}

func insertOverrides(tx wtx, now time.Time, os []*rota.Override) error {
	for _, o := range os {
		id, err := tx.insert(`INSERT INTO overrides (rotation, person, start_ms, end_ms, reason, created_by, created_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			o.Rotation, o.Person, o.Start.UnixMilli(), o.End.UnixMilli(), o.Reason, o.CreatedBy, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("create override: %w", err)
		}
		o.ID = id
		o.Start, o.End, o.CreatedAt = fromMillis(o.Start.UnixMilli()), fromMillis(o.End.UnixMilli()), fromMillis(now.UnixMilli())
	}
	return nil
}

// OverridesVersion changes whenever an override is made or deleted, by
// any daemon: a cheap way for each to notice the others' changes.
func (db *DB) OverridesVersion(ctx context.Context) (string, error) {
	var n, maxID, sum int64
	err := db.queryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM overrides").Scan(&n, &maxID, &sum)
	return fmt.Sprintf("%d/%d/%d", n, maxID, sum), err
}

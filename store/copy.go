package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// copyOrder lists the tables a copy fills first, so that every row's
// references exist when it arrives; the others follow by name.
var copyOrder = []string{"deploys", "incidents", "alerts", "incident_events", "notifications"}

// TableCount is a table's rows in a copy's source and target, and
// whether reading the target back gave the source's rows.
type TableCount struct {
	Table          string
	Source, Target int64
	ReadBack       bool
}

// CopyTo copies every row of every table of db into dst, which must be
// empty and at the same schema version, in one transaction on dst (all or
// nothing), then checks it: each table's count, and a read-back of every
// row compared by hash. It is rotad migrate-db: SQLite to PostgreSQL (or
// the other way). Nothing may write to either meanwhile: stop rotad.
func (db *DB) CopyTo(ctx context.Context, dst *DB) ([]TableCount, error) {
	sv, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	dv, err := dst.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if sv != dv {
		return nil, fmt.Errorf("copy: the source is at schema version %d and the target at %d: run the same rotad on both", sv, dv)
	}
	tables, err := db.tables(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		var n int64
		if err := dst.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("copy: the target's %s: %w", t, err)
		}
		if n > 0 && t != "health" {
			return nil, fmt.Errorf("copy: the target is not empty (%s has %d rows): copy into a new database", t, n)
		}
	}
	tx, err := dst.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM health"); err != nil {
		return nil, err
	}
	var out []TableCount
	for _, t := range tables {
		n, err := db.copyTable(ctx, dst, tx, t)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t, err)
		}
		out = append(out, TableCount{Table: t, Source: n})
	}
	if dst.pg {
		// Identity columns go on from the copied ids, not from 1.
		for _, t := range tables {
			var hasID bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
				AND table_name = $1 AND column_name = 'id' AND is_identity = 'YES')`, t).Scan(&hasID); err != nil {
				return nil, err
			}
			if hasID {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)", t, t)); err != nil {
					return nil, fmt.Errorf("copy %s: sequence: %w", t, err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("copy: commit: %w", err)
	}
	for i := range out {
		t := out[i].Table
		if err := dst.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&out[i].Target); err != nil {
			return out, err
		}
		a, err := db.tableHash(ctx, t)
		if err != nil {
			return out, err
		}
		b, err := dst.tableHash(ctx, t)
		if err != nil {
			return out, err
		}
		out[i].ReadBack = a == b
		if out[i].Target != out[i].Source || !out[i].ReadBack {
			return out, fmt.Errorf("copy: %s does not read back as it was copied (%d rows, %d in the target)", t, out[i].Source, out[i].Target)
		}
	}
	return out, nil
}

// tables lists the database's tables in copy order.
func (db *DB) tables(ctx context.Context) ([]string, error) {
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'"
	if db.pg {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'"
	}
	rows, err := db.read.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		ia, ib := slices.Index(copyOrder, a), slices.Index(copyOrder, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	return names, rows.Err()
}

// columns lists a table's columns in a stable order.
func (db *DB) columns(ctx context.Context, table string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT * FROM "+table+" WHERE 1 = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	slices.Sort(cols)
	return cols, err
}

func (db *DB) copyTable(ctx context.Context, dst *DB, tx *sql.Tx, table string) (int64, error) {
	cols, err := db.columns(ctx, table)
	if err != nil {
		return 0, err
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	insert := dst.sql("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) + ")")
	if dst.pg && slices.Contains(cols, "id") {
		insert = strings.Replace(insert, ") VALUES (", ") OVERRIDING SYSTEM VALUE VALUES (", 1)
	}
	st, err := tx.PrepareContext(ctx, insert)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if _, err := st.ExecContext(ctx, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// tableHash hashes a table's rows, with values written the same way
// whichever database they come from, in an order of their own (the two
// databases may sort text differently).
func (db *DB) tableHash(ctx context.Context, table string) (string, error) {
	cols, err := db.columns(ctx, table)
	if err != nil {
		return "", err
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var sums []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		h := sha256.New()
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(h, "%s\x1f", v)
			case nil:
				h.Write([]byte("\x00\x1f"))
			default:
				fmt.Fprintf(h, "%v\x1f", v)
			}
		}
		sums = append(sums, hex.EncodeToString(h.Sum(nil)))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	slices.Sort(sums)
	all := sha256.Sum256([]byte(strings.Join(sums, "")))
	return hex.EncodeToString(all[:]), nil
}

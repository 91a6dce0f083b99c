package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// stmts caches prepared statements by query text. SQLite parses a
// statement's SQL on every unprepared call, which was most of the cost of
// a write; a prepared statement is parsed once per connection.
type stmts struct {
	db *sql.DB
	m  sync.Map // query -> *sql.Stmt
	// pending are queries seen inside a write transaction and not yet
	// prepared: preparing needs the writer's one connection, which the
	// transaction holds, so the committer prepares them between batches.
	pending sync.Map
}

// preparePending prepares the queries write transactions asked for; the
// committer calls it while no transaction holds the connection.
func (s *stmts) preparePending(ctx context.Context) {
	s.pending.Range(func(k, _ any) bool {
		s.pending.Delete(k)
		s.get(ctx, k.(string))
		return true
	})
}

func (s *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (s *stmts) close() {
	s.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
}

// wtx is a write transaction that runs cached statements.
//
// On SQLite it is a *sql.Tx. On PostgreSQL it is a connection of its own
// on which the transaction is begun and ended by statement, so that
// statements whose answer nobody reads (later) wait in a pipe and go to
// the server together, in one round trip, with whatever is sent next: a
// read, the next write's savepoint, the COMMIT.
type wtx struct {
	tx   *sql.Tx   // SQLite
	conn *sql.Conn // PostgreSQL
	pipe *pipe     // PostgreSQL
	ctx  context.Context
	db   *DB
	// locks are the advisory locks the transaction holds (PostgreSQL).
	locks *lockSet
}

// cached returns the prepared statement for query, or nil after queueing
// it to be prepared once the transaction is over. (PostgreSQL's driver
// keeps its own cache of prepared statements, per connection.)
func (w wtx) cached(query string) *sql.Stmt {
	if st, ok := w.db.writeStmts.m.Load(query); ok {
		return st.(*sql.Stmt)
	}
	w.db.writeStmts.pending.Store(query, true)
	return nil
}

func (w wtx) exec(query string, args ...any) (sql.Result, error) {
	query, args = w.db.sql(query), w.db.args(args)
	if w.conn != nil {
		if err := w.flush(); err != nil {
			return nil, err
		}
		return w.conn.ExecContext(w.ctx, query, args...)
	}
	if st := w.cached(query); st != nil {
		return w.tx.StmtContext(w.ctx, st).ExecContext(w.ctx, args...)
	}
	return w.tx.ExecContext(w.ctx, query, args...)
}

// later runs a statement whose answer the write does not read (an
// insert of facts, an update whose count does not matter). On PostgreSQL
// it waits in the pipe for the next round trip, and its error, if any,
// comes from that round trip's statement: still within the same write,
// which a failure undoes whole.
func (w wtx) later(query string, args ...any) error {
	if w.pipe == nil {
		_, err := w.exec(query, args...)
		return err
	}
	w.pipe.queue(w.db.sql(query), w.db.args(args))
	return nil
}

func (w wtx) queryRow(query string, args ...any) txRow {
	query, args = w.db.sql(query), w.db.args(args)
	if w.conn != nil {
		// Run when scanned, with what waits in the pipe: one round trip.
		return txRow{w: w, query: query, args: args}
	}
	if st := w.cached(query); st != nil {
		return txRow{Row: w.tx.StmtContext(w.ctx, st).QueryRowContext(w.ctx, args...)}
	}
	return txRow{Row: w.tx.QueryRowContext(w.ctx, query, args...)}
}

// txRow is a row of a read inside a write: on SQLite a *sql.Row, on
// PostgreSQL a statement sent, when scanned, at the end of the pipe.
type txRow struct {
	*sql.Row
	w     wtx
	query string
	args  []any
}

func (r txRow) Scan(dest ...any) error {
	if r.Row != nil {
		return r.Row.Scan(dest...)
	}
	return r.w.send(func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return sql.ErrNoRows
		}
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		if len(vals) != len(dest) {
			return fmt.Errorf("scan: %d columns into %d destinations", len(vals), len(dest))
		}
		for i, v := range vals {
			if err := assign(dest[i], v); err != nil {
				return fmt.Errorf("scan column %d (%s): %w", i, rows.FieldDescriptions()[i].Name, err)
			}
		}
		rows.Close()
		return rows.Err()
	}, r.query, r.args)
}

// query runs a query inside the write transaction.
func (w wtx) query(query string, args ...any) (*sql.Rows, error) {
	query, args = w.db.sql(query), w.db.args(args)
	if w.conn != nil {
		if err := w.flush(); err != nil {
			return nil, err
		}
		return w.conn.QueryContext(w.ctx, query, args...)
	}
	return w.tx.QueryContext(w.ctx, query, args...)
}

// insert runs an INSERT and returns the new row's id (RETURNING id, which
// both SQLite and PostgreSQL take; PostgreSQL has no last insert id).
func (w wtx) insert(query string, args ...any) (int64, error) {
	var id int64
	err := w.queryRow(query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// query runs a cached read statement on the read pool. Like every read,
// it fails as unavailable (503: try again) when the database is out of
// reach, not as an internal error.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = db.sql(query), db.args(args)
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return nil, unavailable(err)
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, unavailable(err)
}

// row is one row of a read: sql.Row whose Scan fails as unavailable when
// the database is out of reach.
type row struct{ *sql.Row }

func (r row) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }

// queryRow runs a cached read statement returning one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) row {
	query, args = db.sql(query), db.args(args)
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return row{db.read.QueryRowContext(ctx, query, args...)}
	}
	return row{st.QueryRowContext(ctx, args...)}
}

// queryOnce runs a read that is not worth caching (its text varies with
// its arguments, as IN lists do).
func (db *DB) queryOnce(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := db.read.QueryContext(ctx, db.sql(query), db.args(args)...)
	return rows, unavailable(err)
}

// queryRowOnce is queryOnce for one row.
func (db *DB) queryRowOnce(ctx context.Context, query string, args ...any) row {
	return row{db.read.QueryRowContext(ctx, db.sql(query), db.args(args)...)}
}

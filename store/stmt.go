package store

import (
	"context"
	"database/sql"
	"sync"
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
type wtx struct {
	tx  *sql.Tx
	ctx context.Context
	db  *DB
}

// cached returns the prepared statement for query, or nil after queueing
// it to be prepared once the transaction is over.
func (w wtx) cached(query string) *sql.Stmt {
	if st, ok := w.db.writeStmts.m.Load(query); ok {
		return st.(*sql.Stmt)
	}
	w.db.writeStmts.pending.Store(query, true)
	return nil
}

func (w wtx) exec(query string, args ...any) (sql.Result, error) {
	if st := w.cached(query); st != nil {
		return w.tx.StmtContext(w.ctx, st).ExecContext(w.ctx, args...)
	}
	return w.tx.ExecContext(w.ctx, query, args...)
}

func (w wtx) queryRow(query string, args ...any) *sql.Row {
	if st := w.cached(query); st != nil {
		return w.tx.StmtContext(w.ctx, st).QueryRowContext(w.ctx, args...)
	}
	return w.tx.QueryRowContext(w.ctx, query, args...)
}

// query runs a cached read statement on the read pool.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a cached read statement returning one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotahq/rota"
)

// IsPostgres reports whether a database setting names PostgreSQL.
func IsPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns a database setting without its password, for logs.
func Redact(s string) string {
	if !IsPostgres(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// OpenPostgres opens the PostgreSQL database at a postgres:// URL and
// applies the migrations it lacks. Several daemons may share it: each
// write is a serializable transaction, retried on conflict.
func OpenPostgres(ctx context.Context, dsn string, opts Options) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	conns := opts.Readers
	if conns <= 0 {
		conns = 8
	}
	p.SetMaxOpenConns(conns + 2)
	p.SetMaxIdleConns(conns + 2)
	p.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{write: p, read: p, path: Redact(dsn), pg: true, Now: time.Now, dsn: dsn, id: handleID()}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("open store %s: %w", db.path, err)
	}
	// Two daemons starting together must not both migrate: the first
	// takes this lock and the second waits, then finds nothing to do.
	conn, err := p.Conn(ctx)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("open store %s: %w", db.path, err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7406)"); err != nil {
		conn.Close()
		p.Close()
		return nil, fmt.Errorf("open store %s: lock for migrations: %w", db.path, err)
	}
	merr := db.migrate(ctx)
	conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7406)")
	conn.Close()
	if merr != nil {
		p.Close()
		return nil, fmt.Errorf("open store %s: %w", db.path, merr)
	}
	db.writeStmts.db, db.readStmts.db = p, p
	db.ops = make(chan op, 1024)
	db.committed = make(chan struct{})
	// Several committers, each with small groups: PostgreSQL takes
	// concurrent writers, and a small serializable transaction conflicts
	// with another daemon's less often (and costs less to run again)
	// than a large one, whose predicate locks grow coarse.
	var wg sync.WaitGroup
	for range pgCommitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db.commitBatches(pgMaxBatch)
		}()
	}
	go func() {
		wg.Wait()
		close(db.committed)
	}()
	return db, nil
}

// pgCommitters and pgMaxBatch shape writes on PostgreSQL.
const (
	pgCommitters = 4
	pgMaxBatch   = 64
)

// conflict reports whether err is PostgreSQL telling a transaction it lost
// a race with another (serialization failure, deadlock): run it again.
func conflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func (db *DB) countConflict(err error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "40P01" {
		db.deadlocks.Add(1)
		if db.OnDeadlock != nil {
			db.OnDeadlock(err)
		}
		return
	}
	db.conflicts.Add(1)
}

// pgUnavailable turns PostgreSQL's "cannot take writes now" into an
// EUNAVAILABLE error (HTTP 503, retry later): the server is unreachable,
// shutting down, read-only (a standby after a failover) or out of disk.
func pgUnavailable(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		why := ""
		switch {
		case pe.Code == "25006":
			why = "the database is read-only (a standby?)"
		case pe.Code == "53100":
			why = "the database's disk is full"
		case strings.HasPrefix(pe.Code, "57P"), strings.HasPrefix(pe.Code, "08"):
			why = "the database is restarting or unreachable"
		default:
			return err
		}
		return rota.Errorf(rota.EUNAVAILABLE, "rota cannot record this now (%s): try again later", why)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "connect") {
		return rota.Errorf(rota.EUNAVAILABLE, "rota cannot record this now (the database does not answer): try again later")
	}
	return err
}

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/rotahq/rota"
)

// SQLite result codes (primary) that mean the database cannot take
// writes now: the disk is full, the file is read-only or gone, I/O fails.
const (
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteCorrupt  = 11
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteNotADB   = 26
)

// unavailable turns an error meaning the database cannot take writes
// into an EUNAVAILABLE error (HTTP 503, retry later) that says why; other
// errors pass unchanged.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	if rota.ErrorCode(err) == rota.EUNAVAILABLE {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, pgconn.ErrConnClosed) {
		// The transaction's deadline passed (a database that hangs), or
		// its connection was lost mid-way: nothing of it was kept.
		return rota.Errorf(rota.EUNAVAILABLE, "rota cannot record this now (the database does not answer): try again later")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) || !isSQLiteError(err) && isNetError(err) {
		return pgUnavailable(err)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	why := ""
	switch se.Code() & 0xff {
	case sqliteFull:
		why = "the disk is full"
	case sqliteReadOnly:
		why = "the database is read-only"
	case sqliteIOErr, sqliteCantOpen:
		why = "the database file cannot be read or written"
	case sqliteCorrupt, sqliteNotADB:
		why = "the database file is damaged"
	default:
		return err
	}
	return rota.Errorf(rota.EUNAVAILABLE, "rota cannot record this now (%s): try again later", why)
}

// fileLost reports, once the database file was deleted or replaced under
// the daemon, why: writes would go to a file nobody will open again.
func (db *DB) fileLost() error {
	fi, err := os.Stat(db.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("the database file %s was deleted under the running daemon", db.path)
	case err != nil:
		return fmt.Errorf("the database file %s: %w", db.path, err)
	case !os.SameFile(fi, db.file):
		return fmt.Errorf("the database file %s was replaced under the running daemon", db.path)
	}
	return nil
}

// checkFile stops writes for good, loudly, when the database file was
// deleted or replaced: a restart on the right file is the way back.
func (db *DB) checkFile() error {
	if db.pg {
		return nil
	}
	if err := db.lost.Load(); err != nil {
		return *err
	}
	if err := db.fileLost(); err != nil {
		var wrapped error = rota.Errorf(rota.EUNAVAILABLE, "rota cannot record this: %v; restart rotad", err)
		db.lost.Store(&wrapped)
		if db.OnLost != nil {
			db.OnLost(err)
		}
		return wrapped
	}
	return nil
}

// Ping checks that the database takes a write: the file is still the one
// opened, and a small durable write commits (a full disk or a read-only
// file fails it). What fails is an EUNAVAILABLE error saying why.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		_, err := tx.exec("INSERT INTO health (id, at_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms", now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

func isSQLiteError(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se)
}

// isNetError reports whether err is a connection's failure (PostgreSQL
// unreachable), not a query's.
func isNetError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne)
}

// Package store keeps what happens at run time: overrides, alerts,
// incidents, notifications, pages, sessions and the rest. It implements
// the small interfaces the api and paging packages declare.
//
// It runs on SQLite (modernc.org/sqlite, no cgo; the embedded default)
// or on PostgreSQL (pgx), with one set of queries in the SQL both share
// (dialect.go). On SQLite one writer connection runs every write in an
// immediate transaction, so writers queue in Go rather than fail with
// SQLITE_BUSY, and a pool of query-only connections serves reads through
// WAL. On PostgreSQL writes are serializable transactions, retried when
// another daemon's write conflicts, so that several daemons on one
// database decide as one would. Times are stored as integer Unix
// milliseconds in UTC.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/rotahq/rota"
)

//go:embed migrations/*.sql migrations_pg/*.sql
var migrationFiles embed.FS

// Synchronous settings. FULL makes every commit durable against power loss
// in WAL mode; NORMAL only against a crash of the process.
const (
	SyncFull   = "full"
	SyncNormal = "normal"
	// syncOff is for scratch databases only (OpenScratch): a crash of
	// the machine may corrupt them.
	syncOff = "off"
)

// Options tune Open.
type Options struct {
	// Synchronous is SyncFull (the default) or SyncNormal.
	Synchronous string
	// Readers is the size of the read pool; 4 by default.
	Readers int
	// scratch allows synchronous off (OpenScratch).
	scratch bool
}

// DB is the runtime database.
type DB struct {
	write *sql.DB
	read  *sql.DB
	path  string
	// pg is set on PostgreSQL; rebinder rewrites queries for it.
	pg       bool
	rebinder rebinder
	// local holds the outbox's claims on SQLite (claims_local.go).
	local localClaims

	ops       chan op
	committed chan struct{} // closed when the committer has stopped
	closeOnce sync.Once

	writeStmts, readStmts stmts
	// feedVersions caches calendar event versions by UID.
	feedVersions sync.Map

	// Now is the clock the store reads once per write; tests replace it.
	Now func() time.Time
	// OnLost, if set, is told once when the database file is found
	// deleted or replaced under the daemon (writes stop then).
	OnLost func(error)
	// OnDeadlock, if set, is told of each deadlock PostgreSQL found in a
	// write group (which is then run again): locks are taken in one order,
	// so one is a bug.
	OnDeadlock func(error)

	// file is the database file as opened; lost, once set, is why writes
	// stopped.
	file    os.FileInfo
	lost    atomic.Pointer[error]
	created bool

	// deadlocks and conflicts count the groups PostgreSQL aborted (a
	// deadlock it detected; a serialization failure), each run again.
	deadlocks, conflicts atomic.Int64
	// dsn is PostgreSQL's URL (for Listen's connection), id this
	// handle's name in its notifications.
	dsn, id string
	// ckWake, ckStop and ckDone drive the checkpointer (SQLite).
	ckWake, ckStop, ckDone chan struct{}
	ckCommits              atomic.Int64
	// reruns counts the writes run again in a later transaction because
	// they needed a lock out of order that another held (errLockOrder).
	reruns atomic.Int64
	// groups and grouped count the write groups run and the writes in
	// them: how well writes share a transaction (its commit).
	groups, grouped atomic.Int64
}

// Conflicts reports how many write groups PostgreSQL aborted since Open
// because of a deadlock it detected, and for another conflict: each was
// run again. Locks are taken in one order (see lock), so a deadlock is a
// bug to report.
func (db *DB) Conflicts() (deadlocks, other int64) {
	return db.deadlocks.Load(), db.conflicts.Load()
}

// Reruns reports how many writes were run again in a later transaction
// since Open because they needed a lock out of order that another
// transaction held (see lock).
func (db *DB) Reruns() int64 { return db.reruns.Load() }

// Groups counts the write groups committed (each one transaction, when
// nothing is run again) and the writes in them.
func (db *DB) Groups() (groups, writes int64) { return db.groups.Load(), db.grouped.Load() }

// Created reports whether Open made a new, empty database.
func (db *DB) Created() bool { return db.created }

// Open opens or creates the database at path, creating its directory, and
// applies any migrations it lacks, each in its own transaction.
//
// A path that is a postgres:// or postgresql:// URL opens that
// PostgreSQL database instead (see OpenPostgres).
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open store: no database path")
	}
	if IsPostgres(path) {
		return OpenPostgres(ctx, path, opts)
	}
	sync := opts.Synchronous
	switch sync {
	case "":
		sync = SyncFull
	case SyncFull, SyncNormal:
	case syncOff:
		if !opts.scratch {
			return nil, fmt.Errorf("open store: synchronous must be %q or %q, not %q", SyncFull, SyncNormal, sync)
		}
	default:
		return nil, fmt.Errorf("open store: synchronous must be %q or %q, not %q", SyncFull, SyncNormal, sync)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// A database file gone while its write-ahead log remains was deleted,
	// not never made: starting an empty one would quietly forget every
	// alert and page.
	created := false
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, werr := os.Stat(path + "-wal"); werr == nil {
			return nil, fmt.Errorf("open store: %s is missing but its write-ahead log %s-wal is there: the database was deleted; restore a backup (rotad restore), or remove %s-wal and %s-shm to start with an empty one",
				path, path, path, path)
		}
		created = true
	}
	pragmas := []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(" + strings.ToUpper(sync) + ")",
		fmt.Sprintf("wal_autocheckpoint(%d)", walFallback)}
	w, err := sql.Open("sqlite", dsn(path, pragmas, "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	db := &DB{write: w, path: path, Now: time.Now, created: created}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if db.file, err = os.Stat(path); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = 4
	}
	r, err := sql.Open("sqlite", dsn(path, []string{"busy_timeout(10000)", "query_only(1)"}, ""))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	db.read = r
	ck, err := sql.Open("sqlite", dsn(path, []string{"busy_timeout(10000)", "synchronous(" + strings.ToUpper(sync) + ")"}, ""))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	ck.SetMaxOpenConns(1)
	db.ckWake, db.ckStop, db.ckDone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go db.checkpointer(ck, db.ckWake, db.ckStop, db.ckDone)
	db.writeStmts.db, db.readStmts.db = w, r
	db.ops = make(chan op, 1024)
	db.committed = make(chan struct{})
	go db.commitLoop()
	return db, nil
}

func dsn(path string, pragmas []string, extra string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	s := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	if extra != "" {
		s += "&" + extra
	}
	return s
}

// Close waits for queued writes, then closes both pools. No write may
// start after Close. A database that does not answer does not hold it
// past closeWait: what was queued then is not written (it was not
// acknowledged either), and the connections are dropped.
func (db *DB) Close() error {
	done := make(chan error, 1)
	go func() {
		db.closeOnce.Do(func() {
			close(db.ops)
			<-db.committed
			if db.ckStop != nil {
				close(db.ckStop)
				<-db.ckDone
			}
			db.writeStmts.close()
			db.readStmts.close()
		})
		done <- errors.Join(db.read.Close(), db.write.Close())
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(closeWait):
		return fmt.Errorf("close store: the database did not answer within %s", closeWait)
	}
}

// closeWait bounds Close: the writes queued take up to a transaction's
// deadline (one round of groups is under way, the rest are skipped or
// quick).
const closeWait = 2 * txTimeout

// Path returns the database file's path (the URL, without its password,
// on PostgreSQL).
func (db *DB) Path() string { return db.path }

// Postgres reports whether the database is PostgreSQL.
func (db *DB) Postgres() bool { return db.pg }

// Backup writes a consistent copy of the database to dest, which must not
// exist, while the daemon keeps running (VACUUM INTO).
func (db *DB) Backup(ctx context.Context, dest string) error {
	if db.pg {
		return errors.New("backup: on PostgreSQL, back up with pg_dump (rotad backup runs it when it is installed)")
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists", dest)
	}
	if _, err := db.write.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return nil
}

// SchemaVersion returns the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations(dir string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dir := "migrations"
	if db.pg {
		// PostgreSQL starts from the schema SQLite's migrations had built
		// when it came; later migrations come in both dialects.
		dir = "migrations_pg"
	}
	ms, err := migrations(dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := db.write.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if latest := ms[len(ms)-1].version; current > latest {
		return fmt.Errorf("the database is at schema version %d, newer than this rotad knows (%d): run the newer rotad or restore a backup", current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		err := db.directTx(ctx, func(tx *sql.Tx, now time.Time) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, db.sql("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)"), m.version, m.name, now.UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// directTx runs fn in its own immediate transaction, outside the
// committer: for migrations, before the committer starts.
func (db *DB) directTx(ctx context.Context, fn func(*sql.Tx, time.Time) error) error {
	tx, err := db.write.BeginTx(ctx, db.txOptions())
	if err != nil {
		return err
	}
	if err := fn(tx, db.Now().UTC()); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// op is one write waiting for the committer. Its state says whether the
// committer took it (then its transaction's deadline bounds it) or its
// caller stopped waiting first (then it is never run).
type op struct {
	fn    func(wtx, time.Time) error
	done  chan error
	state *atomic.Int32
	// deadline is its caller's, if any: the group's transaction ends by
	// the earliest of its writes' deadlines.
	deadline time.Time
}

// An op's states.
const (
	opQueued int32 = iota
	opTaken
	opAbandoned
)

// writeWait bounds how long a write waits for a committer to take it, and
// txTimeout how long a group's transaction may take (less if a write's
// caller has a nearer deadline): a database that hangs makes writes fail
// within their sum (unavailable: try again), and a write that failed so
// was not made.
const (
	writeWait = 4 * time.Second
	txTimeout = 5 * time.Second
)

// maxBatch bounds how many writes share one commit.
const maxBatch = 256

// tx runs fn as one atomic write. Writes that arrive while another commit
// is under way are grouped into the next transaction, each inside its own
// savepoint, so that a durable commit (synchronous=FULL) is paid once per
// group rather than once per write: fn's changes are all kept or all
// undone, whatever the others in its group do. fn reads the clock through
// its now argument, read once per write.
func (db *DB) tx(ctx context.Context, fn func(wtx, time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.checkFile(); err != nil {
		return err
	}
	o := op{fn: fn, done: make(chan error, 1), state: new(atomic.Int32)}
	o.deadline, _ = ctx.Deadline()
	// A write in a line (rota.InTurn) is queued after the one before.
	turn, done := rota.Turn(ctx)
	if turn != nil {
		select {
		case <-turn:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	sent := db.send(o)
	if done != nil {
		if db.pg {
			// Several committers run queued writes side by side: the
			// next in line waits for this one to be made, so that the
			// line is applied in order.
			defer done()
		} else {
			// The one committer takes writes in the order queued.
			done()
		}
	}
	if !sent {
		return rota.Errorf(rota.EUNAVAILABLE, "the database is closed")
	}
	wait := time.NewTimer(writeWait)
	defer wait.Stop()
	select {
	case err := <-o.done:
		return unavailable(err)
	case <-ctx.Done():
	case <-wait.C:
	}
	if o.state.CompareAndSwap(opQueued, opAbandoned) {
		return rota.Errorf(rota.EUNAVAILABLE, "rota's database did not take this in time: try again later")
	}
	// Taken: its transaction's deadline bounds the wait.
	return unavailable(<-o.done)
}

// send queues o for the committer; false once the store is closed (a
// write that comes after Close, a readiness check during shutdown).
func (db *DB) send(o op) (sent bool) {
	defer func() {
		if recover() != nil {
			sent = false
		}
	}()
	db.ops <- o
	return true
}

func (db *DB) commitLoop() {
	defer close(db.committed)
	db.commitBatches(maxBatch)
}

// commitBatches commits what comes in on db.ops, up to limit writes a
// transaction, until ops closes.
func (db *DB) commitBatches(limit int) {
	batch := make([]op, 0, limit)
	errs := make([]error, 0, limit)
	for first := range db.ops {
		batch = batch[:0]
		if first.state.CompareAndSwap(opQueued, opTaken) {
			batch = append(batch, first)
		}
	drain:
		for len(batch) < limit {
			select {
			case o, ok := <-db.ops:
				if !ok {
					break drain
				}
				// A write whose caller stopped waiting is never run.
				if o.state.CompareAndSwap(opQueued, opTaken) {
					batch = append(batch, o)
				}
			default:
				break drain
			}
		}
		if len(batch) == 0 {
			continue
		}
		errs = db.commit(batch, errs[:0])
		db.groups.Add(1)
		db.grouped.Add(int64(len(batch)))
		for i, o := range batch {
			o.done <- errs[i]
		}
		// Bounded: a database that hangs must not hold the committer.
		ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
		db.writeStmts.preparePending(ctx)
		cancel()
	}
}

// commit runs a group of writes in one transaction and returns each one's
// error. On PostgreSQL a group that conflicts with another daemon's write
// (a serialization failure) is run again, whole, a few times; writes that
// needed a lock out of order (errLockOrder) are run again in the next
// transaction, where the first of them may wait for any lock, so each
// round makes progress.
func (db *DB) commit(batch []op, errs []error) []error {
	errs = db.commitRetrying(batch, errs)
	for {
		var again []op
		var at []int
		for i := range batch {
			if errors.Is(errs[i], errLockOrder) {
				again = append(again, batch[i])
				at = append(at, i)
			}
		}
		if len(again) == 0 {
			return errs
		}
		db.reruns.Add(int64(len(again)))
		for j, err := range db.commitRetrying(again, nil) {
			errs[at[j]] = err
		}
	}
}

func (db *DB) commitRetrying(batch []op, errs []error) []error {
	for attempt := 1; ; attempt++ {
		errs, retry := db.commitOnce(batch, errs[:0], false)
		if !retry {
			return errs
		}
		if attempt == maxConflictRetries {
			// Still conflicting: each write fails whole, as unavailable
			// (the sender retries; nothing was half-written).
			errs = errs[:0]
			for range batch {
				errs = append(errs, rota.Errorf(rota.EUNAVAILABLE, "rota's database is too busy with other daemons' writes: try again"))
			}
			return errs
		}
		// Backs off, with jitter, so that the writers that conflicted
		// do not meet again at once.
		time.Sleep(time.Duration(1+rand.IntN(1<<min(attempt, 6))) * time.Millisecond)
	}
}

// maxConflictRetries bounds how often a group is run again after a
// conflict.
const maxConflictRetries = 20

// commitOnce runs a group in one transaction. With guard, each write of a
// group runs in its own savepoint. Without, the group runs bare, and if a
// write fails it is rolled back whole and run again guarded: writes
// rarely fail, and every write can be run again (PostgreSQL reruns them
// after a conflict or a lock out of order), while savepoints cost two
// statements a write on SQLite and, on PostgreSQL, a round trip at the
// end of each write that queued statements (see later).
func (db *DB) commitOnce(batch []op, errs []error, guard bool) ([]error, bool) {
	// A write with less than a moment left does not cut the others short.
	deadline, soonest := time.Now().Add(txTimeout), time.Now().Add(250*time.Millisecond)
	for _, o := range batch {
		if o.deadline.After(soonest) && o.deadline.Before(deadline) {
			deadline = o.deadline
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	w, err := db.begin(ctx)
	if err != nil {
		for range batch {
			errs = append(errs, fmt.Errorf("begin: %w", err))
		}
		return errs, false
	}
	single := len(batch) == 1
	for _, o := range batch {
		now := db.Now().UTC()
		var err error
		if single || !guard {
			err = o.fn(w, now)
			if err != nil && !single {
				w.rollback()
				return db.commitOnce(batch, errs[:0], true)
			}
		} else {
			held := w.locks.copy()
			if err = w.savepoint(func() error { return o.fn(w, now) }); err != nil {
				*w.locks = held
			}
		}
		if db.pg && conflict(err) {
			w.rollback()
			db.countConflict(err)
			return errs, true
		}
		errs = append(errs, err)
	}
	if single && errs[0] != nil {
		w.rollback()
		if errors.Is(errs[0], errLockOrder) {
			db.reruns.Add(1)
			// Alone, it took its own locks out of order and met another
			// transaction holding one: after a moment, run it again.
			time.Sleep(time.Duration(1+rand.IntN(4)) * time.Millisecond)
		}
		return errs, false
	}
	if err := w.commit(); err != nil {
		if db.pg && conflict(err) {
			db.countConflict(err)
			return errs[:0], true
		}
		if !guard && !single {
			// A statement a write queued (later) failed at the commit:
			// whose it was is found by running the group again guarded,
			// each write's queued statements sent at its end.
			return db.commitOnce(batch, errs[:0], true)
		}
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
		}
	}
	return errs, false
}

// txOptions are a write transaction's: the default, read committed on
// PostgreSQL, where writes that decide from what they read take advisory
// locks first (lock): each statement then sees what the daemon before
// committed. (Serializable transactions were tried first: their
// predicate locks conflicted on shared index pages so often that three
// daemons ingested a tenth of what one did.)
func (db *DB) txOptions() *sql.TxOptions {
	return nil
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// OpenScratch opens an empty SQLite database in a new directory under dir
// (the system's temporary directory when empty), with now as its clock
// and no durability asked of the disk: a replay's. done closes it and
// removes the directory.
func OpenScratch(ctx context.Context, dir string, now func() time.Time) (db *DB, done func(), err error) {
	tmp, err := os.MkdirTemp(dir, "rota-scratch-")
	if err != nil {
		return nil, nil, fmt.Errorf("scratch database: %w", err)
	}
	db, err = Open(ctx, filepath.Join(tmp, "scratch.db"), Options{Synchronous: syncOff, scratch: true})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	db.Now = now
	return db, func() { db.Close(); os.RemoveAll(tmp) }, nil
}

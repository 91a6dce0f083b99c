package store

import (
	"context"
	"database/sql"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by a
// checkpoint. Left to SQLite, the commit that fills the log past its
// threshold runs the checkpoint itself, with its fsyncs, while every
// write waiting for the committer waits for it too: one write in a
// thousand pages took 100 ms in a storm (the intake's 99th percentile).
// Here the committer only writes, and a connection of its own checkpoints
// beside it (PASSIVE: it never blocks the writer, nor the writer it),
// woken every checkpointCommits commits: a checkpoint's fsync of the
// database file competes with the commits' own, so it is not run for
// every few (at 20 alerts/s that took the first page from 3.4 to 6.2 ms).
// The writer still checkpoints if the log grows past walFallback pages,
// should this ever fall behind.

const (
	// walFallback is the writer's own checkpoint threshold, in pages
	// (SQLite's default is 1,000): a bound, not the way.
	walFallback = 20000
	// checkpointEvery paces the checkpointer: at most one a period.
	checkpointEvery = 100 * time.Millisecond
	// checkpointCommits is how many commits wake the checkpointer.
	checkpointCommits = 64
)

// checkpointer runs PASSIVE checkpoints on ck when woken, until stop is
// closed, then closes ck.
func (db *DB) checkpointer(ck *sql.DB, wake <-chan struct{}, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	defer ck.Close()
	for {
		select {
		case <-stop:
			return
		case <-wake:
		}
		ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
		// A failure (the disk, a lock) is the next wake's to retry; the
		// writer's fallback bounds the log meanwhile.
		ck.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		cancel()
		select {
		case <-stop:
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// wakeCheckpointer wakes the checkpointer after a commit (SQLite).
func (db *DB) wakeCheckpointer() {
	if db.ckWake == nil || db.ckCommits.Add(1)%checkpointCommits != 0 {
		return
	}
	select {
	case db.ckWake <- struct{}{}:
	default:
	}
}

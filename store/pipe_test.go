package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestAFailedWriteIsUndoneAloneInItsGroup: writes that share a
// transaction each keep or lose all their changes, whatever the others
// do, including changes queued for the next round trip (later) whose
// error only comes back with it. On PostgreSQL this is the pipe's
// contract; on SQLite, the savepoints'.
func TestAFailedWriteIsUndoneAloneInItsGroup(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	put := func(w wtx, key string) error {
		return w.later("INSERT INTO done_once (key, at_ms) VALUES (?, 1)", key)
	}
	boom := errors.New("the write decided against itself")
	var saw int
	fns := []func(wtx, time.Time) error{
		func(w wtx, _ time.Time) error { return put(w, "a") },
		// The second insert of one key fails with the round trip that
		// carries both, at the write's end.
		func(w wtx, _ time.Time) error {
			if err := put(w, "b"); err != nil {
				return err
			}
			return put(w, "b")
		},
		func(w wtx, _ time.Time) error {
			if err := put(w, "c"); err != nil {
				return err
			}
			return boom
		},
		// A read sees the write's own queued changes.
		func(w wtx, _ time.Time) error {
			if err := put(w, "d"); err != nil {
				return err
			}
			return w.queryRow("SELECT COUNT(*) FROM done_once WHERE key IN ('a', 'd')").Scan(&saw)
		},
		// A failure after the queued changes went out (with the read).
		func(w wtx, _ time.Time) error {
			if err := put(w, "e"); err != nil {
				return err
			}
			var n int
			if err := w.queryRow("SELECT COUNT(*) FROM done_once WHERE key = 'e'").Scan(&n); err != nil {
				return err
			}
			return boom
		},
		func(w wtx, _ time.Time) error { return put(w, "f") },
		// Nothing at all reaches the database.
		func(_ wtx, _ time.Time) error { return boom },
		func(w wtx, _ time.Time) error { return put(w, "g") },
	}
	var batch []op
	for _, fn := range fns {
		batch = append(batch, op{fn: fn, done: make(chan error, 1), state: new(atomic.Int32)})
	}
	errs, retry := db.commitOnce(batch, nil, false)
	if retry {
		t.Fatal("a group with no other writer conflicted")
	}
	for i, want := range []bool{true, false, false, true, false, true, false, true} {
		if (errs[i] == nil) != want {
			t.Errorf("write %d: error %v, want success %v", i, errs[i], want)
		}
	}
	if saw != 2 {
		t.Errorf("a write read %d of a and d, want 2 (its own queued insert and an earlier write's)", saw)
	}
	if got := keys(t, db); !slices.Equal(got, []string{"a", "d", "f", "g"}) {
		t.Errorf("kept %v, want a, d, f and g", got)
	}

	// Alone in its transaction, a write whose queued insert fails at the
	// commit fails whole.
	err := db.tx(ctx, func(w wtx, _ time.Time) error {
		if err := put(w, "h"); err != nil {
			return err
		}
		return put(w, "a")
	})
	if err == nil {
		t.Fatal("a duplicate key was committed")
	}
	if got := keys(t, db); !slices.Equal(got, []string{"a", "d", "f", "g"}) {
		t.Errorf("after a failed write alone: %v, want a, d, f and g", got)
	}
	// And the connection it used serves the next write.
	if err := db.tx(ctx, func(w wtx, _ time.Time) error { return put(w, "i") }); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, db); !slices.Equal(got, []string{"a", "d", "f", "g", "i"}) {
		t.Errorf("after the next write: %v", got)
	}
}

func keys(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.query(context.Background(), "SELECT key FROM done_once ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

// TestAssignScansAsDatabaseSQLDoes: a row read through the pipe fills the
// store's destinations as database/sql's Scan fills them.
func TestAssignScansAsDatabaseSQLDoes(t *testing.T) {
	type status string
	type step int
	var (
		s   string
		st  status
		n   int
		sp  step
		i64 int64
		b   bool
		ni  sql.NullInt64
		ns  sql.NullString
		f   float64
		raw []byte
		a   any
	)
	for _, c := range []struct {
		dest, src, want any
	}{
		{&s, "x", "x"}, {&st, "triggered", status("triggered")}, {&n, int32(7), 7}, {&sp, int64(2), step(2)},
		{&i64, int64(1) << 40, int64(1) << 40}, {&b, int64(1), true}, {&b, false, false}, {&b, int32(0), false},
		{&ni, nil, sql.NullInt64{}}, {&ni, int64(5), sql.NullInt64{Int64: 5, Valid: true}},
		{&ns, "j", sql.NullString{String: "j", Valid: true}}, {&ns, nil, sql.NullString{}},
		{&f, int64(3), 3.0}, {&raw, "ab", []byte("ab")}, {&a, nil, nil}, {&s, []byte("y"), "y"},
	} {
		if err := assign(c.dest, c.src); err != nil {
			t.Errorf("%T <- %#v: %v", c.dest, c.src, err)
			continue
		}
		if got := reflect.ValueOf(c.dest).Elem().Interface(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%T <- %#v: %#v, want %#v", c.dest, c.src, got, c.want)
		}
	}
	for _, c := range []struct{ dest, src any }{
		{&s, nil}, {&n, nil}, {&b, int64(2)}, {new(int8), int64(300)}, {&n, 1.5},
	} {
		if err := assign(c.dest, c.src); err == nil {
			t.Errorf("%T <- %#v: no error", c.dest, c.src)
		}
	}
}

// TestAWriteFailingAtTheCommitFailsAlone: in a group run without
// savepoints, a queued statement that fails only with the COMMIT's round
// trip (the last write's) fails its write alone: the group runs again
// guarded, and the others are kept.
func TestAWriteFailingAtTheCommitFailsAlone(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	put := func(w wtx, key string) error {
		return w.later("INSERT INTO done_once (key, at_ms) VALUES (?, 1)", key)
	}
	fns := []func(wtx, time.Time) error{
		func(w wtx, _ time.Time) error { return put(w, "a") },
		func(w wtx, _ time.Time) error { return put(w, "b") },
		// Last: its duplicate goes with the COMMIT.
		func(w wtx, _ time.Time) error {
			if err := put(w, "c"); err != nil {
				return err
			}
			return put(w, "c")
		},
	}
	var batch []op
	for _, fn := range fns {
		batch = append(batch, op{fn: fn, done: make(chan error, 1), state: new(atomic.Int32)})
	}
	errs, _ := db.commitOnce(batch, nil, false)
	if errs[0] != nil || errs[1] != nil || errs[2] == nil {
		t.Errorf("errors %v, want only the third write's", errs)
	}
	if got := keys(t, db); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("kept %v, want a and b", got)
	}
}

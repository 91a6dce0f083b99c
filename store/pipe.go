package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// A write transaction's life: begin, each write of a group in its own
// savepoint, commit or roll back. On SQLite it is a *sql.Tx. On
// PostgreSQL it is a connection of the pool on which BEGIN, SAVEPOINT,
// RELEASE and COMMIT are statements in the pipe (see later): a group of
// writes costs a round trip per statement whose answer a write reads,
// and one per write that queued statements, instead of one per
// statement. (A write's statements were most of a storm's round trips:
// every one a system call and a wake-up on both sides.)

// pipe is what a PostgreSQL write transaction will send with its next
// round trip.
type pipe struct {
	items []pipeItem
	// sp is where the running write's SAVEPOINT waits in items, or -1
	// once it was sent.
	sp int
	// due is the earliest work the transaction made due, in Unix ms (0:
	// none), told to the other daemons at its commit (see Listen).
	due int64
}

type pipeItem struct {
	query string
	args  []any
}

func (p *pipe) queue(query string, args []any) {
	p.items = append(p.items, pipeItem{query, args})
}

// flush sends what waits in the pipe, then extra, in one round trip, and
// returns the first statement's error, if any (the server skips the rest
// of the round trip after it).
func (w wtx) flush(extra ...string) error {
	p := w.pipe
	if p == nil {
		return nil
	}
	for _, q := range extra {
		p.queue(q, nil)
	}
	if len(p.items) == 0 {
		return nil
	}
	return w.send(nil, "", nil)
}

// send sends what waits in the pipe and, if last is not nil, the query
// whose results it reads, in one round trip.
func (w wtx) send(last func(pgx.BatchResults) error, query string, args []any) error {
	p := w.pipe
	items := p.items
	p.items, p.sp = p.items[:0], -1
	return w.conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		var b pgx.Batch
		for _, it := range items {
			b.Queue(it.query, it.args...)
		}
		if last != nil {
			b.Queue(query, args...)
		}
		br := c.SendBatch(w.ctx, &b)
		for _, it := range items {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return err
			}
			if it.query == "COMMIT" && tag.String() == "ROLLBACK" {
				br.Close()
				return errors.New("commit: the transaction had failed and was rolled back")
			}
		}
		if last != nil {
			if err := last(br); err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
	})
}

// begin starts a write transaction.
func (db *DB) begin(ctx context.Context) (wtx, error) {
	w := wtx{ctx: ctx, db: db, locks: &lockSet{}}
	if !db.pg {
		tx, err := db.write.BeginTx(ctx, db.txOptions())
		w.tx = tx
		return w, err
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return w, err
	}
	w.conn, w.pipe = conn, &pipe{sp: -1}
	w.pipe.queue("BEGIN", nil)
	return w, nil
}

// commit commits the transaction; on failure it is rolled back.
func (w wtx) commit() error {
	if w.tx != nil {
		err := w.tx.Commit()
		if err == nil {
			w.db.wakeCheckpointer()
		}
		return err
	}
	if w.pipe.due != 0 {
		w.pipe.queue(w.db.sql("SELECT pg_notify('"+dueChannel+"', ?)"), []any{strconv.FormatInt(w.pipe.due, 10) + " " + w.db.id})
	}
	err := w.flush("COMMIT")
	if err != nil {
		w.rollback()
		return err
	}
	w.conn.Close()
	return nil
}

// rollback undoes the transaction and gives its connection back. A
// connection left inside a transaction (the server did not answer) is
// not reused: the driver drops it when the pool next hands it out.
func (w wtx) rollback() {
	if w.tx != nil {
		w.tx.Rollback()
		return
	}
	w.pipe.items = w.pipe.items[:0]
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), time.Second)
	defer cancel()
	w.conn.ExecContext(ctx, "ROLLBACK")
	w.conn.Close()
}

// savepoint runs fn so that its changes are undone if it fails, leaving
// the rest of the transaction as it was, and returns fn's error.
func (w wtx) savepoint(fn func() error) error {
	if w.pipe == nil {
		return sqliteSavepoint(w, fn)
	}
	p := w.pipe
	p.sp = len(p.items)
	p.queue("SAVEPOINT w", nil)
	err := fn()
	if err == nil {
		switch {
		case p.sp >= 0 && len(p.items) == p.sp+1:
			// Nothing reached the server, nothing waits: no savepoint.
			p.items = p.items[:p.sp]
			return nil
		case p.sp < 0 && len(p.items) == 0:
			// Nothing waits: the release goes with the next round trip.
			p.queue("RELEASE w", nil)
			return nil
		}
		// The write's queued statements go now, so that their error is
		// its own.
		if err = w.flush("RELEASE w"); err == nil {
			return nil
		}
	}
	if p.sp >= 0 {
		// Nothing of it reached the server.
		p.items = p.items[:p.sp]
		return err
	}
	// Sent alone, without arguments, so by the simple protocol: in a
	// failed transaction the server takes nothing but a rollback, not
	// even the preparing of a statement (which a pipe of prepared
	// statements begins with).
	p.items = p.items[:0]
	if _, rerr := w.conn.ExecContext(w.ctx, "ROLLBACK TO w"); rerr != nil {
		return errors.Join(err, fmt.Errorf("roll back to the savepoint: %w", rerr))
	}
	p.queue("RELEASE w", nil)
	return err
}

// sqliteSavepoint is savepoint on a *sql.Tx.
func sqliteSavepoint(w wtx, fn func() error) error {
	if _, err := w.exec("SAVEPOINT w"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := w.exec("ROLLBACK TO w"); rerr != nil {
			return errors.Join(err, rerr)
		}
		w.exec("RELEASE w")
		return err
	}
	_, err := w.exec("RELEASE w")
	return err
}

// assign stores a value read by pgx in dest as database/sql's Scan would
// (the store's scans are written for it): integers of any width, text,
// flags kept as 0/1 integers into bools, NULL into sql.Null* and *any.
func assign(dest, src any) error {
	switch v := src.(type) {
	case int16:
		src = int64(v)
	case int32:
		src = int64(v)
	case float32:
		src = float64(v)
	}
	switch d := dest.(type) {
	case sql.Scanner:
		return d.Scan(src)
	case *any:
		*d = src
		return nil
	case *[]byte:
		switch s := src.(type) {
		case nil:
			*d = nil
		case []byte:
			*d = bytes.Clone(s)
		case string:
			*d = []byte(s)
		default:
			return fmt.Errorf("cannot store %T in %T", src, dest)
		}
		return nil
	case *time.Time:
		if t, ok := src.(time.Time); ok {
			*d = t
			return nil
		}
	}
	if src == nil {
		return fmt.Errorf("converting NULL to %T is unsupported", dest)
	}
	rv := reflect.ValueOf(dest)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("destination not a pointer: %T", dest)
	}
	e := rv.Elem()
	switch e.Kind() {
	case reflect.String:
		switch s := src.(type) {
		case string:
			e.SetString(s)
			return nil
		case []byte:
			e.SetString(string(s))
			return nil
		case int64:
			e.SetString(strconv.FormatInt(s, 10))
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		switch s := src.(type) {
		case int64:
			n = s
		case bool:
			if s {
				n = 1
			}
		case string:
			var err error
			if n, err = strconv.ParseInt(s, 10, 64); err != nil {
				return fmt.Errorf("converting %q to %T: %w", s, dest, err)
			}
		default:
			return fmt.Errorf("cannot store %T in %T", src, dest)
		}
		if e.OverflowInt(n) {
			return fmt.Errorf("%d overflows %T", n, dest)
		}
		e.SetInt(n)
		return nil
	case reflect.Bool:
		switch s := src.(type) {
		case bool:
			e.SetBool(s)
			return nil
		case int64:
			if s == 0 || s == 1 {
				e.SetBool(s == 1)
				return nil
			}
		}
	case reflect.Float32, reflect.Float64:
		switch s := src.(type) {
		case float64:
			e.SetFloat(s)
			return nil
		case int64:
			e.SetFloat(float64(s))
			return nil
		}
	}
	return fmt.Errorf("cannot store %T (%v) in %T", src, src, dest)
}

package store

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The store's queries are written once, in the SQL that SQLite and
// PostgreSQL share, with ? placeholders. On PostgreSQL a query is
// rewritten once (and remembered): ? becomes $1, $2, ..., and SQLite's
// INDEXED BY hints, which PostgreSQL's planner does not need, go.

// rebinder rewrites queries for PostgreSQL.
type rebinder struct{ m sync.Map }

var indexedBy = regexp.MustCompile(`(?i)\s+INDEXED BY \w+`)

func (rb *rebinder) rebind(q string) string {
	if v, ok := rb.m.Load(q); ok {
		return v.(string)
	}
	out := postgresQuery(q)
	rb.m.Store(q, out)
	return out
}

// postgresQuery numbers q's placeholders (?NNN keeps its number),
// skipping quoted strings and identifiers, and drops INDEXED BY hints.
func postgresQuery(q string) string {
	q = indexedBy.ReplaceAllString(q, "")
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			// ?NNN names a parameter by number: $NNN.
			b.WriteByte('$')
			continue
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// sql is q as this database's dialect writes it.
func (db *DB) sql(q string) string {
	if !db.pg {
		return q
	}
	return db.rebinder.rebind(q)
}

// lock takes PostgreSQL advisory locks on keys (a service's incidents, a
// person's pages), held to the end of the transaction, so that daemons
// deciding from the same facts take turns; SQLite's one writer needs
// none. A key made with shared is taken in share mode: holders of it in
// share mode do not exclude each other, and exclude (and wait for) its
// exclusive holders.
//
// Locks are taken in one global order, the keys' order, so that no two
// transactions ever wait on each other in a circle, whether they are two
// committers of one daemon or of two: a transaction waits only for a key
// above every key it holds. A transaction groups many writes, each with
// its own keys, so a write may need a key below one that an earlier write
// of its group took (or a key it holds in share mode, exclusively): that
// key is only tried, and if another transaction holds it the write is
// undone (errLockOrder) and run again in a later transaction, where it
// comes first.
func (w wtx) lock(keys ...string) error {
	if !w.db.pg {
		return nil
	}
	slices.SortFunc(keys, func(a, b string) int {
		return strings.Compare(strings.TrimSuffix(a, sharedMark), strings.TrimSuffix(b, sharedMark))
	})
	for _, k := range keys {
		key, share := strings.CutSuffix(k, sharedMark)
		held, has := w.locks.held[key]
		if has && (held == lockExclusive || share) {
			continue
		}
		fn := "pg_advisory_xact_lock"
		if share {
			fn += "_shared"
		}
		if key > w.locks.max {
			// It waits, if it must, in the pipe: before any statement
			// that follows it.
			if err := w.later("SELECT "+fn+"(hashtextextended(?, 0))", key); err != nil {
				return fmt.Errorf("lock %s: %w", key, err)
			}
		} else {
			var ok bool
			if err := w.queryRow("SELECT "+strings.Replace(fn, "advisory", "try_advisory", 1)+"(hashtextextended(?, 0))", key).Scan(&ok); err != nil {
				return fmt.Errorf("lock %s: %w", key, err)
			}
			if !ok {
				return errLockOrder
			}
		}
		mode := lockExclusive
		if share {
			mode = lockShared
		}
		w.locks.add(key, mode)
	}
	return nil
}

// shared is key to be locked in share mode (see lock).
func shared(key string) string { return key + sharedMark }

const sharedMark = "\x00shared"

// tryLocks takes, of the locks on keys, those no other transaction holds,
// without waiting (so in any order), in one statement: ok says which are
// held now.
func (w wtx) tryLocks(keys []string) (ok map[string]bool, err error) {
	ok = map[string]bool{}
	var ask []any
	for _, k := range keys {
		if !w.db.pg || w.locks.held[k] == lockExclusive {
			ok[k] = true
		} else if _, asked := ok[k]; !asked {
			ok[k] = false
			ask = append(ask, k)
		}
	}
	if len(ask) == 0 {
		return ok, nil
	}
	rows, err := w.query("SELECT k, pg_try_advisory_xact_lock(hashtextextended(k, 0)) FROM (VALUES "+
		strings.TrimSuffix(strings.Repeat("(CAST(? AS TEXT)), ", len(ask)), ", ")+") AS v(k)", ask...)
	if err != nil {
		return nil, fmt.Errorf("try locks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var held bool
		if err := rows.Scan(&k, &held); err != nil {
			return nil, err
		}
		if ok[k] = held; held {
			w.locks.add(k, lockExclusive)
		}
	}
	return ok, rows.Err()
}

// errLockOrder is a write that needed a lock out of order while another
// transaction held it: it is run again in a later transaction.
var errLockOrder = errors.New("a lock out of order is taken: run again")

// lockSet is the advisory locks a transaction holds (see lock).
type lockSet struct {
	held map[string]lockMode
	max  string
}

type lockMode uint8

const (
	lockNone lockMode = iota
	lockShared
	lockExclusive
)

func (l *lockSet) add(k string, m lockMode) {
	if l.held == nil {
		l.held = map[string]lockMode{}
	}
	l.held[k] = max(l.held[k], m)
	if k > l.max {
		l.max = k
	}
}

// copy is the set as it is, to go back to when a savepoint is rolled back
// (PostgreSQL releases the locks taken since).
func (l *lockSet) copy() lockSet {
	return lockSet{held: maps.Clone(l.held), max: l.max}
}

// lockIncident locks the service of incident id (see lock).
func (w wtx) lockIncident(id int64) error {
	if !w.db.pg {
		return nil
	}
	var svc string
	if err := w.queryRow("SELECT service FROM incidents WHERE id = ?", id).Scan(&svc); err != nil {
		return nil // not found: the caller says so
	}
	return w.lock("service:" + svc)
}

// args are a query's arguments as this database takes them: flags are
// 0/1 integers in both schemas, and PostgreSQL will not take a Go bool
// for one.
func (db *DB) args(args []any) []any {
	if !db.pg {
		return args
	}
	for i, a := range args {
		if b, ok := a.(bool); ok {
			if b {
				args[i] = int64(1)
			} else {
				args[i] = int64(0)
			}
		}
	}
	return args
}

package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Daemons sharing PostgreSQL tell each other when a write made work due
// (a notification to send, a step to run): a transaction that did sends
// NOTIFY on dueChannel, with the time and the handle's id, in the round
// trip of its COMMIT (so only if it commits). Each daemon LISTENs and
// wakes for work due earlier than it would otherwise look; the daemon
// that made the work does it at once, so the others give it a moment
// first (the engine's hint grace). The poll stays, as the fallback.

const dueChannel = "rota_due"

// due notes that the transaction makes work due at t (PostgreSQL): its
// commit tells the other daemons.
func (w wtx) due(t time.Time) {
	if w.pipe == nil || t.IsZero() {
		return
	}
	if ms := t.UnixMilli(); w.pipe.due == 0 || ms < w.pipe.due {
		w.pipe.due = ms
	}
}

// handleID names a handle in its notifications, so that it ignores its
// own.
func handleID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Listen calls fn with the time of work another daemon's write made due,
// until ctx ends, on a connection of its own (PostgreSQL; on SQLite it
// returns at once: one daemon makes all the work). A lost connection is
// opened again, a second apart; work made meanwhile is the poll's.
func (db *DB) Listen(ctx context.Context, fn func(due time.Time), onErr func(error)) {
	if !db.pg {
		return
	}
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, fn)
		if ctx.Err() != nil {
			return
		}
		if onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (db *DB) listenOnce(ctx context.Context, fn func(time.Time)) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, db.dsn)
	cancel()
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+dueChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		ms, from, _ := strings.Cut(n.Payload, " ")
		if from == db.id {
			continue
		}
		if v, err := strconv.ParseInt(ms, 10, 64); err == nil {
			fn(time.UnixMilli(v))
		}
	}
}

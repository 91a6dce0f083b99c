package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rotahq/rota"
)

// localClaims are the outbox's claims and rate-limit slots on SQLite,
// which one daemon serves: kept in memory, they cost no durable commit
// before a page goes out (the claim is what several daemons need, and
// PostgreSQL keeps it in the database), and a restarted daemon resends at
// once what was in flight, rather than after a lease.
type localClaims struct {
	mu     sync.Mutex
	primed bool
	claims map[int64]time.Time     // notification -> claimed until
	last   map[[2]string]time.Time // person, channel -> last send or slot
}

func (l *localClaims) init() {
	if l.claims == nil {
		l.claims = map[int64]time.Time{}
		l.last = map[[2]string]time.Time{}
	}
}

// claimLocal is ClaimDue on SQLite.
func (db *DB) claimLocal(ctx context.Context, now time.Time, limit int, until time.Time,
	decide func(due []rota.Notification, last map[[2]string]time.Time) rota.OutboxPlan) (rota.OutboxPlan, error) {
	l := &db.local
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if !l.primed {
		// The rate limit holds across a restart: the last sends, as
		// recorded.
		sent, err := db.LastSent(ctx, now.Add(-24*time.Hour))
		if err != nil {
			return rota.OutboxPlan{}, fmt.Errorf("claim due notifications: %w", err)
		}
		for k, t := range sent {
			if t.After(l.last[k]) {
				l.last[k] = t
			}
		}
		l.primed = true
	}
	for id, u := range l.claims {
		if !u.After(now) {
			delete(l.claims, id)
		}
	}
	all, err := db.notifications(ctx, "WHERE status = 'pending' AND next_attempt_ms <= ? ORDER BY attempts > 0, next_attempt_ms, id LIMIT ?",
		now.UnixMilli(), limit+len(l.claims))
	if err != nil {
		return rota.OutboxPlan{}, fmt.Errorf("claim due notifications: %w", err)
	}
	var due []rota.Notification
	for _, n := range all {
		if _, claimed := l.claims[n.ID]; !claimed && len(due) < limit {
			due = append(due, n)
		}
	}
	last := make(map[[2]string]time.Time, len(l.last))
	for k, v := range l.last {
		last[k] = v
	}
	plan := decide(due, last)
	for _, id := range plan.Claim {
		l.claims[id] = until
	}
	for k, at := range plan.Slots {
		l.last[k] = at
	}
	if len(plan.Deferred) > 0 {
		// What the rate limit holds, and the timeline's word of it, are
		// recorded: the one write, only when something is held. The
		// claims stay held meanwhile (the lock), as one decision.
		if err := db.tx(ctx, func(tx wtx, now time.Time) error {
			return recordRound(tx, plan.Deferred, nil, now) // deferrals: nothing sent
		}); err != nil {
			return rota.OutboxPlan{}, fmt.Errorf("claim due notifications: %w", err)
		}
	}
	return plan, nil
}

// release forgets the claims of recorded deliveries (SQLite).
func (l *localClaims) release(ds []rota.Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range ds {
		delete(l.claims, d.NotificationID)
	}
}

func (l *localClaims) renew(ids []int64, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if _, ok := l.claims[id]; ok {
			l.claims[id] = until
		}
	}
}

func (l *localClaims) giveBack(key [2]string, took, before time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last[key].Equal(took) {
		if before.IsZero() {
			delete(l.last, key)
		} else {
			l.last[key] = before
		}
	}
}

// nextLocal is, on SQLite, when the earliest pending notification not
// being sent falls due (or, if all due ones are being sent, when their
// claims lapse): NextDue's answer for the outbox.
func (db *DB) nextLocal(ctx context.Context) (time.Time, bool, error) {
	l := &db.local
	l.mu.Lock()
	n := len(l.claims)
	claims := make(map[int64]time.Time, n)
	for k, v := range l.claims {
		claims[k] = v
	}
	l.mu.Unlock()
	rows, err := db.query(ctx, "SELECT id, next_attempt_ms FROM notifications WHERE status = 'pending' ORDER BY next_attempt_ms, id LIMIT ?", n+1)
	if err != nil {
		return time.Time{}, false, err
	}
	defer rows.Close()
	var next time.Time
	found := false
	for rows.Next() {
		var id, ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			return time.Time{}, false, err
		}
		t := fromMillis(ms)
		if u, ok := claims[id]; ok && u.After(t) {
			t = u
		}
		if !found || t.Before(next) {
			next, found = t, true
		}
	}
	return next, found, rows.Err()
}

package rota

import "context"

type turnKey struct{}

// turn is a write's place in a line of writes (InTurn).
type turn struct {
	wait <-chan struct{}
	done func()
}

// InTurn returns ctx for a write that must be applied after the writes
// before it in a line: the store waits for wait (closed by the write
// before) before it queues the write, and calls done when the next may
// go. On SQLite that is once the write is queued: its one committer takes
// writes in the order queued, so a line of many writes is grouped into
// few commits and applied in order, while the reads that precede each
// write run side by side (an Alertmanager payload of many alerts). On
// PostgreSQL, whose committers run side by side, it is once the write is
// made.
func InTurn(ctx context.Context, wait <-chan struct{}, done func()) context.Context {
	return context.WithValue(ctx, turnKey{}, turn{wait, done})
}

// Turn returns what InTurn put in ctx: wait, then done; both nil when the
// write is in no line.
func Turn(ctx context.Context) (wait <-chan struct{}, done func()) {
	t, _ := ctx.Value(turnKey{}).(turn)
	return t.wait, t.done
}

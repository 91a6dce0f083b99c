package store

import (
	"context"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/store/pgtest"
)

// TestDaemonsHearOfEachOthersWork: a write that makes work due tells the
// other daemons on the database when, at its commit; a daemon does not
// hear its own; after the database restarts, the listener connects again
// and hears what comes next.
func TestDaemonsHearOfEachOthersWork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	c, err := pgtest.Start()
	if err != nil {
		t.Skipf("PostgreSQL: %v", err)
	}
	defer c.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var handles []*DB
	for range 2 {
		db, err := Open(ctx, c.URL("rota"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		handles = append(handles, db)
	}
	a, b := handles[0], handles[1]
	heard := map[*DB]chan time.Time{a: make(chan time.Time, 16), b: make(chan time.Time, 16)}
	lost := make(chan error, 16)
	for db, ch := range heard {
		go db.Listen(ctx, func(due time.Time) { ch <- due }, func(err error) { lost <- err })
	}
	trigger := func(db *DB, key string, due time.Time) {
		t.Helper()
		ev := rota.Event{Service: "api", DedupKey: key, Summary: "x", Severity: "critical", Integration: "native", Action: rota.ActionTrigger}
		_, _, err := db.TriggerAlert(ctx, &ev, rota.EscalationPolicy{}, func(inc *rota.Incident, now time.Time) rota.StepOutcome {
			return rota.StepOutcome{Notifications: []rota.Notification{{Person: "alice", Channel: rota.ContactSMS, Address: "+1", Wave: 1, NextAttempt: due}}}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	expect := func(who *DB, name string, due time.Time) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case got := <-heard[who]:
				if got.Equal(due.Truncate(time.Millisecond)) {
					return
				}
			case <-deadline:
				t.Fatalf("%s did not hear of work due at %s", name, due)
			}
		}
	}
	// The listeners connect in their own time: a write is heard once
	// they have (the first heard).
	due := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		trigger(a, "warmup"+string(rune('a'+i)), due)
		select {
		case got := <-heard[b]:
			if !got.Equal(due) {
				t.Fatalf("b heard %s, want %s", got, due)
			}
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("b never heard of a's work")
			}
			continue
		}
		break
	}
	due2 := due.Add(time.Minute)
	trigger(b, "from-b", due2)
	expect(a, "a", due2)
	// b's own write: a heard it; b did not (its channel has nothing
	// due at due2).
	select {
	case got := <-heard[b]:
		if got.Equal(due2) {
			t.Error("b heard its own write")
		}
	case <-time.After(200 * time.Millisecond):
	}

	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not notice the restart")
	}
	due3 := due.Add(2 * time.Minute)
	deadline = time.Now().Add(20 * time.Second)
	for {
		// Writes right after the restart may fail (the pool's old
		// connections) or come before the listener is back: try again.
		ev := rota.Event{Service: "api", DedupKey: "after-" + time.Now().String(), Summary: "x", Severity: "critical", Integration: "native", Action: rota.ActionTrigger}
		a.TriggerAlert(ctx, &ev, rota.EscalationPolicy{}, func(inc *rota.Incident, now time.Time) rota.StepOutcome {
			return rota.StepOutcome{Notifications: []rota.Notification{{Person: "alice", Channel: rota.ContactSMS, Address: "+1", Wave: 1, NextAttempt: due3}}}
		})
		select {
		case got := <-heard[b]:
			if got.Equal(due3) {
				return
			}
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("b heard nothing after the restart")
		}
	}
}

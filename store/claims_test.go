package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/store/pgtest"
)

// TestClaimsAreExclusive: two daemons (two handles on one database) claim
// due notifications at once: each is claimed by exactly one, and one
// person's rate-limit slot by one; a claim whose lease ran out passes to
// the other.
func TestClaimsAreExclusive(t *testing.T) {
	if !pgtest.Enabled() {
		t.Skip("several daemons share PostgreSQL; one serves an SQLite file, and its claims are in memory")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rota.db")
	a := open(t, path)
	b := open(t, path)
	t0 := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	for _, db := range []*DB{a, b} {
		db.Now = func() time.Time { return t0 }
	}
	ev := rota.Event{Service: "api", DedupKey: "k", Summary: "x", Severity: "critical", Integration: "native", Action: rota.ActionTrigger}
	inc, _, err := a.TriggerAlert(ctx, &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
	if err != nil {
		t.Fatal(err)
	}
	const people = 40
	err = a.tx(ctx, func(tx wtx, now time.Time) error {
		for i := range people * 3 {
			n := rota.Notification{IncidentID: inc.ID, Person: fmt.Sprintf("p%d", i%people), Channel: rota.ContactSMS, Address: "+1", Wave: 1}
			if _, err := insertNotification(tx, n, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each claim takes, per person, one slot and sends all that person's
	// due notifications together (as the engine bundles them).
	claim := func(db *DB, owner string, now time.Time) (ids []int64, slots [][2]string) {
		plan, err := db.ClaimDue(ctx, now, 1000, owner, now.Add(10*time.Second), func(due []rota.Notification, last map[[2]string]time.Time) rota.OutboxPlan {
			p := rota.OutboxPlan{Slots: map[[2]string]time.Time{}}
			for _, n := range due {
				key := [2]string{n.Person, string(n.Channel)}
				if last[key].Add(time.Minute).After(now) {
					continue
				}
				p.Claim = append(p.Claim, n.ID)
				p.Slots[key] = now
			}
			return p
		})
		if err != nil {
			t.Error(err)
		}
		for k := range plan.Slots {
			slots = append(slots, k)
		}
		return plan.Claim, slots
	}
	var mu sync.Mutex
	claimedBy := map[int64]string{}
	slotBy := map[[2]string]string{}
	var wg sync.WaitGroup
	for _, side := range []struct {
		db    *DB
		owner string
	}{{a, "a"}, {b, "b"}, {a, "a2"}, {b, "b2"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids, slots := claim(side.db, side.owner, t0)
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				if other, ok := claimedBy[id]; ok {
					t.Errorf("notification %d claimed by %s and %s", id, other, side.owner)
				}
				claimedBy[id] = side.owner
			}
			for _, k := range slots {
				if other, ok := slotBy[k]; ok {
					t.Errorf("%v's slot taken by %s and %s", k, other, side.owner)
				}
				slotBy[k] = side.owner
			}
		}()
	}
	wg.Wait()
	if len(claimedBy) != people*3 || len(slotBy) != people {
		t.Fatalf("claimed %d of %d notifications, %d of %d slots", len(claimedBy), people*3, len(slotBy), people)
	}
	// Nothing more is due while the claims live; once they lapse (their
	// daemons died), the other side claims them, but the slots hold.
	if ids, _ := claim(b, "b", t0.Add(5*time.Second)); len(ids) != 0 {
		t.Errorf("claimed %d notifications under live claims", len(ids))
	}
	if next, ok, _ := a.NextDue(ctx); !ok || !next.Equal(t0.Add(10*time.Second)) {
		t.Errorf("next due %v %v, want when the claims lapse", next, ok)
	}
	ids, _ := claim(b, "b", t0.Add(11*time.Second))
	if len(ids) != 0 {
		t.Errorf("the rate limit should hold lapsed claims for a minute: %d claimed", len(ids))
	}
	ids, _ = claim(b, "b", t0.Add(61*time.Second))
	slices.Sort(ids)
	if len(ids) != people*3 {
		t.Errorf("after the lease and the rate limit: %d claimed, want %d", len(ids), people*3)
	}
	// Renewed claims are not taken over; given-back slots free the person.
	if err := b.RenewClaims(ctx, "b", ids, t0.Add(100*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := claim(a, "a", t0.Add(80*time.Second)); len(got) != 0 {
		t.Errorf("claimed %d renewed notifications", len(got))
	}
}

// TestConcurrentTriggersOnTwoDaemons: the same alert posted to two
// daemons at once opens one incident; the others are repeats, and none
// fails.
func TestConcurrentTriggersOnTwoDaemons(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rota.db")
	dbs := []*DB{open(t, path), open(t, path)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := rota.Event{Service: "api", DedupKey: "same", Summary: "x", Severity: "critical", Integration: "native", Action: rota.ActionTrigger}
			_, isNew, err := dbs[i%2].TriggerAlert(ctx, &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
			if err != nil {
				t.Error(err)
				return
			}
			if isNew {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	incs, _ := dbs[0].Incidents(ctx, rota.IncidentFilter{})
	if created != 1 || len(incs) != 1 {
		t.Errorf("%d created, %d incidents, want one", created, len(incs))
	}
}

// TestAccountingIsClaimedOnce: two daemons reading the pages to account
// at once get disjoint items that together are all of them; an item
// neither recorded is anyone's again when the lease ends.
func TestAccountingIsClaimedOnce(t *testing.T) {
	if !pgtest.Enabled() {
		t.Skip("several daemons share PostgreSQL; one daemon serves an SQLite file")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rota.db")
	a, b := open(t, path), open(t, path)
	t0 := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	now := t0
	for _, db := range []*DB{a, b} {
		db.Now = func() time.Time { return now }
	}
	const items = 200
	err := a.tx(ctx, func(tx wtx, _ time.Time) error {
		for i := range items {
			if err := tx.later("INSERT INTO accounting (person, incident_id, at_ms, interruption, offhours) VALUES (?, ?, ?, 1, 0)",
				fmt.Sprintf("p%d", i%7), i+1, t0.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	by := map[int64]int{}
	var wg sync.WaitGroup
	for i, db := range []*DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := db.PendingAccounting(ctx, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, it := range got {
					if prev, dup := by[it.ID]; dup {
						t.Errorf("item %d went to reader %d and %d", it.ID, prev, i)
					}
					by[it.ID] = i
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(by) != items {
		t.Fatalf("%d of %d items read", len(by), items)
	}
	if got, _ := b.PendingAccounting(ctx, items); len(got) != 0 {
		t.Errorf("%d items read again within their lease", len(got))
	}
	now = now.Add(accountingLease)
	if got, _ := b.PendingAccounting(ctx, items); len(got) != items {
		t.Errorf("after the lease: %d items, want %d", len(got), items)
	}
}

// TestEscalateWaitsForItsServiceLock: a due step whose service another
// transaction has locked (a storm's triggers) waits for it and runs; it
// is not run again and again for a lock out of order (its own step key
// sorts below the service's).
func TestEscalateWaitsForItsServiceLock(t *testing.T) {
	if !pgtest.Enabled() {
		t.Skip("advisory locks are PostgreSQL's")
	}
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	t0 := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return t0 }
	ev := rota.Event{Service: "api", DedupKey: "k", Summary: "x", Severity: "critical", Integration: "native", Action: rota.ActionTrigger}
	inc, _, err := db.TriggerAlert(ctx, &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome {
		return rota.StepOutcome{Escalation: rota.Escalation{State: rota.EscalationActive, DueAt: t0}}
	})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('service:api', 0))"); err != nil {
		t.Fatal(err)
	}
	before := db.Reruns()
	done := make(chan bool, 1)
	go func() {
		_, ran, err := db.Escalate(ctx, inc.ID, func(*rota.Incident, time.Time) rota.StepOutcome {
			return rota.StepOutcome{Escalation: rota.Escalation{State: rota.EscalationExhausted}}
		})
		if err != nil {
			t.Error(err)
		}
		done <- ran
	}()
	select {
	case <-done:
		t.Fatal("the step ran while its service was locked")
	case <-time.After(300 * time.Millisecond):
	}
	holder.Commit()
	select {
	case ran := <-done:
		if !ran {
			t.Error("the step did not run once its service was free")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the step did not run once its service was free")
	}
	if n := db.Reruns() - before; n != 0 {
		t.Errorf("the step was run again %d times for a lock out of order, want 0: it waits", n)
	}
}

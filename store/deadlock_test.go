package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/store/pgtest"
)

// TestNoDeadlockInAStormOnPostgres: three handles on one PostgreSQL
// database (three daemons, each with its committers) take a storm over
// few services: triggers on 20 services, pages recorded for 6 people in
// every order, acknowledgements and outbox claims, all at once. Locks are
// taken in one order, so PostgreSQL never finds a deadlock; every write
// succeeds.
func TestNoDeadlockInAStormOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var dbs []*DB
	for range 3 {
		db, err := Open(ctx, dsn, Options{})
		if err != nil {
			t.Fatal(err)
		}
		db.Now = clocktest.Now
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	people := []string{"p0", "p1", "p2", "p3", "p4", "p5"}
	const perWorker = 60
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []int64
	)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
	}
	for d, db := range dbs {
		// Triggers: each incident's first step pages two of the six.
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(d), uint64(w)))
				for i := range perWorker {
					ev := rota.Event{Service: fmt.Sprintf("s%d", rng.IntN(20)), Action: rota.ActionTrigger, DedupKey: fmt.Sprintf("%d-%d-%d", d, w, i),
						Summary: "storm", Severity: "critical", Integration: "native"}
					a, b := people[rng.IntN(6)], people[rng.IntN(6)]
					inc, _, err := db.TriggerAlert(ctx, &ev, benchPolicy, func(inc *rota.Incident, now time.Time) rota.StepOutcome {
						return rota.StepOutcome{
							Escalation: rota.Escalation{Step: 1, Wave: 1, State: rota.EscalationActive, DueAt: now.Add(time.Minute)},
							Notifications: []rota.Notification{
								{IncidentID: inc.ID, Person: a, Channel: "sms", Address: "+4915112345001", Wave: 1},
								{IncidentID: inc.ID, Person: b, Channel: "sms", Address: "+4915112345002", Wave: 1},
							},
							Events: []rota.IncidentEvent{{IncidentID: inc.ID, At: now, Kind: rota.EventEscalated, Message: "step 1"}},
						}
					})
					if err != nil {
						fail("trigger: %v", err)
						return
					}
					mu.Lock()
					created = append(created, inc.ID)
					mu.Unlock()
				}
			}()
		}
		// The outbox: claim what is due and record it sent, pages for
		// several people in one write, in the order they came.
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perWorker {
					now := clocktest.Now()
					plan, err := db.ClaimDue(ctx, now, 16, fmt.Sprintf("daemon%d-%d", d, w), now.Add(10*time.Second),
						func(due []rota.Notification, _ map[[2]string]time.Time) rota.OutboxPlan {
							var p rota.OutboxPlan
							for _, n := range due {
								p.Claim = append(p.Claim, n.ID)
							}
							return p
						})
					if err != nil {
						fail("claim: %v", err)
						return
					}
					var ds []rota.Delivery
					for _, id := range plan.Claim {
						n, err := db.Notification(ctx, id)
						if err != nil {
							fail("notification %d: %v", id, err)
							return
						}
						ds = append(ds, rota.Delivery{NotificationID: id, IncidentID: n.IncidentID, Outcome: rota.DeliverySent, At: now,
							Page: &rota.Page{IncidentID: n.IncidentID, Person: n.Person, At: now, Channel: "sms", Gap: time.Second}})
					}
					if err := db.RecordDeliveries(ctx, ds, nil); err != nil {
						fail("record deliveries: %v", err)
						return
					}
				}
			}()
		}
		// People acknowledge incidents as they come.
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(d), 99))
			for range perWorker {
				mu.Lock()
				var id int64
				if len(created) > 0 {
					id = created[rng.IntN(len(created))]
				}
				mu.Unlock()
				if id == 0 {
					continue
				}
				if _, err := db.setStatus(ctx, id, rota.ActionAcknowledge, "p0"); err != nil && rota.ErrorCode(err) != rota.ECONFLICT {
					fail("acknowledge %d: %v", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var deadlocks, conflicts int64
	for _, db := range dbs {
		d, c := db.Conflicts()
		deadlocks += d
		conflicts += c
	}
	if deadlocks != 0 {
		t.Errorf("PostgreSQL found %d deadlocks (and %d other conflicts) among %d triggers", deadlocks, conflicts, len(created))
	}
	if want := 3 * 8 * perWorker; len(created) != want && !t.Failed() {
		t.Errorf("%d triggers succeeded, want %d", len(created), want)
	}
	t.Logf("%d triggers; %d other conflicts run again", len(created), conflicts)
}

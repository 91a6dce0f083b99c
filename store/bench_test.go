package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

var benchPolicy = rota.EscalationPolicy{Name: "p", Steps: []rota.EscalationStep{{Targets: []rota.Target{{Kind: "person", Name: "a"}}, Delay: time.Minute}}}

func benchStep(a *rota.Incident, now time.Time) rota.StepOutcome {
	return rota.StepOutcome{
		Escalation:    rota.Escalation{Step: 1, Wave: 1, State: rota.EscalationActive, DueAt: now.Add(time.Minute)},
		Notifications: []rota.Notification{{IncidentID: a.ID, Person: "a", Channel: "sms", Address: "+4915112345001", Wave: 1}},
		Events:        []rota.IncidentEvent{{IncidentID: a.ID, At: now, Kind: rota.EventEscalated, Message: "step 1"}},
	}
}

// BenchmarkTriggerAlert measures creating an alert with its first step in
// one durable transaction (synchronous=FULL), from parallel callers whose
// writes the committer groups.
func BenchmarkTriggerAlert(b *testing.B) {
	for _, sync := range []string{SyncFull, SyncNormal} {
		b.Run(sync, func(b *testing.B) {
			db, err := Open(context.Background(), filepath.Join(b.TempDir(), "rota.db"), Options{Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var n atomic.Int64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ev := rota.Event{Service: "s", Action: rota.ActionTrigger, DedupKey: fmt.Sprint(n.Add(1)), Summary: "x", Severity: "critical", Integration: "native"}
					if _, _, err := db.TriggerAlert(context.Background(), &ev, benchPolicy, benchStep); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

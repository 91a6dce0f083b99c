package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/store/pgtest"
)

// TestCopyToPostgres: everything in an SQLite database is copied into an
// empty PostgreSQL one, checked by counts and a read-back; ids go on from
// the copied ones; a second copy into it is refused.
func TestCopyToPostgres(t *testing.T) {
	ctx := context.Background()
	src, err := Open(ctx, filepath.Join(t.TempDir(), "rota.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	t0 := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	src.Now = func() time.Time { return t0 }
	for i, summary := range []string{"disk full", "café 5xx ✓", "latency"} {
		ev := rota.Event{Service: "api", DedupKey: summary, Summary: summary, Severity: "critical", Integration: "native", Action: rota.ActionTrigger,
			Details: []byte(`{"n":` + string(rune('0'+i)) + `}`)}
		inc, _, err := src.TriggerAlert(ctx, &ev, rota.EscalationPolicy{Name: "p"}, func(*rota.Incident, time.Time) rota.StepOutcome {
			return rota.StepOutcome{Notifications: []rota.Notification{{Person: "alice", Channel: rota.ContactSMS, Address: "+1", Wave: 1}}}
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.setStatus(ctx, inc.ID, rota.ActionAcknowledge, "alice (web)"); err != nil {
			t.Fatal(err)
		}
	}
	o := rota.Override{Rotation: "primary", Person: "bruno", Start: t0, End: t0.Add(time.Hour), Reason: "cover", CreatedBy: "dana (web)"}
	if err := src.CreateOverride(ctx, &o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.CreateSession(ctx, "alice", "oidc", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := src.Audit(ctx, &rota.AuditEntry{Actor: "alice (web)", Action: "sign-in"}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.QueueOnce(ctx, "digest:payments:x", []rota.Notification{{Person: "mgr", Channel: rota.ContactEmail, Address: "m@x"}}); err != nil {
		t.Fatal(err)
	}

	dst, err := Open(ctx, pgtest.DSN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	counts, err := src.CopyTo(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	byTable := map[string]TableCount{}
	for _, c := range counts {
		byTable[c.Table] = c
	}
	for table, want := range map[string]int64{"incidents": 3, "alerts": 3, "notifications": 4, "overrides": 1, "sessions": 1, "audit": 1, "done_once": 1} {
		if c := byTable[table]; c.Source != want || c.Target != want || !c.ReadBack {
			t.Errorf("%s: %+v, want %d rows read back", table, c, want)
		}
	}
	inc, err := dst.Incident(ctx, 2)
	if err != nil || inc.Summary != "café 5xx ✓" || inc.AckedBy != "alice (web)" {
		t.Errorf("incident 2 on PostgreSQL: %+v %v", inc, err)
	}
	o2 := rota.Override{Rotation: "primary", Person: "alice", Start: t0, End: t0.Add(time.Hour)}
	if err := dst.CreateOverride(ctx, &o2); err != nil || o2.ID != 2 {
		t.Errorf("a new override after the copy: id %d, %v", o2.ID, err)
	}
	if _, err := src.CopyTo(ctx, dst); err == nil {
		t.Error("a copy into a database that is not empty was not refused")
	}
}

package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/policy"
)

// atSchema creates a database at path as a rotad at schema version made
// it, and returns it open.
func atSchema(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version > version {
			break
		}
		if _, err := old.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := old.Exec("INSERT INTO schema_migrations VALUES (?, ?, 0)", m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	return old
}

// TestUpgradeAlertsBecomeIncidents: a database from before incidents
// (schema 12) upgrades in place: each alert becomes the one alert of its
// own incident, ids kept, so its notifications, pages, reply codes and
// timeline still belong to what paged; open ones keep escalating and
// answer follow-ups by their dedup key, and new ids come after the old.
func TestUpgradeAlertsBecomeIncidents(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rota.db")
	old := atSchema(t, path, 12)
	for _, q := range []string{
		`INSERT INTO alerts (id, service, dedup_key, status, summary, severity, source, integration, count, created_ms, updated_ms, policy, esc_step, esc_wave, esc_state, esc_due_ms, started_ms)
			VALUES (1, 'api', 'k1', 'triggered', '5xx', 'critical', 'lb', 'native', 3, 1000, 2000, '{"Name":"default","Steps":[{"Targets":[{"Kind":"person","Name":"bob"}],"Delay":60000000000}]}', 1, 1, 'active', 61000, 1000)`,
		`INSERT INTO alerts (id, service, dedup_key, status, summary, severity, integration, created_ms, updated_ms, resolved_ms, resolved_by, policy, esc_state)
			VALUES (7, 'api', 'k2', 'resolved', 'disk', 'warning', 'grafana', 3000, 4000, 4000, 'grafana', '{"Name":"default"}', 'stopped')`,
		`INSERT INTO alert_events (alert_id, at_ms, kind, message) VALUES (1, 1000, 'triggered', 'triggered by native: 5xx')`,
		`INSERT INTO notifications (alert_id, person, channel, address, contact_index, wave, status, next_attempt_ms, created_ms, sent_ms) VALUES (1, 'bob', 'sms', '+1', 0, 1, 'sent', 1000, 1000, 1100)`,
		`INSERT INTO pages (alert_id, person, at_ms, channel, bundled, offhours) VALUES (1, 'bob', 1100, 'sms', 0, 0)`,
		// Recorded before its off-hours status was kept.
		`INSERT INTO pages (alert_id, person, at_ms, channel, bundled, offhours) VALUES (7, 'bob', 3100, 'sms', 0, NULL)`,
		`INSERT INTO reply_codes (person, code, alert_id, created_ms) VALUES ('bob', 1, 1, 1100)`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	db := open(t, path)
	inc, err := db.Incident(ctx, 1)
	if err != nil || inc.Status != rota.StatusTriggered || inc.Summary != "5xx" || inc.AlertCount != 1 || inc.GroupKey != "" ||
		inc.Policy.Name != "default" || inc.Escalation.Step != 1 || inc.Escalation.DueAt.UnixMilli() != 61000 {
		t.Fatalf("incident 1: %+v %v", inc, err)
	}
	a, err := db.Alert(ctx, 1)
	if err != nil || a.IncidentID != 1 || a.DedupKey != "k1" || a.Count != 3 || a.Source != "lb" || a.Integration != "native" {
		t.Fatalf("alert 1: %+v %v", a, err)
	}
	if a, err := db.Alert(ctx, 7); err != nil || a.IncidentID != 7 || a.Status != rota.StatusResolved || a.ResolvedBy != "grafana" {
		t.Fatalf("alert 7: %+v %v", a, err)
	}
	events, ns, err := db.Timeline(ctx, 1)
	if err != nil || len(events) != 1 || len(ns) != 1 || ns[0].IncidentID != 1 {
		t.Fatalf("timeline: %+v %+v %v", events, ns, err)
	}
	if got, err := db.IncidentByCode(ctx, "bob", 1); err != nil || got.ID != 1 {
		t.Errorf("reply code 1: %+v %v", got, err)
	}
	if ps, err := db.PersonPages(ctx, "bob", time.UnixMilli(0)); err != nil || len(ps) != 2 || ps[0].IncidentID != 1 {
		t.Errorf("pages: %+v %v", ps, err)
	}
	// Pages counted before became interruptions of their own; a page of
	// unknown hours waits to be judged.
	if week, _, err := db.BudgetFacts(ctx, "bob", time.UnixMilli(0), time.UnixMilli(0), time.UnixMilli(10000)); err != nil || len(week) != 2 {
		t.Errorf("interruptions: %+v %v", week, err)
	}
	unknown, err := db.UnknownOffHours(ctx, 10)
	if err != nil || len(unknown) != 1 || unknown[0].IncidentID != 7 {
		t.Fatalf("unknown hours: %+v %v", unknown, err)
	}
	unknown[0].OffHours = true
	if err := db.SetOffHours(ctx, unknown); err != nil {
		t.Fatal(err)
	}
	if _, off, _ := db.BudgetFacts(ctx, "bob", time.UnixMilli(0), time.UnixMilli(0), time.UnixMilli(10000)); len(off) != 1 || off[0].IncidentID != 7 {
		t.Errorf("off-hours after judging: %+v", off)
	}
	// The open alert still answers its source, and resolving it (its
	// incident's only alert) resolves the incident.
	if _, err := db.FollowUp(ctx, "api", "k1", func(f rota.AlertFacts) (rota.AlertChange, error) {
		return policy.ActOnAlert(f, rota.ActionResolve, "grafana")
	}); err != nil {
		t.Fatal(err)
	}
	if inc, _ := db.Incident(ctx, 1); inc.Status != rota.StatusResolved {
		t.Errorf("incident after its alert resolved: %s", inc.Status)
	}
	inc, created, err := db.TriggerAlert(ctx, &rota.Event{Service: "api", DedupKey: "k1", Summary: "again", Severity: "critical", Integration: "native"},
		rota.EscalationPolicy{Name: "default"}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
	if err != nil || !created || inc.ID != 8 {
		t.Errorf("a new incident after the upgrade: %+v %v %v", inc, created, err)
	}
}

// TestUpgradeKeepsTokens: a database made by a rotad at schema 10 (before
// team tokens rebuilt feed_tokens) upgrades in place: its calendar tokens
// still open their feeds, and the new kinds and indexes work.
func TestUpgradeKeepsTokens(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rota.db")
	old := atSchema(t, path, 10)
	ms, _ := migrations("migrations")
	if _, err := old.Exec("INSERT INTO feed_tokens (kind, name, hash, created_ms) VALUES ('person', 'alice', ?, 1)", tokenHash("old-token")); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db := open(t, path)
	if v, err := db.SchemaVersion(ctx); err != nil || v != ms[len(ms)-1].version {
		t.Fatalf("schema %d, %v", v, err)
	}
	if ok, err := db.CheckFeedToken(ctx, "person", "alice", "old-token"); !ok || err != nil {
		t.Errorf("the old token no longer opens the feed: %v %v", ok, err)
	}
	tok, err := db.IssueFeedToken(ctx, "team", "payments")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.CheckFeedToken(ctx, "team", "payments", tok); !ok {
		t.Error("a team token after the upgrade does not check")
	}
	// The queries that name their indexes find them.
	now := clocktest.Now()
	if _, _, err := db.BudgetFacts(ctx, "alice", now.Add(-time.Hour), now.Add(-time.Hour), now); err != nil {
		t.Error(err)
	}
	if _, err := db.PendingAccounting(ctx, 10); err != nil {
		t.Error(err)
	}
}

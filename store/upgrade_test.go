package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestUpgradeKeepsTokens: a database made by a rotad at schema 10 (before
// team tokens rebuilt feed_tokens) upgrades in place: its calendar tokens
// still open their feeds, and the new kinds and indexes work.
func TestUpgradeKeepsTokens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rota.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version > 10 {
			break
		}
		if _, err := old.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := old.Exec("INSERT INTO schema_migrations VALUES (?, ?, 0)", m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
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
	now := time.Now()
	if _, err := db.NthPage(ctx, "alice", now.Add(-time.Hour), now, 1, false); err != nil {
		t.Error(err)
	}
	if _, err := db.NthPage(ctx, "alice", now.Add(-time.Hour), now, 1, true); err != nil {
		t.Error(err)
	}
	if _, err := db.OffHoursPages(ctx, "alice", now.Add(-time.Hour)); err != nil {
		t.Error(err)
	}
	if _, err := db.UnknownOffHours(ctx, "alice", now.Add(-time.Hour), now); err != nil {
		t.Error(err)
	}
}

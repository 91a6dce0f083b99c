package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/store/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// sqliteOnly skips a test of what only SQLite has (its file, its
// migrations' history, VACUUM INTO) when the tests run on PostgreSQL.
func sqliteOnly(t *testing.T) {
	t.Helper()
	if pgtest.Enabled() {
		t.Skip("SQLite's own behaviour")
	}
}

// pgSchemas maps the paths a test opens to its PostgreSQL schemas, so
// that reopening a path reopens the same database.
var pgSchemas sync.Map

// open opens the database at path: an SQLite file, or, when the tests run
// on PostgreSQL (ROTA_TEST_STORE=postgres), a schema standing for it; on
// the run's clock (clocktest.Now), as storetest.Open does.
func open(t *testing.T, path string) *DB {
	t.Helper()
	if pgtest.Enabled() {
		dsn, ok := pgSchemas.Load(path)
		if !ok {
			dsn, _ = pgSchemas.LoadOrStore(path, pgtest.DSN(t))
		}
		path = dsn.(string)
	}
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = clocktest.Now
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOverridesRoundTripAndSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "rota.db")
	db := open(t, path)
	db.Now = func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) }

	start := time.Date(2026, 5, 2, 8, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	o := rota.Override{Rotation: "r", Person: "alice", Start: start, End: start.Add(8 * time.Hour), Reason: "dentist", CreatedBy: "bruno"}
	if err := db.CreateOverride(ctx, &o); err != nil {
		t.Fatal(err)
	}
	if o.ID == 0 || !o.CreatedAt.Equal(db.Now()) {
		t.Fatalf("id or created time not set: %+v", o)
	}
	if o.Start.Location() != time.UTC || !o.Start.Equal(start.Truncate(time.Millisecond)) {
		t.Errorf("start not normalised to UTC milliseconds: %v", o.Start)
	}
	o2 := rota.Override{Rotation: "other", Person: "x", Start: start, End: start.Add(time.Hour)}
	if err := db.CreateOverride(ctx, &o2); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, path)
	got, err := db.Overrides(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != o {
		t.Fatalf("after reopening: %+v, want %+v", got, o)
	}
	all, _ := db.Overrides(ctx, "")
	if len(all) != 2 {
		t.Fatalf("all overrides: %d, want 2", len(all))
	}
	one, err := db.Override(ctx, o.ID)
	if err != nil || one != o {
		t.Fatalf("Override(%d) = %+v, %v", o.ID, one, err)
	}
	del, err := db.DeleteOverride(ctx, o.ID)
	if err != nil || del != o {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	if _, err := db.DeleteOverride(ctx, o.ID); rota.ErrorCode(err) != rota.ENOTFOUND {
		t.Fatalf("second delete: %v, want not found", err)
	}
	if _, err := db.Override(ctx, o.ID); rota.ErrorCode(err) != rota.ENOTFOUND {
		t.Fatalf("get deleted: %v, want not found", err)
	}
	// IDs are never reused: the latest override must win.
	o3 := rota.Override{Rotation: "r", Person: "y", Start: start, End: start.Add(time.Hour)}
	if err := db.CreateOverride(ctx, &o3); err != nil || o3.ID <= o2.ID {
		t.Fatalf("new id %d after %d: %v", o3.ID, o2.ID, err)
	}
}

func TestCreateOverrideRejectsInvalid(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	now := clocktest.Now()
	for _, o := range []rota.Override{
		{Rotation: "r", Person: "a", Start: now, End: now},
		{Rotation: "r", Start: now, End: now.Add(time.Hour)},
		{Rotation: "r", Person: "a", Start: now, End: now.Add(100 * 24 * time.Hour)},
	} {
		if err := db.CreateOverride(context.Background(), &o); rota.ErrorCode(err) != rota.EINVALID {
			t.Errorf("%+v: got %v, want invalid", o, err)
		}
	}
	if all, _ := db.Overrides(context.Background(), ""); len(all) != 0 {
		t.Errorf("invalid overrides were stored: %+v", all)
	}
}

func TestConcurrentWriters(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	ctx := context.Background()
	start := clocktest.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				o := rota.Override{Rotation: "r", Person: "a", Start: start, End: start.Add(time.Hour)}
				if err := db.CreateOverride(ctx, &o); err != nil {
					errs <- err
				}
				if _, err := db.Overrides(ctx, "r"); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if all, _ := db.Overrides(ctx, "r"); len(all) != 400 {
		t.Fatalf("%d overrides, want 400", len(all))
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	sqliteOnly(t)
	path := filepath.Join(t.TempDir(), "rota.db")
	db := open(t, path)
	if _, err := db.write.Exec("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (9999, 'future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "schema version 9999, newer than this rotad knows") {
		t.Fatalf("got %v", err)
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	sqliteOnly(t)
	path := filepath.Join(t.TempDir(), "rota.db")
	open(t, path).Close()
	db := open(t, path)
	v, err := db.SchemaVersion(context.Background())
	ms, _ := migrations("migrations")
	if err != nil || v != ms[len(ms)-1].version {
		t.Fatalf("schema version %d, %v", v, err)
	}
}

func TestBackupRestores(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "rota.db"))
	now := clocktest.Now()
	o := rota.Override{Rotation: "r", Person: "a", Start: now, End: now.Add(time.Hour)}
	if err := db.CreateOverride(ctx, &o); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, backup); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	restored := open(t, backup)
	got, err := restored.Overrides(ctx, "r")
	if err != nil || len(got) != 1 || got[0].ID != o.ID {
		t.Fatalf("restored: %+v, %v", got, err)
	}
}

func TestOpenRejectsBadSynchronous(t *testing.T) {
	sqliteOnly(t)
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), Options{Synchronous: "off"}); err == nil {
		t.Fatal("accepted synchronous=off")
	}
}

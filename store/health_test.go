package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

func trigger(db *DB, key string) error {
	_, _, err := db.TriggerAlert(context.Background(), &rota.Event{Service: "api", DedupKey: key, Summary: key, Severity: "critical", Integration: "native"},
		rota.EscalationPolicy{Name: "p"}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
	return err
}

// TestDeletedOrReplacedFileStopsWrites: once the database file is deleted
// or replaced under the daemon, every write is refused (EUNAVAILABLE),
// readiness fails saying why, and the daemon is told once; nothing is
// written to a file nobody will open again.
func TestDeletedOrReplacedFileStopsWrites(t *testing.T) {
	sqliteOnly(t)
	for _, tt := range []struct {
		name string
		do   func(path string) error
		says string
	}{
		{"deleted", func(path string) error { return os.Remove(path) }, "was deleted"},
		{"replaced", func(path string) error {
			other := path + ".other"
			if err := os.WriteFile(other, nil, 0o600); err != nil {
				return err
			}
			return os.Rename(other, path)
		}, "was replaced"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rota.db")
			db := open(t, path)
			var told []error
			db.OnLost = func(err error) { told = append(told, err) }
			if err := db.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := trigger(db, "before"); err != nil {
				t.Fatal(err)
			}
			if err := tt.do(path); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				err := db.Ping(context.Background())
				if rota.ErrorCode(err) != rota.EUNAVAILABLE || !strings.Contains(err.Error(), tt.says) {
					t.Errorf("ping: %v", err)
				}
				if err := trigger(db, "after"); rota.ErrorCode(err) != rota.EUNAVAILABLE {
					t.Errorf("a write: %v", err)
				}
			}
			if len(told) != 1 {
				t.Errorf("told %d times: %v", len(told), told)
			}
		})
	}
}

// TestUnwritableDatabaseIsUnavailable: a database that cannot take writes
// (here read-only; a full disk is the same) answers writes with
// EUNAVAILABLE saying why, which the API turns into 503 and Retry-After.
func TestUnwritableDatabaseIsUnavailable(t *testing.T) {
	sqliteOnly(t)
	db := open(t, filepath.Join(t.TempDir(), "rota.db"))
	if _, err := db.write.Exec("PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	err := db.Ping(context.Background())
	if rota.ErrorCode(err) != rota.EUNAVAILABLE || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("ping: %v", err)
	}
	if err := trigger(db, "k"); rota.ErrorCode(err) != rota.EUNAVAILABLE {
		t.Errorf("a write: %v", err)
	}
}

// TestDeletedDatabaseIsNotRecreatedQuietly: a database file deleted while
// its write-ahead log remains is not replaced by an empty one at the next
// start; the error says what to do.
func TestDeletedDatabaseIsNotRecreatedQuietly(t *testing.T) {
	sqliteOnly(t)
	path := filepath.Join(t.TempDir(), "rota.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !db.Created() {
		t.Error("a new database is not said to be new")
	}
	if err := trigger(db, "k"); err != nil {
		t.Fatal(err)
	}
	// Deleted under the daemon, which then dies (the WAL stays).
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Skip("no WAL left behind to tell the deletion by")
	}
	if _, err := Open(context.Background(), path, Options{}); err == nil || !strings.Contains(err.Error(), "the database was deleted; restore a backup") {
		t.Errorf("reopen: %v", err)
	}
}

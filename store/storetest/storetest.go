// Package storetest opens a store for other packages' tests: a new SQLite
// file in the test's temporary directory, or, when ROTA_TEST_STORE is
// "postgres", a new schema in the test process's private PostgreSQL
// cluster (see pgtest), so that one suite checks both.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/pgtest"
)

// Open returns a new, empty store for t, closed when t ends, on the test
// run's clock (clocktest.Now).
func Open(t testing.TB, opts store.Options) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rota.db")
	if pgtest.Enabled() {
		path = pgtest.DSN(t)
	}
	db, err := store.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = clocktest.Now
	t.Cleanup(func() { db.Close() })
	return db
}

// Run runs a package's tests and then stops the PostgreSQL cluster they
// started, if any: call it from TestMain.
func Run(m *testing.M) int {
	code := m.Run()
	pgtest.Stop()
	return code
}

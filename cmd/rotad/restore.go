package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rotahq/rota/store"
)

// restore puts a backup in place as the configured database, so that a
// daemon started on it does not re-send the past: notifications still
// pending in the copy that are older than --stale (15 minutes by default)
// are cancelled, with a note on their incidents' timelines. Incidents
// still open keep escalating from where the copy left them.
func restore(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	from := fs.String("from", "", "the backup to restore (made by rotad backup)")
	dbPath := fs.String("db", "", "SQLite database file to restore to, overriding server.database")
	stale := fs.Duration("stale", 15*time.Minute, "cancel pending notifications older than this, rather than send them")
	force := fs.Bool("force", false, "replace an existing database (rotad must not be running on it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" {
		fmt.Fprintln(stderr, "rotad restore: --from BACKUP is required")
		return exitError{2}
	}
	if *stale < 0 {
		fmt.Fprintln(stderr, "rotad restore: --stale must not be negative")
		return exitError{2}
	}
	path, err := databasePath(*cfgPath, *dbPath, stderr)
	if err != nil {
		return err
	}
	if store.IsPostgres(path) {
		fmt.Fprintf(stderr, "rotad restore: %s is PostgreSQL: restore it with pg_restore --clean --dbname=URL %s, then start rotad\n", store.Redact(path), *from)
		return exitError{2}
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("the backup %s: %w", *from, err)
	}
	if _, err := os.Stat(path); err == nil && !*force {
		fmt.Fprintf(stderr, "rotad restore: %s exists: stop rotad and move it aside, or pass --force\n", path)
		return exitError{2}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	b, err := os.ReadFile(*from)
	if err != nil {
		return err
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	ctx := context.Background()
	db, ok, err := openExisting(ctx, path)
	if err != nil || !ok {
		return fmt.Errorf("open the restored copy %s: %v", path, err)
	}
	defer db.Close()
	n, err := db.CancelStale(ctx, now().Add(-*stale), "restored from a backup: not sent, older than "+stale.String())
	if err != nil {
		return err
	}
	v, _ := db.SchemaVersion(ctx)
	fmt.Fprintf(stdout, "restored %s to %s (schema version %d); %d pending notification(s) older than %s cancelled, not sent\n", *from, path, v, n, *stale)
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/rotahq/rota/store"
)

// backup writes a consistent copy of the database; it is safe while rotad
// serves, since SQLite's WAL lets the copy read alongside the daemon. On
// PostgreSQL it runs pg_dump (a consistent snapshot too), in its custom
// format for pg_restore.
func backup(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	out := fs.String("out", "", "where to write the copy (must not exist)")
	dbPath := fs.String("db", "", "SQLite database file or postgres:// URL, overriding server.database")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "rotad backup: --out PATH is required")
		return exitError{2}
	}
	path, err := databasePath(*cfgPath, *dbPath, stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if store.IsPostgres(path) {
		return pgDump(ctx, path, *out, stdout)
	}
	db, ok, err := openExisting(ctx, path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if !ok {
		return fmt.Errorf("no database at %s", path)
	}
	defer db.Close()
	if err := db.Backup(ctx, *out); err != nil {
		return err
	}
	v, _ := db.SchemaVersion(ctx)
	fmt.Fprintf(stdout, "backed up %s to %s (schema version %d)\n", path, *out, v)
	return nil
}

// pgDump backs a PostgreSQL database up with pg_dump, which must be
// installed (Debian's postgresql-client).
func pgDump(ctx context.Context, dsn, out string, stdout io.Writer) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("backup: %s already exists", out)
	}
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return fmt.Errorf("backup: pg_dump is not installed (apt-get install postgresql-client): it backs up a PostgreSQL database")
	}
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--no-owner", "--file="+out, "--dbname="+dsn)
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(out)
		return fmt.Errorf("backup: pg_dump: %v: %s", err, strings.ReplaceAll(string(msg), dsn, store.Redact(dsn)))
	}
	fmt.Fprintf(stdout, "backed up %s to %s with pg_dump (restore with pg_restore --clean --dbname=URL %s)\n", store.Redact(dsn), out, out)
	return nil
}

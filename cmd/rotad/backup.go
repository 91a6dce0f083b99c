package main

import (
	"context"
	"fmt"
	"io"
)

// backup writes a consistent copy of the database; it is safe while rotad
// serves, since SQLite's WAL lets the copy read alongside the daemon.
func backup(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	out := fs.String("out", "", "where to write the copy (must not exist)")
	dbPath := fs.String("db", "", "SQLite database file, overriding server.database")
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

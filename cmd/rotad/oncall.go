package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

func onCall(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("oncall", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	atFlag := fs.String("at", "", "the instant to ask about, RFC 3339 (default now)")
	rotation := fs.String("rotation", "", "only this rotation")
	dbPath := fs.String("db", "", "SQLite database file or postgres:// URL, overriding server.database")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	at := now()
	if *atFlag != "" {
		t, err := time.Parse(time.RFC3339, *atFlag)
		if err != nil {
			fmt.Fprintf(stderr, "rotad oncall: --at %q is not an RFC 3339 time such as 2026-03-10T09:00:00Z\n", *atFlag)
			return exitError{2}
		}
		at = t
	}
	cfg, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	if *dbPath != "" {
		cfg.Server.Database = *dbPath
	}
	rots := cfg.Org.Rotations
	if *rotation != "" {
		r := cfg.Org.Rotation(*rotation)
		if r == nil {
			fmt.Fprintf(stderr, "rotad oncall: no rotation named %q in %s\n", *rotation, cfg.File)
			return exitError{2}
		}
		rots = []*rota.Rotation{r}
	}

	ctx := context.Background()
	var overrides []rota.Override
	db, ok, err := openExisting(ctx, cfg.Server.Database)
	switch {
	case err != nil:
		return fmt.Errorf("open %s: %w", cfg.Server.Database, err)
	case !ok:
		fmt.Fprintf(stderr, "note: no database at %s yet: showing the schedule without overrides\n", cfg.Server.Database)
	default:
		defer db.Close()
		if overrides, err = db.Overrides(ctx, ""); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "On call at %s:\n", at.UTC().Format(time.RFC3339))
	printOnCall(stdout, scheduler.NewRoster(cfg.Org, overrides), rots, at)
	return nil
}

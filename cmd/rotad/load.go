package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/store"
)

// loadConfig loads path, printing every problem to stderr on failure.
func loadConfig(path string, stderr io.Writer) (*config.Config, error) {
	if path == "" {
		fmt.Fprintln(stderr, "rotad: --config FILE is required (try config.example.toml)")
		return nil, exitError{2}
	}
	cfg, err := config.Load(path)
	if err != nil {
		ps, _ := err.(config.Problems)
		fmt.Fprintln(stderr, err)
		if len(ps) > 0 {
			fmt.Fprintf(stderr, "%s: %d %s\n", path, len(ps), plural(len(ps), "problem", "problems"))
		}
		return nil, exitError{2}
	}
	return cfg, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// newLogger builds the process's one slog handler, writing to w.
func newLogger(w io.Writer, format string, level *slog.LevelVar) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// openExisting opens the database at path if it exists; ok is false when
// there is none yet (a fresh install), which is not an error for tools
// that only read.
// databasePath is the database a command works on: --db if given, else
// the configuration's server.database.
func databasePath(cfgPath, dbPath string, stderr io.Writer) (string, error) {
	if dbPath != "" {
		return dbPath, nil
	}
	cfg, err := loadConfig(cfgPath, stderr)
	if err != nil {
		return "", err
	}
	return cfg.Server.Database, nil
}

func openExisting(ctx context.Context, path string) (db *store.DB, ok bool, err error) {
	if store.IsPostgres(path) {
		db, err = openStore(ctx, path)
		return db, err == nil, err
	}
	if _, err := os.Stat(path); err != nil {
		if os.IsNotExist(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	db, err = openStore(ctx, path)
	return db, err == nil, err
}

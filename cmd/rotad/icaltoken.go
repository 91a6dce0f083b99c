package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rotahq/rota/api"
)

// icalToken issues, rotates or revokes a calendar feed token. Tokens are
// stored hashed, so an existing one cannot be shown again: --rotate
// replaces it (the old URL stops working).
func icalToken(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ical-token", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	rotate := fs.Bool("rotate", false, "replace the existing token")
	revoke := fs.Bool("revoke", false, "revoke the token: the feed URL stops working")
	dbPath := fs.String("db", "", "SQLite database file or postgres:// URL, overriding server.database")
	if len(args) < 2 {
		fmt.Fprintln(stderr, "usage: rotad ical-token {person|rotation} NAME --config FILE [--rotate] [--revoke]")
		return exitError{2}
	}
	kind, name := args[0], args[1]
	if err := parseFlags(fs, args[2:]); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	switch {
	case kind == "person" && cfg.Org.Person(name) != nil, kind == "rotation" && cfg.Org.Rotation(name) != nil,
		kind == "team" && cfg.Org.Team(name) != nil:
	case kind != "person" && kind != "rotation" && kind != "team":
		fmt.Fprintf(stderr, "rotad ical-token: %q is not person, rotation or team\n", kind)
		return exitError{2}
	default:
		fmt.Fprintf(stderr, "rotad ical-token: no %s named %q in %s\n", kind, name, cfg.File)
		return exitError{2}
	}
	if *dbPath != "" {
		cfg.Server.Database = *dbPath
	}
	ctx := context.Background()
	db, err := openStore(ctx, cfg.Server.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	if *revoke {
		if err := db.RevokeFeedToken(ctx, kind, name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked the calendar token of %s %s\n", kind, name)
		return nil
	}
	has, err := db.HasFeedToken(ctx, kind, name)
	if err != nil {
		return err
	}
	if has && !*rotate {
		fmt.Fprintf(stderr, "rotad ical-token: %s %s has a token already; tokens are stored hashed and cannot be shown again: use --rotate to replace it (the old URL stops working)\n", kind, name)
		return exitError{1}
	}
	token, err := db.IssueFeedToken(ctx, kind, name)
	if err != nil {
		return err
	}
	base := cfg.Server.PublicURL
	if base == "" {
		base = "http://" + cfg.Server.Listen
		fmt.Fprintln(stderr, "note: server.public_url is not set: the URLs below use the listen address")
	}
	if kind == "team" {
		fmt.Fprintf(stdout, "Report of team %s (shown once; keep it secret):\n  %s\n", name, api.ReportURL(base, name, token))
		return nil
	}
	https, webcal := api.FeedURLs(base, kind, name, token)
	fmt.Fprintf(stdout, "Calendar feed of %s %s (shown once; keep it secret):\n  %s\n  %s\n", kind, name, webcal, https)
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/rotahq/rota"
)

const tokenUsage = `usage:
  rotad token create PERSON --config FILE [--name WHAT-FOR]
  rotad token list [PERSON] --config FILE
  rotad token revoke ID --config FILE
  rotad token signout PERSON --config FILE   (ends every web session of PERSON)`

// token manages personal API tokens from the command line: for the first
// admin, who cannot sign in to the web UI before there is one, and for
// scripts set up by operators. Tokens are stored hashed: a secret is
// shown once, at creation.
func token(args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		fmt.Fprintln(stderr, tokenUsage)
		return exitError{2}
	}
	verb, rest := args[0], args[1:]
	var arg string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		arg, rest = rest[0], rest[1:]
	}
	fs := newFlags("token "+verb, stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	dbPath := fs.String("db", "", "SQLite database file or postgres:// URL, overriding server.database")
	name := fs.String("name", "", "what the token is for (create)")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	needPerson := func() error {
		if arg == "" {
			fmt.Fprintln(stderr, tokenUsage)
			return exitError{2}
		}
		if cfg.Org.Person(arg) == nil {
			fmt.Fprintf(stderr, "rotad token %s: no person named %q in %s\n", verb, arg, cfg.File)
			return exitError{2}
		}
		return nil
	}
	switch verb {
	case "create", "signout":
		if err := needPerson(); err != nil {
			return err
		}
	case "list":
		if arg != "" {
			if err := needPerson(); err != nil {
				return err
			}
		}
	case "revoke":
		if _, err := strconv.ParseInt(arg, 10, 64); err != nil {
			fmt.Fprintf(stderr, "rotad token revoke: %q is not a token id (rotad token list shows them)\n", arg)
			return exitError{2}
		}
	default:
		fmt.Fprintf(stderr, "rotad token: unknown command %q\n%s\n", verb, tokenUsage)
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
	actor := rota.Actor{Via: rota.ViaCLI, Role: rota.RoleAdmin}
	switch verb {
	case "create":
		what := *name
		if what == "" {
			what = "created with rotad token create"
		}
		secret, t, err := db.CreateAPIToken(ctx, arg, what, actor.String())
		if err != nil {
			return err
		}
		if err := db.Audit(ctx, &rota.AuditEntry{Actor: actor.String(), Action: "token.create", Subject: fmt.Sprintf("token %d of %s", t.ID, arg), Detail: what}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Token %d for %s (shown once; keep it secret):\n  %s\nUse it as \"Authorization: Bearer TOKEN\".\n", t.ID, arg, secret)
	case "list":
		ts, err := db.APITokens(ctx, arg)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPERSON\tNAME\tCREATED\tLAST USED\tSTATE")
		for _, t := range ts {
			used, state := "never", "live"
			if t.LastUsed != nil {
				used = t.LastUsed.Format(time.RFC3339)
			}
			if t.RevokedAt != nil {
				state = "revoked " + t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Person, t.Name, t.CreatedAt.Format(time.RFC3339), used, state)
		}
		return tw.Flush()
	case "revoke":
		id, _ := strconv.ParseInt(arg, 10, 64)
		t, err := db.RevokeAPIToken(ctx, id, "")
		if err != nil {
			return err
		}
		if err := db.Audit(ctx, &rota.AuditEntry{Actor: actor.String(), Action: "token.revoke", Subject: fmt.Sprintf("token %d of %s", t.ID, t.Person), Detail: t.Name}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked token %d (%s) of %s\n", t.ID, t.Name, t.Person)
	case "signout":
		n, err := db.RevokeSessions(ctx, arg)
		if err != nil {
			return err
		}
		if err := db.Audit(ctx, &rota.AuditEntry{Actor: actor.String(), Action: "sign-out", Subject: arg, Detail: fmt.Sprintf("%d sessions ended", n)}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ended %d web sessions of %s\n", n, arg)
	}
	return nil
}

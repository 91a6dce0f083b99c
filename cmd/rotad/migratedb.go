package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/rotahq/rota/store"
)

// migrateDB copies an SQLite database into an empty PostgreSQL one (or
// the other way), checked by counts and a read-back of every row. rotad
// must be stopped on the source meanwhile.
func migrateDB(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate-db", stderr)
	from := fs.String("from", "", "the database to copy: sqlite:PATH (or a postgres:// URL)")
	to := fs.String("to", "", "the empty database to copy into: a postgres:// URL (its password from PGPASSWORD), or sqlite:PATH")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		fmt.Fprintln(stderr, "usage: rotad migrate-db --from sqlite:PATH --to postgres://USER@HOST/DB   (password in PGPASSWORD)")
		return exitError{2}
	}
	src, dst := dbArg(*from), dbArg(*to)
	if !store.IsPostgres(src) {
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("the source %s: %w", src, err)
		}
	}
	ctx := context.Background()
	a, err := openStore(ctx, src)
	if err != nil {
		return fmt.Errorf("open the source: %w", err)
	}
	defer a.Close()
	b, err := openStore(ctx, dst)
	if err != nil {
		return fmt.Errorf("open the target: %w", err)
	}
	defer b.Close()
	counts, err := a.CopyTo(ctx, b)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSOURCE\tTARGET\tREAD BACK")
	var rows int64
	for _, c := range counts {
		ok := "same"
		if !c.ReadBack {
			ok = "DIFFERENT"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", c.Table, c.Source, c.Target, ok)
		rows += c.Source
	}
	tw.Flush()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d rows in %d tables from %s to %s, every row read back the same\n", rows, len(counts), store.Redact(src), store.Redact(dst))
	return nil
}

// dbArg reads sqlite:PATH as PATH; a postgres:// URL stays as it is.
func dbArg(s string) string {
	return strings.TrimPrefix(strings.TrimPrefix(s, "sqlite://"), "sqlite:")
}

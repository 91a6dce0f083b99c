// Command rotad is the rota on-call daemon and its command-line tools.
//
//	rotad serve --config FILE [--listen ADDR] [--db PATH]
//	rotad check-config FILE
//	rotad oncall --config FILE [--at TIME] [--rotation NAME] [--db PATH]
//	rotad backup --config FILE --out PATH [--db PATH]
//	rotad restore --config FILE --from BACKUP [--db PATH] [--stale 15m] [--force]
//	rotad ical-token {person|rotation} NAME --config FILE [--rotate] [--revoke]
//	rotad token {create|list|revoke|signout} ... --config FILE
//	rotad migrate-db --from sqlite:PATH --to postgres://USER@HOST/DB
//	rotad version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

const usage = `rotad is the rota on-call daemon.

Usage:
  rotad serve --config FILE [--listen ADDR] [--db PATH] [--dev-sign-in]
        run the daemon; SIGHUP reloads FILE, SIGTERM stops gracefully;
        --dev-sign-in lets anyone on this machine sign in as anyone (loopback only)
  rotad check-config FILE
        validate a configuration and show who is on call now
  rotad oncall --config FILE [--at TIME] [--rotation NAME] [--db PATH]
        print who is on call, overrides included
  rotad backup --config FILE --out PATH [--db PATH]
  rotad restore --config FILE --from BACKUP [--db PATH] [--stale 15m] [--force]
        write a consistent copy of the database while rotad runs
  rotad ical-token {person|rotation|team} NAME --config FILE [--rotate] [--revoke]
        issue (or revoke) the secret URL of a person's or rotation's calendar, or a team's report
  rotad report --config FILE --team NAME [--weeks 12]
        a team's human-SLO report: pages against budgets, off-hours, burns
  rotad token create PERSON --config FILE [--name WHAT-FOR]
  rotad token list [PERSON] --config FILE
  rotad token revoke ID --config FILE
  rotad token signout PERSON --config FILE
        a person's API tokens for scripts (shown once, stored hashed); signout ends their web sessions
  rotad maintenance start SERVICE --config FILE (--for 2h | --from TIME --to TIME) [--reason WHY]
  rotad maintenance list [SERVICE] --config FILE
  rotad maintenance end ID --config FILE
        planned work: a service's alerts are recorded and page nobody until the window ends
  rotad replay --config PROPOSED.toml [--db PATH | --alerts FILE.jsonl] [--from DATE] [--to DATE] [--format table|json|html]
        what people would have carried with the proposed configuration, beside what happened and paging everything at once
  rotad export-alerts --config FILE [--from DATE] [--to DATE] [--out FILE.jsonl]
        write recorded alerts, deploys, overrides and pages as the JSONL replay reads
  rotad import pagerduty [--api-url URL] [--token-env VAR | --token-file FILE] [--from-dir DIR] [--save-dir DIR] [--out FILE] [--report FILE]
                        [--verify] [--verify-config FILE] [--days N] [--verify-from TIME]
        write a rota configuration from PagerDuty's users, teams, schedules, policies and services, and a report of what did not carry
        over; --verify (or --verify-config FILE) compares who is on call with PagerDuty's /oncalls, hour by hour
  rotad migrate-db --from sqlite:PATH --to postgres://USER@HOST/DB
        copy everything into an empty PostgreSQL database (password in PGPASSWORD), checked by counts and a read-back
  rotad version
        print the version
`

// exitError carries a process exit status; the message, if any, has been
// printed already.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "rotad:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(rest, stderr)
	case "check-config":
		return checkConfig(rest, stdout, stderr)
	case "oncall":
		return onCall(rest, stdout, stderr)
	case "backup":
		return backup(rest, stdout, stderr)
	case "restore":
		return restore(rest, stdout, stderr)
	case "ical-token":
		return icalToken(rest, stdout, stderr)
	case "report":
		return report(rest, stdout, stderr)
	case "token":
		return token(rest, stdout, stderr)
	case "replay":
		return replayCmd(rest, stdout, stderr)
	case "export-alerts":
		return exportAlerts(rest, stdout, stderr)
	case "maintenance":
		return maintenance(rest, stdout, stderr)
	case "migrate-db":
		return migrateDB(rest, stdout, stderr)
	case "import":
		return importCmd(rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "rotad %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "rotad: unknown command %q\n\n%s", cmd, usage)
		return exitError{2}
	}
}

// newFlags returns a flag set that reports errors to stderr and returns
// them instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rotad "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and turns a flag error into exit status 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{0}
		}
		return exitError{2}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitError{2}
	}
	return nil
}

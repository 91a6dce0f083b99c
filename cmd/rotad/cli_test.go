package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/rotahq/rota/clocktest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/store"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	default:
		errb.WriteString(err.Error())
		code = 1
	}
	return out.String(), errb.String(), code
}

func TestCheckConfig(t *testing.T) {
	// Without their keys, the example's services cannot receive alerts:
	// rotad serves it (saying so), check-config fails it.
	for _, k := range []string{"ROTA_KEY_PAYMENTS_API", "ROTA_KEY_CHECKOUT_WEB", "ROTA_KEY_SEARCH_API"} {
		t.Setenv(k, "")
	}
	_, errOut, code := runCLI(t, "check-config", "../../config.example.toml")
	if code != 1 || !strings.Contains(errOut, "3 service(s) cannot receive alerts") ||
		!strings.Contains(errOut, "service payments-api cannot receive alerts: none of its integration keys is set") {
		t.Errorf("the example without keys: exit %d\n%s", code, errOut)
	}
	for _, k := range []string{"ROTA_KEY_PAYMENTS_API", "ROTA_KEY_CHECKOUT_WEB", "ROTA_KEY_SEARCH_API"} {
		t.Setenv(k, "check-config-test-key-"+k)
	}
	out, errOut, code := runCLI(t, "check-config", "../../config.example.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"OK: 11 people, 2 teams, 6 rotations, 1 schedule", "payments-secondary", "On call now", "1 off-hours in 182d"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, errOut, code = runCLI(t, "check-config", "../../config/testdata/invalid/everything-at-once.toml")
	if code != 2 || !strings.Contains(errOut, "10 problems") || !strings.Contains(errOut, "everything-at-once.toml:22: rotations[0].shift") {
		t.Errorf("invalid file: exit %d\n%s", code, errOut)
	}
	if _, _, code := runCLI(t, "check-config"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}

func TestOnCallCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "bruno", "chloe"`)
	dbPath := filepath.Join(dir, "rota.db")

	out, errOut, code := runCLI(t, "oncall", "--config", cfgPath, "--at", "2026-03-11T14:00:00Z")
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(errOut, "no database") {
		t.Fatalf("without a database: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Fatal("oncall created the database")
	}

	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = clocktest.Now
	start := time.Date(2026, 3, 11, 13, 0, 0, 0, time.UTC)
	if err := db.CreateOverride(context.Background(), &rota.Override{Rotation: "primary", Person: "chloe", Start: start, End: start.Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, _, code = runCLI(t, "oncall", "--config", cfgPath, "--at", "2026-03-11T14:00:00Z", "--rotation", "primary")
	if code != 0 || !strings.Contains(out, "chloe") || !strings.Contains(out, "override #1") || !strings.Contains(out, "Wed 11 Mar 14:00 CET") {
		t.Fatalf("with an override: exit %d\n%s", code, out)
	}
	if _, errOut, code := runCLI(t, "oncall", "--config", cfgPath, "--at", "soon"); code != 2 || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("bad --at: %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "oncall", "--config", cfgPath, "--rotation", "nope"); code != 2 || !strings.Contains(errOut, `no rotation named "nope"`) {
		t.Errorf("bad --rotation: %d %s", code, errOut)
	}

	backupPath := filepath.Join(dir, "backup.db")
	out, errOut, code = runCLI(t, "backup", "--config", cfgPath, "--out", backupPath)
	if code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: exit %d %s %s", code, out, errOut)
	}
	out, _, code = runCLI(t, "oncall", "--config", cfgPath, "--db", backupPath, "--at", "2026-03-11T14:00:00Z")
	if code != 0 || !strings.Contains(out, "override #1") {
		t.Fatalf("the backup lacks the override: %s", out)
	}
}

func TestUsage(t *testing.T) {
	if _, errOut, code := runCLI(t); code != 2 || !strings.Contains(errOut, "Usage:") {
		t.Errorf("no command: %d", code)
	}
	if _, errOut, code := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %s", code, errOut)
	}
	if out, _, code := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "rotad ") {
		t.Errorf("version: %d %s", code, out)
	}
	if _, errOut, code := runCLI(t, "serve"); code != 2 || !strings.Contains(errOut, "--config FILE is required") {
		t.Errorf("serve without config: %d %s", code, errOut)
	}
	if _, _, code := runCLI(t, "serve", "--nope"); code != 2 {
		t.Errorf("bad flag: %d", code)
	}
}

func TestCheckConfigCoverageGaps(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	start := clocktest.Now().UTC().AddDate(0, 0, 7).Format("2006-01-02")
	end := clocktest.Now().UTC().AddDate(0, 0, 9).Format("2006-01-02")
	body := strings.Replace(e2eConfig, `"MEMBERS"`, `"alice", "bruno"`, 1)
	for _, p := range []string{"alice", "bruno"} {
		body = strings.Replace(body, "name = \""+p+"\"\ntimezone = \"Europe/Berlin\"",
			"name = \""+p+"\"\ntimezone = \"Europe/Berlin\"\npto = [{ start = \""+start+"\", end = \""+end+"\" }]", 1)
	}
	if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "check-config", cfgPath)
	if code != 0 || !strings.Contains(out, "warning: coverage gap on primary from ") || !strings.Contains(out, "every member is on leave") {
		t.Errorf("exit %d:\n%s\n%s", code, out, errOut)
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "bruno", "chloe"`)
	db, err := store.Open(context.Background(), filepath.Join(dir, "rota.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = clocktest.Now
	now := clocktest.Now().UTC()
	for i := 0; i < 3; i++ {
		ev := rota.Event{Service: "api", Action: rota.ActionTrigger, DedupKey: fmt.Sprint(i), Summary: "disk full", Severity: "critical", Integration: "native"}
		a, _, err := db.TriggerAlert(context.Background(), &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
		if err != nil {
			t.Fatal(err)
		}
		db.RecordDeliveries(context.Background(), []rota.Delivery{{Outcome: rota.DeliverySent, At: now.Add(-time.Duration(i) * time.Hour),
			Page: &rota.Page{IncidentID: a.ID, Person: "bruno", Channel: "sms"}}}, nil)
	}
	db.Close()
	out, errOut, code := runCLI(t, "report", "--config", cfgPath, "--team", "payments", "--weeks", "2")
	if code != 0 || !strings.Contains(out, "Team payments") || !strings.Contains(out, "bruno   3") || !strings.Contains(out, "Alerts 0") {
		t.Errorf("exit %d:\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "report", "--config", cfgPath, "--team", "nope"); code != 2 || !strings.Contains(errOut, `no team named "nope"`) {
		t.Errorf("unknown team: %d %s", code, errOut)
	}
}

// TestReportCommandAcrossDST: across Sydney's, Berlin's and New York's
// changes, each person's pages land in their own local week: anna's three
// in the week after Berlin's change (the first at 00:30 on its Monday,
// still Sunday in UTC), ned's at 00:15 on New York's first Monday after
// its change, sia's at 00:10 on Sydney's.
func TestReportCommandAcrossDST(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	b, err := os.ReadFile("testdata/dst.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "rota.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = clocktest.Now
	for i, p := range []struct{ zone, at, person string }{
		{"Europe/Berlin", "2026-10-26 00:30", "anna"}, {"Europe/Berlin", "2026-10-28 14:00", "anna"}, {"Europe/Berlin", "2026-11-01 23:00", "anna"},
		{"America/New_York", "2026-11-02 00:15", "ned"}, {"Australia/Sydney", "2026-10-05 00:10", "sia"},
	} {
		loc, _ := time.LoadLocation(p.zone)
		at, _ := time.ParseInLocation("2006-01-02 15:04", p.at, loc)
		db.Now = func() time.Time { return at }
		ev := rota.Event{Service: "payments-api", Action: rota.ActionTrigger, DedupKey: fmt.Sprint(i), Summary: "disk full", Severity: "critical", Integration: "native"}
		a, _, err := db.TriggerAlert(context.Background(), &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
		if err != nil {
			t.Fatal(err)
		}
		db.RecordDeliveries(context.Background(), []rota.Delivery{{Outcome: rota.DeliverySent, At: at,
			Page: &rota.Page{IncidentID: a.ID, Person: p.person, Channel: "sms", Gap: 30 * time.Minute}}}, nil)
	}
	db.Close()
	out, errOut, code := runCLI(t, "report", "--config", cfgPath, "--team", "payments", "--to", "2026-11-05T12:00:00Z")
	// PERSON, PAGES, INCIDENTS, WEEKS OVER BUDGET (of 13, Thursday to
	// Thursday), WORST WEEK.
	for _, row := range []string{`anna\s+3\s+3\s+1 of 13\s+3\s`, `ned\s+1\s+1\s+0 of 13\s+1\s`, `sia\s+1\s+1\s+0 of 13\s+1\s`} {
		if code != 0 || !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("exit %d, no row %s:\n%s\n%s", code, row, out, errOut)
		}
	}
	if _, errOut, code := runCLI(t, "report", "--config", cfgPath, "--team", "payments", "--to", "yesterday"); code != 2 || !strings.Contains(errOut, "--to") {
		t.Errorf("bad --to: %d %s", code, errOut)
	}
}

func TestDigestText(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "bruno", "chloe"`)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Org.Team("payments").Digest != "0 9 * * 1" {
		t.Errorf("default digest: %q", cfg.Org.Team("payments").Digest)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "rota.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = clocktest.Now
	defer db.Close()
	now := clocktest.Now().UTC()
	for i := 0; i < 3; i++ {
		ev := rota.Event{Service: "api", Action: rota.ActionTrigger, DedupKey: fmt.Sprint(i), Summary: "disk full", Severity: "critical", Integration: "native"}
		a, _, _ := db.TriggerAlert(context.Background(), &ev, rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome { return rota.StepOutcome{} })
		db.RecordDeliveries(context.Background(), []rota.Delivery{{Outcome: rota.DeliverySent, At: now.Add(-time.Duration(i+1) * time.Hour),
			Page: &rota.Page{IncidentID: a.ID, Person: "bruno", Channel: "sms"}}}, nil)
	}
	text, err := digestText(context.Background(), db, cfg.Org, "payments", now.Add(time.Minute), "https://rota.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rota weekly digest for payments: ", "3 pages (budget 2 a person)", "Over budget: bruno (3 pages,", "Report: https://rota.example.com/reports/teams/payments"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q: %s", want, text)
		}
	}
}

// TestRestoreDoesNotRepage: a backup restored with rotad restore keeps
// what matters and does not send the past again: pending notifications
// older than --stale are cancelled, with a note; newer ones stay.
func TestRestoreDoesNotRepage(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "bruno", "chloe"`)
	src := filepath.Join(dir, "source.db")
	db, err := store.Open(context.Background(), src, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = clocktest.Now
	for i, created := range []time.Time{clocktest.Now().Add(-time.Hour), clocktest.Now()} {
		at := created
		db.Now = func() time.Time { return at }
		_, _, err := db.TriggerAlert(context.Background(), &rota.Event{Service: "api", DedupKey: fmt.Sprint(i), Summary: "disk full", Severity: "critical", Integration: "native"},
			rota.EscalationPolicy{}, func(*rota.Incident, time.Time) rota.StepOutcome {
				return rota.StepOutcome{Notifications: []rota.Notification{{Person: "alice", Channel: rota.ContactSMS, Address: "+4915112345001", Status: rota.NotifyPending}}}
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Now = clocktest.Now
	backupPath := filepath.Join(dir, "backup.db")
	if err := db.Backup(context.Background(), backupPath); err != nil {
		t.Fatal(err)
	}
	db.Close()
	target := filepath.Join(dir, "restored.db")
	out, errOut, code := runCLI(t, "restore", "--config", cfgPath, "--from", backupPath, "--db", target)
	if code != 0 || !strings.Contains(out, "1 pending notification(s) older than 15m0s cancelled, not sent") {
		t.Fatalf("restore: exit %d %s %s", code, out, errOut)
	}
	db, err = store.Open(context.Background(), target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, ns, _ := db.Timeline(context.Background(), 1)
	if len(ns) != 1 || ns[0].Status != rota.NotifyCancelled || !strings.Contains(events[len(events)-1].Message, "not sent: restored from a backup") {
		t.Errorf("the old page: %+v %+v", ns, events)
	}
	if _, ns, _ := db.Timeline(context.Background(), 2); len(ns) != 1 || ns[0].Status != rota.NotifyPending {
		t.Errorf("the new page: %+v", ns)
	}
	if _, errOut, code := runCLI(t, "restore", "--config", cfgPath, "--from", backupPath, "--db", target); code != 2 || !strings.Contains(errOut, "exists") {
		t.Errorf("over an existing database: %d %s", code, errOut)
	}
}

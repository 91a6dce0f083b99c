package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota/importer/pagerdutytest"
)

// fakePagerDuty serves PagerDuty's REST API from recorded answers shaped
// like the vendor's documented examples, /oncalls from its model of the
// schedule's layers.
func fakePagerDuty(t *testing.T) *pagerdutytest.Server {
	t.Helper()
	srv := pagerdutytest.NewServer("pd-read-only-key", map[string]string{
		"/users":                 "testdata/pagerduty/users.json",
		"/teams":                 "testdata/pagerduty/teams.json",
		"/teams/PQ9K7I8/members": "testdata/pagerduty/members-PQ9K7I8.json",
		"/schedules":             "testdata/pagerduty/schedules.json",
		"/schedules/PI7DH85":     "../../importer/testdata/pagerduty/schedule.json",
		"/escalation_policies":   "testdata/pagerduty/escalation_policies.json",
		"/services":              "testdata/pagerduty/services.json",
	})
	t.Cleanup(srv.Close)
	return srv
}

// TestImportPagerDuty: rotad import pagerduty reads the API with
// PagerDuty's Go client and writes a configuration check-config accepts —
// people with their phones in E.164, the team with its manager, the
// schedule's layers, the policy paging the schedule then a person, the
// service with the variable its key is read from — and a report naming
// each thing that did not carry over with the nearest rota setting. A
// saved export gives the same configuration; a bad key is refused.
func TestImportPagerDuty(t *testing.T) {
	pd := fakePagerDuty(t)
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("pd-read-only-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rota.toml")
	stdout, stderr, code := runCLI(t, "import", "pagerduty", "--api-url", pd.URL, "--token-file", token, "--out", out, "--save-dir", filepath.Join(dir, "export"))
	if code != 0 {
		t.Fatalf("import: %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("rotad import pagerduty said:\n%s", stdout)
	cfg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`name = "alice"`, `full_name = "Alice Martin"`, `contacts = [{ type = "email", address = "alice@example.com" }, { type = "voice", address = "+4915112345001" }, { type = "sms", address = "+4915112345001" }]`,
		`{ type = "sms", address = "+351912345002" }`,
		"[[teams]]\nname = \"payments\"\nmembers = [\"alice\", \"bruno\", \"chloe\", \"dana\"]\nmanagers = [\"dana\"]",
		`layers = ["payments-on-call-layer-1", "payments-on-call-weekday-daytime", "payments-on-call-weekend"]`,
		"repeat = 1\n  [[escalation_policies.steps]]\n  targets = [\"schedule:payments-on-call\"]\n  delay = \"5m\"\n  [[escalation_policies.steps]]\n  targets = [\"person:dana\"]\n  delay = \"10m\"",
		"name = \"payments-api\"\nteam = \"payments\"\nescalation_policy = \"payments\"\nintegration_keys = [{ env = \"ROTA_KEY_PAYMENTS_API\" }]",
		"# From PagerDuty schedule Payments On-Call (PI7DH85), layer \"Weekend\".",
	} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("the configuration lacks:\n%s\n---\n%s", want, cfg)
		}
	}
	for _, want := range []string{
		`contact method "push notification" (iPhone) has no rota equivalent`,
		"escalation policy \"Legacy\" (PLEGACY):\n  - step 1's target schedule_reference Old schedule (PGONE) was not imported",
		"service \"Old batch\" (PSVC2):\n  - its escalation policy Legacy (PLEGACY) was not imported (see above): the service is left out",
		"service \"Payments API\" (PSVC1):\n  - its urgency follows the service's support hours",
		`rota reads its own key from ROTA_KEY_PAYMENTS_API`,
		`notification rules`,
		`in a week the clocks change`,
		"user \"Chloe Dubois\" (PCHLOE):\n  - has no phone rota can page them on",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
	// Causes read before their effects: the policy left out before the
	// service that used it.
	if strings.Index(stdout, `escalation policy "Legacy"`) > strings.Index(stdout, `service "Old batch"`) {
		t.Errorf("the service left out reads before the policy that caused it:\n%s", stdout)
	}
	report, _ := os.ReadFile(filepath.Join(dir, "rota.report.txt"))
	if string(report) == "" || !strings.HasPrefix(stdout, string(report)) {
		t.Errorf("the report file:\n%s", report)
	}
	// check-config accepts it once the service's key is set.
	t.Setenv("ROTA_KEY_PAYMENTS_API", "a-key-for-the-payments-api-0000")
	if o, e, c := runCLI(t, "check-config", out); c != 0 {
		t.Errorf("check-config: %d\n%s%s", c, o, e)
	}
	// The saved export gives the same configuration.
	out2 := filepath.Join(dir, "again.toml")
	if o, e, c := runCLI(t, "import", "pagerduty", "--from-dir", filepath.Join(dir, "export"), "--out", out2); c != 0 {
		t.Fatalf("import --from-dir: %d\n%s%s", c, o, e)
	}
	if again, _ := os.ReadFile(out2); string(again) != string(cfg) {
		t.Errorf("--from-dir wrote another configuration:\n%s", again)
	}
	// A wrong key is refused, naming the API.
	os.WriteFile(token, []byte("wrong"), 0o600)
	if _, e, c := runCLI(t, "import", "pagerduty", "--api-url", pd.URL, "--token-file", token, "--out", filepath.Join(dir, "x.toml")); c == 0 || !strings.Contains(e, "reading "+pd.URL) {
		t.Errorf("a wrong key: %d %s", c, e)
	}
	if _, e, c := runCLI(t, "import", "nagios"); c != 2 || !strings.Contains(e, `unknown source "nagios"`) {
		t.Errorf("an unknown source: %d %s", c, e)
	}
}

// TestImportPagerDutyVerify: --verify asks PagerDuty's /oncalls who is on
// call on the imported schedule for the next 90 days and compares with
// rota hour by hour: a week before the spring-forward change, it finds no
// difference but the hour the report names; a difference planted in
// PagerDuty's answers is listed with both answers, and the exit status
// says so.
func TestImportPagerDutyVerify(t *testing.T) {
	t.Parallel() // it changes nothing of the process's
	pd := fakePagerDuty(t)
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("pd-read-only-key"), 0o600)
	// From 22 March 2026, a week before the change.
	from := "2026-03-22T12:00:00Z"
	out := filepath.Join(dir, "rota.toml")
	stdout, stderr, code := runCLI(t, "import", "pagerduty", "--api-url", pd.URL, "--token-file", token, "--out", out, "--verify", "--verify-from", from)
	// The one hour the report names (the weekend layer's restriction
	// across the change) is the one difference found.
	if code != 1 || !strings.Contains(stdout, "payments-on-call from Mon 30 Mar 2026 09:00 CEST to Mon 30 Mar 2026 10:00 CEST: PagerDuty has chloe on call, rota dana") ||
		!strings.Contains(stdout, "--verify: 1 hour of the next 90 days disagrees") {
		t.Fatalf("--verify: %d\n%s%s", code, stdout, stderr)
	}
	// A planted difference: PagerDuty says bruno for a day in April.
	planted := time.Date(2026, 4, 14, 0, 0, 0, 0, time.UTC)
	pd.Plant(func(_ string, at time.Time, u string) string {
		if !at.Before(planted) && at.Before(planted.Add(24*time.Hour)) {
			return "PBRUNO"
		}
		return u
	})
	stdout, _, code = runCLI(t, "import", "pagerduty", "--api-url", pd.URL, "--token-file", token, "--out", out, "--verify", "--verify-from", from, "--days", "60")
	if code != 1 || !strings.Contains(stdout, "PagerDuty has bruno on call, rota ") || !strings.Contains(stdout, "Tue 14 Apr 2026") {
		t.Errorf("the planted difference: %d\n%s", code, stdout)
	}
	// --verify-config compares with the configuration as edited since,
	// and writes nothing: a rotation turned by one disagrees everywhere.
	pd.Plant(nil)
	cfg, _ := os.ReadFile(out)
	edited := strings.Replace(string(cfg), `members = ["alice", "bruno", "chloe"]`, `members = ["bruno", "chloe", "alice"]`, 1)
	os.WriteFile(out, []byte(edited), 0o644)
	stdout, stderr, code = runCLI(t, "import", "pagerduty", "--api-url", pd.URL, "--token-file", token, "--verify-config", out, "--verify-from", from, "--days", "14")
	if code != 1 || !strings.Contains(stdout, "PagerDuty has alice on call, rota bruno") {
		t.Errorf("--verify-config with an edited rotation: %d\n%s%s", code, stdout, stderr)
	}
	if now, _ := os.ReadFile(out); string(now) != edited {
		t.Error("--verify-config rewrote the configuration")
	}
	if _, e, c := runCLI(t, "import", "pagerduty", "--api-url", pd.URL, "--token-file", token, "--out", out, "--verify", "--days", "400"); c != 2 || !strings.Contains(e, "--days 400") {
		t.Errorf("--days 400: %d %s", c, e)
	}
}

package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func noEnv(string) (string, bool) { return "", false }

// TestInvalid loads each file under testdata/invalid and compares every
// problem reported, at once, with its .golden file.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(file, data, "testdata/invalid", noEnv)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("got %v, want Problems", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".toml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./config -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
			for _, p := range ps {
				if p.File != file {
					t.Errorf("problem without the file name: %v", p)
				}
				if p.Line == 0 {
					t.Errorf("problem without a line: %v", p)
				}
			}
		})
	}
}

func TestExampleLoads(t *testing.T) {
	t.Setenv("ROTA_ADMIN_TOKEN", "an-admin-token-long-enough")
	t.Setenv("ROTA_KEY_PAYMENTS_API", "payments-api-key-0123456789")
	cfg, err := Load("../config.example.toml")
	if err != nil {
		t.Fatalf("the example configuration does not load:\n%v", err)
	}
	org := cfg.Org
	if len(org.Teams) < 2 || len(org.Rotations) < 3 {
		t.Errorf("the example should have two teams and a secondary rotation: %s", cfg.Summary())
	}
	zones := map[string]bool{}
	for _, p := range org.People {
		zones[p.Location.String()] = true
	}
	if len(zones) < 3 {
		t.Errorf("the example spans %d time zones, want at least 3", len(zones))
	}
	if cfg.Server.AdminToken != "an-admin-token-long-enough" {
		t.Errorf("admin token not read from the environment")
	}
	if !filepath.IsAbs(cfg.Server.Database) || !strings.HasSuffix(cfg.Server.Database, filepath.Join("data", "rota.db")) {
		t.Errorf("database path %q not resolved against the config file", cfg.Server.Database)
	}
	svc := org.Service("payments-api")
	if len(svc.IntegrationKeys) != 1 || svc.IntegrationKeys[0].Value != "payments-api-key-0123456789" {
		t.Errorf("integration key not resolved: %+v", svc.IntegrationKeys)
	}
	if len(org.Service("search-api").IntegrationKeys) != 0 {
		t.Errorf("unset key variable should disable the key")
	}
	// Defaults and inheritance.
	sec := org.Rotation("payments-secondary")
	if sec.ShiftDays != 7 || sec.Handoff != rota.DefaultHandoff || sec.Location.String() != "Europe/Berlin" {
		t.Errorf("secondary rotation defaults: %+v", sec)
	}
	if c := org.Person("chloe"); c.Location.String() != "Europe/Berlin" {
		t.Errorf("chloe did not inherit her team's zone: %v", c.Location)
	}
	if d := org.Person("dmitri"); d.Hours.Days[time.Friday] || d.Hours.Start != 8*60 {
		t.Errorf("dmitri's own hours not used: %v", d.Hours)
	}
	if a := org.Person("alice"); len(a.Hours.Holidays) != 3 {
		t.Errorf("alice did not inherit the team's holidays: %v", a.Hours)
	}
	if s := org.Team("search").SLO; s != rota.DefaultHumanSLO() {
		t.Errorf("default SLO: %+v", s)
	}
	p := org.Policy("payments")
	if p.Repeat != 1 || len(p.Steps) != 2 || p.Steps[0].Targets[0].Name != "payments-primary" || p.Steps[1].Delay != 10*time.Minute {
		t.Errorf("payments policy: %+v", p)
	}
	// Deploy authors first, alone for a short grace, from the team only.
	if s := org.Service("payments-api"); s.DeployRouting != rota.DeployAuthorFirst || s.DeployGrace != 3*time.Minute || s.DeployAuthors != rota.DeployAuthorsTeam {
		t.Errorf("payments-api's deploy routing: %s, grace %s, authors %s", s.DeployRouting, s.DeployGrace, s.DeployAuthors)
	}
}

func TestWarnings(t *testing.T) {
	cfg, err := Load("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, w := range cfg.Warnings {
		text = append(text, w.String())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"no admin token is set (env:ROTA_ADMIN_TOKEN): automation has no admin token (people act by signing in or with personal tokens)",
		"services[2].integration_keys[0].env: environment variable ROTA_KEY_SEARCH_API is not set",
		"teams[0]: team payments's managers are reached only through the log notifier (email needs [smtp]): burn notices will be written to rotad's log, not sent",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "key"), []byte("file-key-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "admin"), []byte("admin-token-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := []byte(`
[server]
admin_token_file = "admin"
[[people]]
name = "a"
timezone = "UTC"
[[teams]]
name = "t"
members = ["a"]
timezone = "UTC"
[[rotations]]
name = "r"
team = "t"
members = ["a"]
start = 2026-01-06
[[escalation_policies]]
name = "p"
steps = [{ targets = ["rotation:r"] }]
[[services]]
name = "s"
team = "t"
escalation_policy = "p"
integration_keys = [{ file = "key" }]
`)
	cfg, err := Parse("x.toml", data, dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Org.Service("s").IntegrationKeys; len(got) != 1 || got[0].Value != "file-key-0123456789abcdef" || got[0].Source != "file:"+filepath.Join(dir, "key") {
		t.Errorf("key from file: %+v", got)
	}
	if cfg.Server.AdminToken != "admin-token-from-a-file" {
		t.Errorf("admin token from file: %q", cfg.Server.AdminToken)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.toml")
	if err == nil || err.Error() != "testdata/nope.toml: no such file" {
		t.Fatalf("got %v", err)
	}
}

func TestPositions(t *testing.T) {
	data := []byte(`a = 1
[server]
listen = "x"

[[people]]
name = "p0"
[[people]]
name = "p1"
contacts = [
  { type = "sms" },
  { type = "voice",
    address = "+1" },
]
  [[people.contacts]]
  type = "x"
  [people.business_hours]
  days = ["mon"]
[[people]]
name = "p2"
`)
	ps := indexPositions(data)
	for path, line := range map[string]int{
		"a": 1, "server": 2, "server.listen": 3, "people[0]": 5, "people[0].name": 6,
		"people[1].name": 8, "people[1].contacts[0].type": 10, "people[1].contacts[1]": 11,
		"people[1].contacts[1].address": 12, "people[1].business_hours.days": 17,
		"people[2].name": 19, "people[2].timezone": 18,
	} {
		if got := ps.line(path); got != line {
			t.Errorf("line(%q) = %d, want %d", path, got, line)
		}
	}
}

func TestParseDurationForms(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1w": 7 * 24 * time.Hour, "182d": 182 * 24 * time.Hour, "2d12h": 60 * time.Hour, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute,
	} {
		got, err := rota.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1 week", "w", "-1d", "1y"} {
		if _, err := rota.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestMetricsToken(t *testing.T) {
	base := "[server]\nmetrics_token = { env = \"M\" }\n[[people]]\nname = \"a\"\ntimezone = \"UTC\"\n"
	cfg, err := Parse("m.toml", []byte(base), "", func(k string) (string, bool) { return "metrics-token-0123456789", k == "M" })
	if err != nil || !cfg.Server.MetricsTokenSet || cfg.Server.MetricsToken != "metrics-token-0123456789" {
		t.Fatalf("set: %+v %v", cfg, err)
	}
	cfg, err = Parse("m.toml", []byte(base), "", func(string) (string, bool) { return "", false })
	if err != nil || !cfg.Server.MetricsTokenSet || cfg.Server.MetricsToken != "" {
		t.Fatalf("unset: %+v %v", cfg, err)
	}
	if cfg, err := Parse("m.toml", []byte("[[people]]\nname = \"a\"\ntimezone = \"UTC\"\n"), "", func(string) (string, bool) { return "", false }); err != nil || cfg.Server.MetricsTokenSet {
		t.Fatalf("absent: %v", err)
	}
}

func TestPostgresDatabase(t *testing.T) {
	env := map[string]string{"PGPASS": "s3cret/with@chars"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := Parse("pg.toml", []byte(`[server]
database = "postgres://rota@db.example.com:5432/rota?sslmode=require"
database_password = { env = "PGPASS" }
`), t.TempDir(), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://rota:s3cret%2Fwith%40chars@db.example.com:5432/rota?sslmode=require"; cfg.Server.Database != want {
		t.Errorf("database %q, want %q", cfg.Server.Database, want)
	}
	for _, tt := range []struct{ file, want string }{
		{"[server]\ndatabase = \"postgres://rota:hunter2@db/rota\"\n", "pg.toml:2: server.database: the URL holds a password"},
		{"[server]\ndatabase = \"postgres://db\"\n", "names no database"},
		{"[server]\ndatabase = \"rota.db\"\ndatabase_password = { env = \"PGPASS\" }\n", "is for a PostgreSQL database"},
		{"[server]\ndatabase = \"postgres://rota@db/rota\"\ndatabase_password = { env = \"NOPE\" }\n", "the database password is not set (env:NOPE)"},
	} {
		_, err := Parse("pg.toml", []byte(tt.file), t.TempDir(), lookup)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.file, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// TestSchedulesAndRestrictions: restrictions, bare daily handoffs,
// shadows following what they shadow, and schedules of layers.
func TestSchedulesAndRestrictions(t *testing.T) {
	cfg, err := Parse("s.toml", []byte(`
[[people]]
name = "a"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345001" }]
[[people]]
name = "b"
timezone = "America/New_York"
contacts = [{ type = "sms", address = "+12125550102" }]
[[teams]]
name = "t"
members = ["a", "b"]
timezone = "Europe/Berlin"
[[rotations]]
name = "eu"
team = "t"
members = ["a"]
shift = "1d"
handoff = "10:00"
start = 2026-01-05
active = ["mon-fri 08:00-20:00", "sat,sun 10:00-14:00"]
[[rotations]]
name = "us"
team = "t"
members = ["b"]
timezone = "America/New_York"
handoff = "wednesday 09:00"
shift = "1w"
start = 2026-01-05
[[rotations]]
name = "us-shadow"
team = "t"
members = ["a"]
start = 2026-01-05
shadow_of = "us"
[[schedules]]
name = "fts"
team = "t"
layers = ["us", "eu"]
[[escalation_policies]]
name = "p"
steps = [{ targets = ["schedule:fts"] }]
`), t.TempDir(), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	eu, shadow, fts := cfg.Org.Rotation("eu"), cfg.Org.Rotation("us-shadow"), cfg.Org.Rotation("fts")
	if !eu.Handoff.AnyDay || eu.Handoff.Time != 10*60 || len(eu.Active) != 2 || eu.Active[1].String() != "sat,sun 10:00-14:00" {
		t.Errorf("eu: %+v", eu)
	}
	if shadow.Handoff.String() != "wednesday 09:00" || shadow.Location.String() != "America/New_York" || shadow.Start.Location().String() != "America/New_York" {
		t.Errorf("the shadow does not follow us: %s %s", shadow.Handoff, shadow.Location)
	}
	if !fts.IsSchedule() || strings.Join(fts.Layers, ",") != "us,eu" || strings.Join(fts.Members, ",") != "b,a" || fts.Location.String() != "Europe/Berlin" {
		t.Errorf("fts: %+v", fts)
	}
	if tg := cfg.Org.Policy("p").Steps[0].Targets[0]; tg.Kind != rota.TargetRotation || tg.Name != "fts" {
		t.Errorf("schedule target: %+v", tg)
	}
}

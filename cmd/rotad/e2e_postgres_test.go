package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota/store/pgtest"
)

// TestDaemonOnPostgres: rotad on PostgreSQL (server.database a URL, its
// password kept out of the file): an alert pages at once; killed with -9
// and restarted, it runs the next step on time; rotad backup runs
// pg_dump, and rotad restore says how to restore with pg_restore.
func TestDaemonOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad on PostgreSQL")
	}
	dsn := pgtest.DSN(t)
	rec, cfgPath, env := pagingSetup(t)
	cfg, _ := os.ReadFile(cfgPath)
	cfg = []byte(strings.Replace(string(cfg), `database = "rota.db"`, `database = "`+dsn+`"`, 1))
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfgPath, env...)
	if !strings.Contains(d.dump(), `"database":"postgres://rota@127.0.0.1`) {
		t.Errorf("not started on PostgreSQL:\n%s", d.dump())
	}
	status, body := d.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"checkout 5xx","severity":"critical","dedup_key":"k1"}`)
	if status != 202 {
		t.Fatalf("alert: %d %v", status, body)
	}
	posted := time.Now()
	rec.waitFor(t, "alice", 1, 5*time.Second)
	// Recorded as sent, then killed before the next step (4s).
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, inc := d.request("GET", "/api/v1/incidents/1", "")
		if ns, _ := inc["notifications"].([]any); len(ns) == 1 && ns[0].(map[string]any)["status"] == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page was never recorded as sent")
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.cmd.Process.Kill()
	<-d.done
	d2 := startDaemon(t, cfgPath, env...)
	got := rec.waitFor(t, "bruno", 1, 10*time.Second)
	if late := got[0].at.Sub(posted.Add(4 * time.Second)); late > 2*time.Second {
		t.Errorf("the second step came %s late", late)
	}
	if n := len(rec.to("alice")); n != 1 {
		t.Errorf("alice was paged %d times, want once", n)
	}
	if status, inc := d2.request("GET", "/api/v1/incidents/1", ""); status != 200 || inc["status"] != "triggered" {
		t.Errorf("incident after restart: %d %v", status, inc)
	}

	if _, err := exec.LookPath("pg_dump"); err == nil {
		out := filepath.Join(t.TempDir(), "rota.dump")
		stdout, stderr, code := runCLI(t, "backup", "--config", cfgPath, "--out", out)
		if code != 0 || !strings.Contains(stdout, "with pg_dump") {
			t.Errorf("backup: %d %s %s", code, stdout, stderr)
		}
		if st, err := os.Stat(out); err != nil || st.Size() < 1000 {
			t.Errorf("no dump: %v", err)
		}
	}
	if _, stderr, code := runCLI(t, "restore", "--config", cfgPath, "--from", "x.dump"); code != 2 || !strings.Contains(stderr, "pg_restore") {
		t.Errorf("restore on PostgreSQL: %d %s", code, stderr)
	}
}

// TestMigrateDB: rotad migrate-db copies a daemon's SQLite database into
// PostgreSQL, and a daemon started on the copy finds what happened.
func TestMigrateDB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	rec, cfgPath, env := pagingSetup(t)
	d := startDaemon(t, cfgPath, env...)
	status, body := d.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"checkout 5xx","severity":"critical","dedup_key":"k1"}`)
	if status != 202 {
		t.Fatalf("alert: %d %v", status, body)
	}
	rec.waitFor(t, "alice", 1, 5*time.Second)
	if status, _ := d.request("POST", "/api/v1/incidents/1/ack", ""); status != 200 {
		t.Fatalf("ack: %d", status)
	}
	d.cmd.Process.Kill()
	<-d.done
	dsn := pgtest.DSN(t)
	stdout, stderr, code := runCLI(t, "migrate-db", "--from", "sqlite:"+filepath.Join(filepath.Dir(cfgPath), "rota.db"), "--to", dsn)
	if code != 0 || !strings.Contains(stdout, "every row read back the same") || !regexp.MustCompile(`incidents\s+1\s+1\s+same`).MatchString(stdout) {
		t.Fatalf("migrate-db: %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "migrate-db", "--from", "sqlite:"+filepath.Join(filepath.Dir(cfgPath), "rota.db"), "--to", dsn); code == 0 || !strings.Contains(stderr, "not empty") {
		t.Errorf("a second copy: %d %s", code, stderr)
	}
	cfg, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), `database = "rota.db"`, `database = "`+dsn+`"`, 1)), 0o644)
	d2 := startDaemon(t, cfgPath, env...)
	if status, inc := d2.request("GET", "/api/v1/incidents/1", ""); status != 200 || inc["status"] != "acknowledged" || inc["acknowledged_by"] != "admin (token)" {
		t.Errorf("the incident on PostgreSQL: %d %v", status, inc)
	}
	status, body = d2.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"again","severity":"critical","dedup_key":"k2"}`)
	// The alert ids go on from the copy's; it joins the open incident.
	if status != 202 || body["alert_id"].(float64) != 2 || body["incident_id"].(float64) != 1 {
		t.Errorf("a new alert on PostgreSQL: %d %v", status, body)
	}
}

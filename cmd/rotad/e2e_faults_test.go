package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rotahq/rota/store/pgtest"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rotahq/rota/paging/notify/twilio/twiliotest"
)

// TestDiskFullSendsNoSMSTwice: the disk of rotad's SQLite file fills up
// while an SMS is on its way to Twilio. The SMS goes out; its record
// cannot be written; alerts posted meanwhile are refused with 503. The
// send is held, not sent again, past the claim's lease, until the disk
// has room: then it is recorded, and alice had one SMS.
func TestDiskFullSendsNoSMSTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	// Mostly waiting (paced by real time): it runs beside the others of
	// its kind (t.Parallel), which is also a busy machine for each.
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small filesystem to fill needs root")
	}
	disk := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(disk, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", disk).Run() })

	fake := twiliotest.NewServer(e2eTwilioSID, e2eTwilioToken)
	defer fake.Close()
	// Twilio takes the SMS only when the test says so: by then the disk
	// is full.
	arrived, release := make(chan struct{}, 16), make(chan struct{})
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		fake.Config.Handler.ServeHTTP(w, r)
	}))
	defer twilio.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	cfg := strings.NewReplacer("FAKE", twilio.URL, `database = "rota.db"`, fmt.Sprintf("database = %q", filepath.Join(disk, "rota.db"))).Replace(twilioE2EConfig)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfgPath, "KEY="+serviceKey, "WEB_KEY="+webKey, "TWILIO_ACCOUNT_SID="+e2eTwilioSID, "TWILIO_AUTH_TOKEN="+e2eTwilioToken)
	if status, body := d.requestAs(webKey, "POST", "/api/v1/alerts", `{"summary":"web down","severity":"critical","dedup_key":"w"}`); status != 202 {
		t.Fatalf("post: %d %v", status, body)
	}
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no SMS reached Twilio")
	}
	// rotad checkpoints as it goes, so its write-ahead log is reused from
	// its start, and a small record could fit in the log file's old
	// length: then nothing would fail. Here the log is written to its end
	// (a row larger than the log was), and a reader then holds a snapshot
	// in it, so that the log cannot start over: every commit needs room
	// that the full disk does not have. The snapshot is in the log because
	// this process wrote last, which wakes no checkpointer.
	reader, err := sql.Open("sqlite", "file:"+filepath.Join(disk, "rota.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	wal, err := os.Stat(filepath.Join(disk, "rota.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Exec("INSERT INTO done_once (key, at_ms) VALUES (?, 0)", strings.Repeat("x", int(wal.Size())+256<<10)); err != nil {
		t.Fatal(err)
	}
	snapshot, err := reader.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var incidents int
	if err := snapshot.QueryRow("SELECT COUNT(*) FROM incidents").Scan(&incidents); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(disk, "filler")
	fill(t, filler)
	close(release)
	held := d.waitLog("sent, but the store cannot record it: held (not sent again) while recording is retried", 20*time.Second)
	heldAt, _ := time.Parse(time.RFC3339Nano, held["time"].(string))

	// Meanwhile alerts are refused, so that their senders keep them.
	for i := range 5 {
		status, body := d.requestAs(serviceKey, "POST", "/api/v1/alerts", fmt.Sprintf(`{"summary":"while full %d","severity":"critical","dedup_key":"f%d"}`, i, i))
		if status != 503 {
			t.Errorf("an alert while the disk is full: %d %v", status, body)
		}
	}
	// Past the claim's lease (10 s), by the daemon's own log (the engine
	// says each round that the store fails), the disk still full.
	d.waitLogAt(heldAt.Add(12*time.Second), 30*time.Second)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	snapshot.Rollback()
	// Recorded (by the held send, or, were it lost, by a second one):
	// the record is retried at most 5 s apart.
	d.waitLog("recorded sends held since the store failed", 30*time.Second)
	waitSent(t, d, 1, 1)
	n := 0
	for _, r := range fake.Requests() {
		if r.To == "+4915112345003" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("carol had %d SMS for one page", n)
	}
}

// waitLogAt waits for a log line written at or after at, by the daemon's
// clock.
func (d *daemon) waitLogAt(at time.Time, timeout time.Duration) {
	d.t.Helper()
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		for _, l := range d.logs {
			if s, ok := l["time"].(string); ok {
				if ts, err := time.Parse(time.RFC3339Nano, s); err == nil && !ts.Before(at) {
					d.mu.Unlock()
					return
				}
			}
		}
		d.mu.Unlock()
		select {
		case <-d.added:
		case <-d.done:
			d.t.Fatalf("rotad exited while waiting for a line at %s", at)
		case <-deadline:
			d.t.Fatalf("no log line at or after %s within %s", at.Format(time.RFC3339Nano), timeout)
		}
	}
}

// fill writes path until the filesystem has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

// faultConfig: every alert is an incident of its own that pages alice
// by webhook at once.
const faultConfig = `
[server]
listen = "127.0.0.1:0"
database = "DSN"
[log]
format = "json"
[paging]
rate_limit = "1s"
[[people]]
name = "alice"
timezone = "UTC"
contacts = [{ type = "webhook", address = "RECEIVER/alice", updates = false }]
[[teams]]
name = "payments"
members = ["alice"]
timezone = "UTC"
slo = { pages_per_week = 100000, interruption_gap = "1s" }
[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06
[[escalation_policies]]
name = "default"
steps = [{ targets = ["rotation:primary"], delay = "1h" }]
[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY" }]
group = "off"
`

// faultSetup starts a PostgreSQL cluster of the test's own (to restart,
// stop and pause; stopped when t ends) and writes faultConfig on it, its
// webhooks going to a new receiver.
func faultSetup(t *testing.T) (*pgtest.Cluster, *receiver, string) {
	t.Helper()
	c, err := pgtest.Start()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("PostgreSQL: %v", err)
	}
	t.Cleanup(c.Stop)
	rec := newReceiver(t)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.NewReplacer("DSN", c.URL("rota"), "RECEIVER", rec.srv.URL).Replace(faultConfig)), 0o644); err != nil {
		t.Fatal(err)
	}
	return c, rec, cfgPath
}

// TestDatabaseFaultsUnderLoad: three daemons on one PostgreSQL take
// alerts round-robin while the database is restarted, stopped (30 s,
// ROTA_TEST_DB_STOP) and hung with SIGSTOP (20 s, ROTA_TEST_DB_HANG).
// Clients get 202 or 503 with Retry-After, never a wait past 10 s;
// every alert accepted pages alice; pages resume within 10 s of the
// database's return; no daemon is restarted, and none dies.
func TestDatabaseFaultsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three rotad processes on a PostgreSQL it stops")
	}
	// Mostly waiting (paced by real time): it runs beside the others of
	// its kind (t.Parallel), which is also a busy machine for each.
	t.Parallel()
	stopFor, hangFor := envDuration(t, "ROTA_TEST_DB_STOP", 30*time.Second), envDuration(t, "ROTA_TEST_DB_HANG", 20*time.Second)
	c, rec, cfgPath := faultSetup(t)
	var daemons []*daemon
	for range 3 {
		daemons = append(daemons, startDaemon(t, cfgPath, "KEY="+serviceKey))
	}
	defer func() {
		if t.Failed() {
			for i, d := range daemons {
				for _, line := range strings.Split(d.dump(), "\n") {
					if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
						t.Logf("daemon %d: %s", i, line)
					}
				}
			}
		}
	}()

	type answer struct {
		status     int
		retryAfter bool
		id         int64
		sent, took time.Duration // since the start
	}
	began := time.Now()
	var mu sync.Mutex
	var answers []answer
	stop := make(chan struct{})
	var posting sync.WaitGroup
	client := &http.Client{Timeout: 15 * time.Second}
	// Four clients, each posting as soon as its last answer came (at
	// most twenty a second between them).
	for w := range 4 {
		posting.Add(1)
		go func() {
			defer posting.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				d := daemons[(w+n)%3]
				req, _ := http.NewRequest("POST", "http://"+d.addr+"/api/v1/alerts", strings.NewReader(fmt.Sprintf(`{"summary":"fault %d-%d","severity":"critical","dedup_key":"f%d-%d"}`, w, n, w, n)))
				req.Header.Set("Authorization", "Bearer "+serviceKey)
				sent := time.Since(began)
				res, err := client.Do(req)
				a := answer{sent: sent, took: time.Since(began) - sent}
				if err != nil {
					t.Errorf("a post at %s got no answer in %s: %v", sent.Round(time.Millisecond), a.took.Round(time.Millisecond), err)
					continue
				}
				var body struct {
					IncidentID int64 `json:"incident_id"`
				}
				json.NewDecoder(res.Body).Decode(&body)
				res.Body.Close()
				a.status, a.retryAfter, a.id = res.StatusCode, res.Header.Get("Retry-After") != "", body.IncidentID
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		}()
	}
	// resumed waits until an alert accepted after back has paged alice,
	// and says how long after back that was.
	resumed := func(fault string, back time.Time) {
		t.Helper()
		for deadline := back.Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			var after []int64
			for _, a := range answers {
				if a.status == 202 && began.Add(a.sent).After(back) {
					after = append(after, a.id)
				}
			}
			mu.Unlock()
			for _, m := range rec.to("alice") {
				for _, id := range m.alerts {
					if slices.Contains(after, id) {
						if lag := m.at.Sub(back); lag > 10*time.Second {
							t.Errorf("after the %s, pages resumed %s after the database was back", fault, lag.Round(time.Millisecond))
						} else {
							t.Logf("after the %s, pages resumed %s after the database was back", fault, lag.Round(time.Millisecond))
						}
						return
					}
				}
			}
		}
		t.Errorf("after the %s, no page within 30 s of the database's return", fault)
	}

	time.Sleep(3 * time.Second) // the load before any fault: pacing, not a wait
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	resumed("restart", time.Now())

	if err := c.StopServer(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(stopFor) // the outage itself
	if err := c.StartServer(); err != nil {
		t.Fatal(err)
	}
	resumed(fmt.Sprintf("%s stop", stopFor), time.Now())

	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(hangFor) // the hang itself
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed(fmt.Sprintf("%s hang", hangFor), time.Now())
	close(stop)
	posting.Wait()

	// Every answer was 202, or 503 with Retry-After, within 10 s; every
	// alert accepted paged alice.
	counts := map[int]int{}
	var slowest time.Duration
	var accepted []int64
	for _, a := range answers {
		counts[a.status]++
		slowest = max(slowest, a.took)
		switch {
		case a.took > 10*time.Second:
			t.Errorf("a post at %s was answered %d after %s", a.sent.Round(time.Millisecond), a.status, a.took.Round(time.Millisecond))
		case a.status == 202:
			accepted = append(accepted, a.id)
		case a.status == 503 && a.retryAfter:
		default:
			t.Errorf("a post at %s was answered %d (Retry-After: %v)", a.sent.Round(time.Millisecond), a.status, a.retryAfter)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		reached := map[int64]bool{}
		for _, m := range rec.to("alice") {
			for _, id := range m.alerts {
				reached[id] = true
			}
		}
		var missing []int64
		for _, id := range accepted {
			if !reached[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d of %d accepted alerts never paged alice: %v", len(missing), len(accepted), missing)
			break
		}
	}
	for i, d := range daemons {
		select {
		case <-d.done:
			t.Errorf("daemon %d died: %v", i, d.waitErr)
		default:
		}
	}
	t.Logf("answers %v; slowest %s; %d accepted", counts, slowest.Round(time.Millisecond), len(accepted))
}

// envDuration reads a duration from the environment, or def.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// TestStopWhileDatabaseHangs: SIGTERM stops a daemon within its drain
// deadline (shutdownGrace and drainMore) while its PostgreSQL hangs
// (SIGSTOP) with requests and writes under way.
func TestStopWhileDatabaseHangs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs rotad on a PostgreSQL it hangs")
	}
	t.Parallel()
	c, rec, cfgPath := faultSetup(t)
	d := startDaemon(t, cfgPath, "KEY="+serviceKey)
	if status, _ := d.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"before","severity":"critical"}`); status != 202 {
		t.Fatalf("before the hang: %d", status)
	}
	rec.waitFor(t, "alice", 1, 10*time.Second)
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	defer c.Resume() // before Stop, which cannot stop a paused server
	// Requests under way into the hung database.
	for i := range 4 {
		go func() {
			req, _ := http.NewRequest("POST", "http://"+d.addr+"/api/v1/alerts", strings.NewReader(fmt.Sprintf(`{"summary":"during %d","severity":"critical"}`, i)))
			req.Header.Set("Authorization", "Bearer "+serviceKey)
			if res, err := (&http.Client{Timeout: 40 * time.Second}).Do(req); err == nil {
				res.Body.Close()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // let them reach the daemon: pacing, not a wait
	stopped := time.Now()
	d.signal(syscall.SIGTERM)
	select {
	case <-d.done:
		t.Logf("stopped %s after SIGTERM with the database hung", time.Since(stopped).Round(time.Millisecond))
		if d.waitErr != nil {
			t.Errorf("rotad exited with %v: stopped by its drain deadline's watchdog, not by itself", d.waitErr)
		}
	case <-time.After(shutdownGrace + drainMore + 5*time.Second):
		t.Fatalf("still running %s after SIGTERM with the database hung", shutdownGrace+drainMore+5*time.Second)
	}
}

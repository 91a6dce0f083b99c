package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/rotahq/rota/clocktest"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/pgtest"
)

// clusterConfig is three daemons' one configuration: each alert is an
// incident of its own that pages alice at once and bruno 4 s later; the
// managers' digest goes out every minute; carol is reminded of a shift
// that starts during the test (HANDOFF, in UTC).
const clusterConfig = `
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
contacts = [{ type = "webhook", address = "RECEIVER/alice" }]
[[people]]
name = "bruno"
timezone = "UTC"
contacts = [{ type = "webhook", address = "RECEIVER/bruno" }]
[[people]]
name = "carol"
timezone = "UTC"
contacts = [{ type = "webhook", address = "RECEIVER/carol" }]
[[people]]
name = "mgr"
timezone = "UTC"
contacts = [{ type = "webhook", address = "RECEIVER/mgr" }]
[[teams]]
name = "payments"
members = ["alice", "bruno", "carol"]
managers = ["mgr"]
timezone = "UTC"
digest = "* * * * *"
slo = { pages_per_week = 1000, interruption_gap = "1s" }
[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06
[[rotations]]
name = "handover"
team = "payments"
members = ["carol", "bruno"]
handoff = "HANDOFF"
timezone = "UTC"
start = 2026-01-05
handover_reminder = "2m"
[[escalation_policies]]
name = "default"
  [[escalation_policies.steps]]
  targets = ["rotation:primary"]
  delay = "4s"
  [[escalation_policies.steps]]
  targets = ["person:bruno"]
  delay = "10m"
SERVICES`

// clusterServices is the storm's few services: alerts go round-robin over
// them, so that every daemon's committers take the same services' locks.
const clusterServices = 20

// servicesConfig declares n services, service i's key in KEYi.
func servicesConfig(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[[services]]\nname = \"svc%d\"\nteam = \"payments\"\nescalation_policy = \"default\"\nintegration_keys = [{ env = \"KEY%d\" }]\ngroup = \"off\"\n", i, i)
	}
	return b.String()
}

// TestThreeDaemonsOnePostgres: three rotad processes on one PostgreSQL
// database; alerts are posted round-robin over 20 services at a steady rate while one
// daemon at a time is killed -9 and restarted. No accepted alert is lost;
// each step's notifications are sent once (a copy is allowed only of one
// in flight at a kill); no step runs more than 5 s after it is due; each
// digest and each handover reminder goes out once; PostgreSQL finds no
// deadlock.
func TestThreeDaemonsOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three rotad processes on PostgreSQL")
	}
	dsn := pgtest.DSN(t)
	rec := newReceiver(t)
	// The daemons' clock is set so that a minute's tick (a digest, the
	// reminder) comes 30 s after they start, rather than waiting for one
	// on the wall clock: the daemons must be up at that tick, and they
	// start slowly on a loaded machine. Every daemon, restarted ones too,
	// reads the same clock.
	start := time.Now()
	nextMinute := clocktest.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	shift := nextMinute.Add(-30 * time.Second).Sub(start)
	daemonNow := func() time.Time { return time.Now().Add(shift).UTC() }
	handoff := nextMinute.Add(time.Minute) // reminded at nextMinute's tick
	cfg := strings.NewReplacer("DSN", dsn, "RECEIVER", rec.srv.URL, "SERVICES", servicesConfig(clusterServices),
		"HANDOFF", strings.ToLower(handoff.Weekday().String())+" "+handoff.Format("15:04")).Replace(clusterConfig)
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{clocktest.DaemonOffsetEnv + "=" + shift.String()}
	for i := range clusterServices {
		env = append(env, fmt.Sprintf("KEY%d=%s-%d", i, serviceKey, i))
	}
	var mu sync.Mutex
	daemons := make([]*daemon, 3)
	var all []*daemon // every daemon started, for the logs of a failure
	for i := range daemons {
		daemons[i] = startDaemon(t, cfgPath, env...)
		all = append(all, daemons[i])
	}
	defer func() {
		if !t.Failed() {
			return
		}
		for i, d := range all {
			for _, line := range strings.Split(d.dump(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) && !strings.Contains(line, "config warning") {
					t.Logf("daemon %d: %s", i, line)
				}
			}
		}
	}()
	// Run past the next minute's tick (a digest, the reminder), at least 30 s.
	until := nextMinute.Add(8 * time.Second)

	type accepted struct {
		id int64
		at time.Time
	}
	var got []accepted
	var kills []time.Time
	done := make(chan struct{})
	go func() { // the killer: three times, one daemon at a time, 6 s apart
		defer close(done)
		for i := 0; i < 3; i++ {
			time.Sleep(6 * time.Second) // the scenario's pace, not a wait
			mu.Lock()
			d := daemons[i%3]
			daemons[i%3] = nil
			mu.Unlock()
			d.cmd.Process.Kill()
			<-d.done
			kills = append(kills, time.Now())
			time.Sleep(time.Second) // down a moment before it is back: pacing
			nd := startDaemon(t, cfgPath, env...)
			mu.Lock()
			daemons[i%3] = nd
			all = append(all, nd)
			mu.Unlock()
		}
	}()
	// The poster: four alerts a second, round-robin over the live daemons,
	// until the kills are over and the time is up; an alert counts when a
	// daemon answered 202.
	killed := false
	for n := 0; !killed || daemonNow().Before(until); n++ {
		select {
		case <-done:
			killed = true
		default:
		}
		mu.Lock()
		d := daemons[n%3]
		mu.Unlock()
		if d != nil {
			status, body := d.requestAsMaybe(fmt.Sprintf("%s-%d", serviceKey, n%clusterServices), "POST", "/api/v1/alerts", fmt.Sprintf(`{"summary":"alert %d","severity":"critical","dedup_key":"k%d"}`, n, n))
			if status == 202 {
				got = append(got, accepted{int64(body["incident_id"].(float64)), time.Now()})
			}
		}
		time.Sleep(250 * time.Millisecond) // four alerts a second: pacing
	}
	posted := time.Now()
	if len(got) < 20 || len(kills) != 3 {
		t.Fatalf("only %d alerts accepted and %d kills", len(got), len(kills))
	}
	// Wait until every step is done (the second is 4 s after the first;
	// a dead daemon's claim lapses in 10 s), the digest and the reminder
	// are out: every accepted incident reached alice and bruno.
	reminded := func() int {
		n := 0
		for _, person := range []string{"carol", "bruno"} {
			for _, m := range rec.to(person) {
				if strings.HasPrefix(m.text, "rota: you are on call for handover") {
					n++
				}
			}
		}
		return n
	}
	reached := func(person string, id int64) bool {
		for _, m := range rec.to(person) {
			for _, a := range m.alerts {
				if a == id {
					return true
				}
			}
		}
		return false
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		done := len(rec.to("mgr")) > 0 && reminded() > 0
		for _, a := range got {
			done = done && reached("alice", a.id) && reached("bruno", a.id)
		}
		if done {
			break
		}
	}

	mu.Lock()
	d := daemons[0]
	mu.Unlock()
	excused := func(first time.Time) bool {
		for _, k := range kills {
			if !first.After(k) && k.Sub(first) < 3*time.Second {
				return true
			}
		}
		return false
	}
	late := 0
	for _, a := range got {
		status, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", a.id), "")
		if status != 200 {
			t.Errorf("incident %d: %d %v", a.id, status, inc)
			continue
		}
		var step1, step2 time.Time
		for _, e := range inc["timeline"].([]any) {
			e := e.(map[string]any)
			at, _ := time.Parse(time.RFC3339Nano, e["at"].(string))
			msg := e["message"].(string)
			switch {
			case strings.HasPrefix(msg, "step 1:"):
				step1 = at
			case strings.HasPrefix(msg, "step 2:"):
				step2 = at
			}
		}
		if step1.IsZero() || step2.IsZero() {
			t.Errorf("incident %d ran steps at %v and %v", a.id, step1, step2)
			continue
		}
		if lag := step2.Sub(step1.Add(4 * time.Second)); lag > 5*time.Second {
			late++
			t.Errorf("incident %d's second step ran %s after it was due", a.id, lag)
		}
	}
	// Stopped gracefully, the daemons finish what is under way and send
	// nothing more: every copy there will be has arrived.
	mu.Lock()
	for _, d := range daemons {
		d.signal(syscall.SIGTERM)
		<-d.done
	}
	mu.Unlock()
	for _, person := range []string{"alice", "bruno"} {
		seen := map[int64]time.Time{}
		for _, m := range rec.to(person) {
			for _, id := range m.alerts {
				if first, ok := seen[id]; ok {
					if !excused(first) {
						t.Errorf("incident %d reached %s twice, at %s and %s, with no kill in between", id, person, first.Format("15:04:05.000"), m.at.Format("15:04:05.000"))
					}
					continue
				}
				seen[id] = m.at
			}
		}
		for _, a := range got {
			if _, ok := seen[a.id]; !ok {
				t.Errorf("incident %d (accepted at %s) never reached %s", a.id, a.at.Format("15:04:05.000"), person)
			}
		}
	}
	// Locks are taken in one order: PostgreSQL found no deadlock.
	for i, d := range all {
		if n := strings.Count(d.dump(), "PostgreSQL found a deadlock"); n > 0 {
			t.Errorf("daemon %d met %d deadlocks", i, n)
		}
	}
	digests := map[string]int{}
	for _, m := range rec.to("mgr") {
		if strings.HasPrefix(m.text, "rota weekly digest") {
			digests[m.at.Add(shift).UTC().Truncate(time.Minute).Format("15:04")]++ // on the daemons' clock
		}
	}
	if len(digests) == 0 {
		t.Error("no digest went out")
	}
	for minute, n := range digests {
		if n != 1 {
			t.Errorf("the digest of %s went out %d times", minute, n)
		}
	}
	if reminders := reminded(); reminders != 1 {
		t.Errorf("the handover reminder went out %d times, want once", reminders)
	}
	t.Logf("%d alerts accepted over %s, %d kills; %d messages to alice, %d to bruno; digests %v", len(got),
		posted.Sub(start).Round(time.Second), len(kills), len(rec.to("alice")), len(rec.to("bruno")), digests)
}

// requestAsMaybe is requestAs for a daemon that may be dying: a failed
// request answers status 0.
func (d *daemon) requestAsMaybe(token, method, path, body string) (int, map[string]any) {
	req, err := http.NewRequest(method, "http://"+d.addr+path, strings.NewReader(body))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		return 0, nil
	}
	return res.StatusCode, m
}

// TestOverridesSeenByAllDaemons: an override made on one daemon counts on
// another on the same database within a second, and so do its deletion
// and calendar leave another daemon fetched.
func TestOverridesSeenByAllDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two rotad processes on PostgreSQL")
	}
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	writeConfig(t, cfgPath, `"alice", "bruno", "chloe"`)
	cfg, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), `database = "rota.db"`, `database = "`+dsn+`"`, 1)), 0o644)
	a, b := startDaemon(t, cfgPath), startDaemon(t, cfgPath)
	now := clocktest.Now().UTC()
	at := now.Add(time.Hour).Truncate(time.Hour)
	body := fmt.Sprintf(`{"person":"dana","start":%q,"end":%q}`, at.Format(time.RFC3339), at.Add(time.Hour).Format(time.RFC3339))
	status, o := a.request("POST", "/api/v1/rotations/primary/overrides", body)
	if status != 201 {
		t.Fatalf("override: %d %v", status, o)
	}
	made := time.Now()
	q := "/api/v1/oncall?at=" + at.Add(time.Minute).Format(time.RFC3339)
	for {
		if p, _ := b.onCallAt(at.Add(time.Minute).Format(time.RFC3339)); p == "dana" {
			break
		}
		if time.Since(made) > time.Second {
			t.Fatalf("the other daemon did not see the override within a second (%s); its log:\n%s", q, b.dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, _ := a.request("DELETE", fmt.Sprintf("/api/v1/overrides/%d", int(o["id"].(float64))), ""); status != 200 {
		t.Fatalf("delete: %d", status)
	}
	deleted := time.Now()
	for {
		if p, _ := b.onCallAt(at.Add(time.Minute).Format(time.RFC3339)); p != "dana" {
			break
		}
		if time.Since(deleted) > time.Second {
			t.Fatal("the other daemon did not see the deletion within a second")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Calendar leave one daemon fetched (written as its fetch would)
	// counts on the other too.
	when := at.Add(time.Minute).Format(time.RFC3339)
	was, _ := b.onCallAt(when)
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SaveLeave(context.Background(), was, []rota.Leave{{Start: at.Add(-time.Hour), End: at.Add(2 * time.Hour), Source: "calendar"}}, clocktest.Now()); err != nil {
		t.Fatal(err)
	}
	saved := time.Now()
	for {
		if p, _ := b.onCallAt(when); p != was {
			break
		}
		if time.Since(saved) > time.Second {
			t.Fatalf("the other daemon did not see %s's leave within a second", was)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExampleTellsManagersOfBurns runs rotad on config.example.toml (its
// quiet gap and rate limit shortened, JSON logs, a free port): three pages
// in a week burn the on-call's weekly budget, and the team's manager, who
// has only an email contact and no [smtp], is told in the log notifier.
func TestExampleTellsManagersOfBurns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	cfgPath := exampleConfig(t, map[string]string{
		`interruption_gap = "30m"`: `interruption_gap = "1s"`,
		`rate_limit = "1m"`:        `rate_limit = "1s"`,
	})
	const key = "example-payments-key-0123456789"
	d := startDaemon(t, cfgPath, "ROTA_KEY_PAYMENTS_API="+key)
	// Three incidents, one after the other: each resolved before the
	// next fires, each its own page.
	for i := 1; i <= 3; i++ {
		status, body := d.requestAs(key, "POST", "/api/v1/alerts", fmt.Sprintf(`{"summary":"checkout 5xx, take %d","severity":"critical","dedup_key":"k%d"}`, i, i))
		if status != 202 || body["outcome"] != "created" {
			t.Fatalf("alert %d: %d %v", i, status, body)
		}
		id := int64(body["incident_id"].(float64))
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
			if sentTo(inc) != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("incident %d paged nobody: %v", id, inc)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if status, _ := d.request("POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", id), ""); status != 200 {
			t.Fatalf("resolve %d: %d", id, status)
		}
		// The quiet gap on the daemon's clock, so that the next is a page
		// of its own: time that must pass, not an event to wait for.
		time.Sleep(1100 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := d.findLog(func(m map[string]any) bool {
			return m["msg"] == "notification" && m["kind"] == "notice" && m["person"] == "mara" && m["channel"] == "email" &&
				strings.Contains(fmt.Sprint(m["text"]), "burned the weekly human budget: 3 pages this week, budget 2")
		}); m != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mara was not told; logs:\n%s", d.dump())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sentTo is the person an incident's first sent notification reached, or
// "".
func sentTo(inc map[string]any) string {
	ns, _ := inc["notifications"].([]any)
	for _, n := range ns {
		if n := n.(map[string]any); n["status"] == "sent" && n["kind"] == "page" {
			return fmt.Sprint(n["person"])
		}
	}
	return ""
}

// findLog returns the first log line that match accepts, or nil.
func (d *daemon) findLog(match func(map[string]any) bool) map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.logs {
		if match(m) {
			return m
		}
	}
	return nil
}

// TestExamplePagesTheAuthorFirst runs rotad on config.example.toml (its
// deploy grace shortened from 3m to 2s): a deploy to payments-api by a
// payments engineer who is not on call, then an alert: the author alone
// is paged, told why; the on-call only after the grace, nobody having
// acknowledged; the merger, who could be paged, never is.
func TestExamplePagesTheAuthorFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	cfgPath := exampleConfig(t, map[string]string{`deploy_grace = "3m"`: `deploy_grace = "2s"`})
	const key = "example-payments-key-0123456789"
	d := startDaemon(t, cfgPath, "ROTA_KEY_PAYMENTS_API="+key)

	_, oc := d.request("GET", "/api/v1/oncall", "")
	onCall := ""
	for _, s := range oc["oncall"].([]any) {
		if s := s.(map[string]any); s["rotation"] == "payments-primary" {
			onCall = s["person"].(string)
		}
	}
	logins := map[string]string{"alice": "alice-martin", "bruno": "brunoc", "chloe": "chloe-d", "dmitri": "divanov"}
	var author, merger string
	for _, p := range []string{"alice", "bruno", "chloe", "dmitri"} {
		switch {
		case p == onCall:
		case author == "":
			author = p
		case merger == "":
			merger = p
		}
	}
	if onCall == "" || author == "" || merger == "" {
		t.Fatalf("on call %q, author %q, merger %q: %v", onCall, author, merger, oc)
	}
	deploy := fmt.Sprintf(`{"commit":"5e1f00dcafe","author":%q,"merged_by":%q,"deployed_at":%q}`,
		logins[author], logins[merger], time.Now().UTC().Add(-5*time.Minute).Format(time.RFC3339))
	if status, body := d.requestAs(key, "POST", "/api/v1/deploys", deploy); status != 201 {
		t.Fatalf("deploy: %d %v", status, body)
	}
	posted := time.Now()
	status, body := d.requestAs(key, "POST", "/api/v1/alerts", `{"summary":"checkout 5xx above 2%","severity":"critical"}`)
	if status != 202 {
		t.Fatalf("alert: %d %v", status, body)
	}
	id := int64(body["incident_id"].(float64))
	pages := func() map[string]string {
		_, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		out := map[string]string{}
		ns, _ := inc["notifications"].([]any)
		for _, n := range ns {
			if n := n.(map[string]any); n["kind"] == "page" {
				out[fmt.Sprint(n["person"])], _ = n["reason"].(string)
			}
		}
		return out
	}
	waitUntil := func(what string, cond func(map[string]string) bool) map[string]string {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if p := pages(); cond(p) {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %v", what, pages())
			}
		}
	}
	first := waitUntil("the author's page", func(p map[string]string) bool { return p[author] != "" })
	if time.Since(posted) < 2*time.Second {
		if len(first) != 1 || !strings.HasPrefix(first[author], "you deployed 5e1f00d 5 min ago (merged by "+logins[merger]+")") {
			t.Errorf("first pages: %v, want the author %s alone, told why", first, author)
		}
	}
	assigned := func() string {
		_, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		return fmt.Sprint(inc["assigned_to"])
	}
	if got := assigned(); time.Since(posted) < 2*time.Second && got != "["+author+"]" {
		t.Errorf("assigned to %s during the grace, want the author %s", got, author)
	}
	waitUntil("the on-call's page", func(p map[string]string) bool { _, ok := p[onCall]; return ok })
	if got := assigned(); got != "["+onCall+"]" {
		t.Errorf("assigned to %s after the grace, want the on-call %s", got, onCall)
	}
	if wait := time.Since(posted); wait < 2*time.Second {
		t.Errorf("the on-call was paged %s after the alert, before the 2s grace", wait)
	}
	if reason, paged := pages()[merger]; paged {
		t.Errorf("the merger %s was paged (%q) though the author could be", merger, reason)
	}
}

// exampleConfig writes config.example.toml with changes (each old text
// must be in it) into a new directory, on a free port with JSON logs, and
// returns its path.
func exampleConfig(t *testing.T, changes map[string]string) string {
	t.Helper()
	example, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(example)
	all := map[string]string{`listen = "127.0.0.1:8080"`: `listen = "127.0.0.1:0"`, `format = "text"`: `format = "json"`}
	for old, repl := range changes {
		all[old] = repl
	}
	for old, repl := range all {
		if !strings.Contains(cfg, old) {
			t.Fatalf("the example no longer has %s", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	path := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

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
	example, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(example)
	for old, repl := range map[string]string{
		`listen = "127.0.0.1:8080"`: `listen = "127.0.0.1:0"`,
		`format = "text"`:           `format = "json"`,
		`interruption_gap = "30m"`:  `interruption_gap = "1s"`,
		`rate_limit = "1m"`:         `rate_limit = "1s"`,
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("the example no longer has %s", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
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

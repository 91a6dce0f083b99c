package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const isolationConfig = `
[server]
listen = "127.0.0.1:0"
database = "rota.db"

[log]
format = "json"

[paging]
rate_limit = "1s"
max_backoff = "2s"
timeout = "30s"

[[people]]
name = "stuck"
timezone = "UTC"
contacts = [{ type = "webhook", address = "STUCK/stuck" }]
[[people]]
name = "ok"
timezone = "UTC"
contacts = [{ type = "slack", address = "HEALTHY/ok" }]
[[people]]
name = "mgr"
timezone = "UTC"
contacts = [{ type = "email", address = "mgr@example.com" }]

[[teams]]
name = "t"
members = ["stuck", "ok"]
managers = ["mgr"]
timezone = "UTC"

[[escalation_policies]]
name = "stuck"
steps = [{ targets = ["person:stuck"], delay = "1h" }]
[[escalation_policies]]
name = "ok"
steps = [{ targets = ["person:ok"], delay = "1h" }]

[[services]]
name = "noisy"
team = "t"
escalation_policy = "stuck"
integration_keys = [{ env = "KEY_NOISY" }]
group = "off"
[[services]]
name = "calm"
team = "t"
escalation_policy = "ok"
integration_keys = [{ env = "KEY_CALM" }]
group = "off"
`

const (
	noisyKey = "noisy-integration-key-0123456789"
	calmKey  = "calm-integration-key-0123456789"
)

// startIsolation runs rotad on cfg, a form of isolationConfig.
func startIsolation(t *testing.T, cfg string) *daemon {
	cfgPath := filepath.Join(t.TempDir(), "rota.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return startDaemon(t, cfgPath, "KEY_NOISY="+noisyKey, "KEY_CALM="+calmKey)
}

// TestHangingWebhookDelaysNobodyElse: a receiver that hangs, the webhook
// of 40 people, holds 200 notifications; pages to another person's healthy
// receiver arrive within a second of being due all the while.
func TestHangingWebhookDelaysNobodyElse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	release := make(chan struct{})
	var hung atomic.Int64
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		select { // hang until the test ends (or the send times out)
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stuck.Close()
	defer close(release)
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1<<16)
		n, _ := r.Body.Read(b)
		mu.Lock()
		for i := 0; i < 50; i++ {
			if strings.Contains(string(b[:n]), fmt.Sprintf("calm %d stuck", i)) {
				if _, ok := arrived[fmt.Sprint(i)]; !ok {
					arrived[fmt.Sprint(i)] = time.Now()
				}
			}
		}
		mu.Unlock()
	}))
	defer healthy.Close()
	// 40 people whose webhooks go to the stuck receiver, all paged by
	// the noisy service.
	var people, targets strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&people, "[[people]]\nname = \"stuck%d\"\ntimezone = \"UTC\"\ncontacts = [{ type = \"webhook\", address = \"STUCK/%d\" }]\n", i, i)
		fmt.Fprintf(&targets, "%q, ", fmt.Sprintf("person:stuck%d", i))
	}
	cfg := strings.Replace(isolationConfig, `steps = [{ targets = ["person:stuck"], delay = "1h" }]`,
		`steps = [{ targets = [`+strings.TrimSuffix(targets.String(), ", ")+`], delay = "1h" }]`, 1)
	cfg = strings.Replace(cfg, "[[teams]]", people.String()+"\n[[teams]]", 1)
	cfg = strings.NewReplacer("STUCK", stuck.URL, "HEALTHY", healthy.URL).Replace(cfg)
	d := startIsolation(t, cfg)
	// Five incidents, 200 notifications for the stuck receiver.
	for i := 0; i < 5; i++ {
		if status, _ := d.requestAs(noisyKey, "POST", "/api/v1/alerts", fmt.Sprintf(`{"summary":"noisy %d","severity":"critical"}`, i)); status != 202 {
			t.Fatalf("noisy %d: %d", i, status)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for hung.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if hung.Load() == 0 {
		t.Fatal("the stuck receiver was never called")
	}
	// Now pages for ok, a second and a bit apart (past ok's rate limit):
	// each arrives within a second of its post.
	posted := map[string]time.Time{}
	for i := 0; i < 8; i++ {
		posted[fmt.Sprint(i)] = time.Now()
		if status, _ := d.requestAs(calmKey, "POST", "/api/v1/alerts", fmt.Sprintf(`{"summary":"calm %d stuck","severity":"critical"}`, i)); status != 202 {
			t.Fatalf("calm %d: %d", i, status)
		}
		// Past ok's rate limit on the daemon's clock: pacing, not a
		// wait for an event.
		time.Sleep(1100 * time.Millisecond)
	}
	// Wait for the last to arrive (each is checked against its post).
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(arrived)
		mu.Unlock()
		if n == len(posted) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, p := range posted {
		at, ok := arrived[i]
		if !ok {
			t.Errorf("calm %s never arrived", i)
			continue
		}
		if late := at.Sub(p); late > time.Second {
			t.Errorf("calm %s arrived %s after its post", i, late)
		}
	}
	// The stuck receiver has at most its own few messages under way.
	if n := hung.Load(); n > 4 {
		t.Errorf("%d posts under way to the stuck receiver, want at most 4", n)
	}
}

// TestOutageOfTheOnlyContact: a person's only contact is down (503) for
// the outage window, ROTA_TEST_OUTAGE (15s by default; "3m" is the
// original figure) and at least ten tries; their page is delivered once
// it is back, never given up.
func TestOutageOfTheOnlyContact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	// Mostly waiting (paced by real time): it runs beside the others of
	// its kind (t.Parallel), which is also a busy machine for each.
	t.Parallel()
	var up atomic.Bool
	var got atomic.Int64
	var back atomic.Int64 // unix ms when it came back
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		got.Add(1)
	}))
	defer recv.Close()
	cfg := strings.NewReplacer("STUCK", recv.URL, "HEALTHY", recv.URL).Replace(isolationConfig)
	outage := 15 * time.Second
	if v := os.Getenv("ROTA_TEST_OUTAGE"); v != "" {
		var err error
		if outage, err = time.ParseDuration(v); err != nil {
			t.Fatalf("ROTA_TEST_OUTAGE: %v", err)
		}
	}
	// Tries are at most max_backoff apart: ten take about ten seconds at
	// 1s; a longer outage spaces them by about a tenth of it.
	backoff := max(time.Second, (outage / 10).Round(time.Second))
	cfg = strings.Replace(cfg, `max_backoff = "2s"`, fmt.Sprintf("max_backoff = %q", backoff.String()), 1)
	d := startIsolation(t, cfg)
	began := time.Now()
	status, body := d.requestAs(noisyKey, "POST", "/api/v1/alerts", `{"summary":"disk full","severity":"critical"}`)
	if status != 202 {
		t.Fatal(status)
	}
	id := int64(body["incident_id"].(float64))
	// Down until both the window has passed and rotad has tried ten
	// times: still pending, never given up.
	var inc map[string]any
	for {
		_, inc = d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		ns := inc["notifications"].([]any)
		if len(ns) != 1 || ns[0].(map[string]any)["status"] != "pending" {
			t.Fatalf("after %s down: %v", time.Since(began).Round(time.Second), ns)
		}
		if ns[0].(map[string]any)["attempts"].(float64) >= 10 && time.Since(began) >= outage {
			break
		}
		if time.Since(began) > outage+2*time.Minute {
			t.Fatalf("after %s down, only %v tries", time.Since(began).Round(time.Second), ns[0])
		}
		time.Sleep(200 * time.Millisecond)
	}
	back.Store(time.Now().UnixMilli())
	up.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got.Load() == 0 {
		t.Fatal("not delivered within 10s of the receiver's return")
	}
	// The receiver counts the message before rotad records it: wait for
	// the record.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, inc = d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		s := inc["notifications"].([]any)[0].(map[string]any)["status"]
		if s == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notification %v five seconds after it was delivered", s)
		}
	}
	for _, e := range inc["timeline"].([]any) {
		if strings.Contains(e.(map[string]any)["message"].(string), "gave up") {
			t.Errorf("timeline: %v", e)
		}
	}
}

// TestDatabaseDeletedUnderTheDaemon: the database file deleted while rotad
// runs: intake answers 503 with Retry-After (not 202 into a ghost file),
// so senders keep their alerts and retry; /readyz says why; the log says
// it loudly.
func TestDatabaseDeletedUnderTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	_, cfgPath, env := pagingSetup(t)
	d := startDaemon(t, cfgPath, env...)
	if status, _ := d.requestAs(serviceKey, "POST", "/api/v1/alerts", `{"summary":"before","severity":"critical"}`); status != 202 {
		t.Fatalf("before: %d", status)
	}
	if err := os.Remove(filepath.Join(filepath.Dir(cfgPath), "rota.db")); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://"+d.addr+"/api/v1/alerts", strings.NewReader(`{"summary":"after","severity":"critical"}`))
	req.Header.Set("Authorization", "Bearer "+serviceKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Errorf("an alert after the file is gone: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	status, body := d.request("GET", "/readyz", "")
	if status != 503 || !strings.Contains(fmt.Sprint(body["error"]), "was deleted under the running daemon") {
		t.Errorf("readyz: %d %v", status, body)
	}
	d.waitLog("THE DATABASE FILE IS GONE: rotad records nothing more and answers 503; restart it on the right file", 5*time.Second)
}

// TestSecretsNeverShown: a Slack contact's URL is a bearer secret; when
// posting to it fails, neither the API's answers (the incident's
// notifications and timeline) nor rotad's log show it whole.
func TestSecretsNeverShown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs rotad")
	}
	const secret = "sEcReTtOkEn0123456789abcd"
	cfg := strings.NewReplacer("STUCK", "http://127.0.0.1:9", "HEALTHY/ok", "http://127.0.0.1:1/services/T0123ABCD/B0123ABCD/"+secret).Replace(isolationConfig)
	d := startIsolation(t, cfg)
	status, body := d.requestAs(calmKey, "POST", "/api/v1/alerts", `{"summary":"x","severity":"critical"}`)
	if status != 202 {
		t.Fatal(status)
	}
	id := int64(body["incident_id"].(float64))
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, inc := d.request("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		ns, _ := inc["notifications"].([]any)
		if len(ns) > 0 && ns[0].(map[string]any)["last_error"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the post never failed: %v", inc)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/incidents/%d", id), "/api/v1/alerts/1"} {
		req, _ := http.NewRequest("GET", "http://"+d.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+e2eToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := new(strings.Builder)
		io.Copy(b, res.Body)
		res.Body.Close()
		if strings.Contains(b.String(), secret) || !strings.Contains(b.String(), "/services/…/…/…") {
			t.Errorf("%s: %s", path, b.String())
		}
	}
	if strings.Contains(d.dump(), secret) {
		t.Errorf("the log shows the secret")
	}
}

package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/paging"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBadTokensAreLimitedAndLogged: a client that sends wrong tokens is
// answered 401 for a burst, then 429 with Retry-After for anything that
// carries a credential (a right one too: guessing goes no faster), until
// its bucket refills on the clock; other clients are not held back. The
// failures are logged, a line per client per 10 s with the count.
func TestBadTokensAreLimitedAndLogged(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	f.onRunClock(t)
	logs := &lockedBuffer{}
	engine := paging.New(paging.Options{Store: f.db, Book: f.book, Now: f.clock})
	h := api.New(api.Options{Book: f.book, Overrides: f.db, Pager: engine, Twilio: engine, Alerts: f.db, Deploys: f.db, Feeds: f.db,
		Swaps: f.db, Teller: engine, Reports: f.db, Identity: f.db, SwapRequests: f.db, Budgets: f.db, Ping: f.db.Ping, Settings: withToken(),
		Now: f.clock, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	// Straight to the handler, so that each request says which client
	// address it comes from.
	get := func(token string, from string) *http.Response {
		t.Helper()
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.RemoteAddr = from + ":40000"
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	const client, other = "203.0.113.9", "198.51.100.7"
	for i := range 20 {
		if res := get("rota_wrong_"+strings.Repeat("x", i), client); res.StatusCode != 401 {
			t.Fatalf("bad token %d: %d, want 401", i, res.StatusCode)
		}
	}
	res := get("rota_wrong_again", client)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after 20 bad tokens: %d (Retry-After %q), want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res := get(f.tokens["alice"], client); res.StatusCode != 429 {
		t.Errorf("a right token from the same client while it is held back: %d, want 429", res.StatusCode)
	}
	if res := get(f.tokens["alice"], other); res.StatusCode != 200 {
		t.Errorf("another client meanwhile: %d, want 200", res.StatusCode)
	}
	// Without a credential, nothing is guessed: not held back.
	if res := get("", client); res.StatusCode != 401 {
		t.Errorf("no credential: %d, want 401", res.StatusCode)
	}
	// Two seconds on, two tries more.
	f.now = f.now.Add(2 * time.Second)
	if res := get(f.tokens["alice"], client); res.StatusCode != 200 {
		t.Errorf("a right token once the bucket refilled: %d, want 200", res.StatusCode)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "authentication failed" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 || lines[0]["remote"] != client || lines[0]["level"] != "WARN" || !strings.Contains(lines[0]["reason"].(string), "token") {
		t.Errorf("log lines for 20 failures within a second: %v, want one WARN naming the client and the reason", lines)
	}
	// A client sending many good requests at once is never held back by
	// them (only failures count).
	const busy = "192.0.2.44"
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := get(f.tokens["alice"], busy)
			mu.Lock()
			codes[res.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] != 60 {
		t.Errorf("60 good requests at once: %v, want 60 answered 200", codes)
	}
	// A page route counts too (it redirects or renders rather than
	// answer JSON).
	const browser = "192.0.2.45"
	page := func() int {
		req := httptest.NewRequest("GET", "/incidents", nil)
		req.RemoteAddr = browser + ":40000"
		req.Header.Set("Authorization", "Bearer rota_wrong_page")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for range 20 {
		if code := page(); code == 429 {
			t.Fatal("a page route held back before the burst")
		}
	}
	if code := page(); code != 429 {
		t.Errorf("a page route after 20 bad tokens: %d, want 429", code)
	}
	f.now = f.now.Add(11 * time.Second)
	get("rota_wrong_later", client)
	n := strings.Count(logs.String(), `"msg":"authentication failed","component":"api","remote":"`+client+`"`)
	if n != 2 || !strings.Contains(logs.String(), `"failures":`) {
		t.Errorf("after 11 s and another failure: %d lines, want 2:\n%s", n, logs.String())
	}
}

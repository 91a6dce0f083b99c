package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

const adminToken = "test-admin-token-0123456789"

// Rotation "primary" hands over on Tuesdays at 10:00 Berlin time from
// 2026-01-06: alice, bruno, chloe. "later" starts in 2027.
const testConfig = `
[[people]]
name = "alice"
full_name = "Alice Martin"
timezone = "Europe/Berlin"
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
[[people]]
name = "chloe"
timezone = "Europe/Berlin"
[[people]]
name = "dana"
timezone = "Europe/Berlin"
contacts = [{ type = "email", address = "dana@example.com" }]
[[teams]]
name = "payments"
members = ["alice", "bruno", "chloe"]
managers = ["dana"]
timezone = "Europe/Berlin"
[[rotations]]
name = "primary"
team = "payments"
members = ["alice", "bruno", "chloe"]
start = 2026-01-06
[[rotations]]
name = "later"
team = "payments"
members = ["chloe"]
start = 2027-01-05
`

type fixture struct {
	// restart, where set, serves a new api.Server on the same parts, as
	// a restarted daemon would.
	restart func()
	srv     *httptest.Server
	db      *store.DB
	book    *scheduler.Book
	api     *api.Server
	// now is the fixture's instant where it has one (clock reads it):
	// set before the requests it is for.
	now time.Time
}

// clock is a fixture's clock at its instant now, for its store, engine
// and server alike.
func (f *fixture) clock() time.Time { return f.now }

// onRunClock sets the fixture's instant to the run's clock now (see
// clocktest), for tests that are about no day in particular, and makes a
// failure say how to run t again at that instant.
func (f *fixture) onRunClock(t testing.TB) {
	t.Helper()
	clocktest.Reproduce(t)
	f.now = clocktest.Now()
}

func newFixture(t *testing.T, st api.Settings) *fixture {
	t.Helper()
	cfg, err := config.Parse("test.toml", []byte(testConfig), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.Options{})
	ovs, err := db.Overrides(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, ovs)), now: time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)}
	db.Now = f.clock
	engine := paging.New(paging.Options{Store: db, Book: f.book, Now: f.clock})
	f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: engine, Alerts: db, Ping: db.Ping, Settings: st, Now: f.clock})
	f.srv = newServer(t, f.api)
	return f
}

func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func withToken() api.Settings {
	return api.Settings{AdminToken: adminToken, AdminTokenSource: "env:ROTA_ADMIN_TOKEN"}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (f *fixture) do(t *testing.T, method, path, token, contentType, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return f.send(t, req)
}

// send makes a request and decodes its JSON answer.
func (f *fixture) send(t *testing.T, req *http.Request) response {
	t.Helper()
	method, path := req.Method, req.URL.Path
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, raw)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return r
}

func (r response) errorCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r response) errorField() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

func (r response) errorMessage() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestHealth(t *testing.T) {
	f := newFixture(t, withToken())
	if r := f.do(t, "GET", "/healthz", adminToken, "", ""); r.status != 200 || r.body["status"] != "ok" {
		t.Errorf("healthz: %d %s", r.status, r.raw)
	}
	if r := f.do(t, "GET", "/readyz", adminToken, "", ""); r.status != 200 {
		t.Errorf("readyz: %d %s", r.status, r.raw)
	}
	// Ready, and saying which services cannot receive alerts.
	a := newAuthFixture(t, withToken(), false)
	if r := a.do(t, "GET", "/readyz", "", "", ""); r.status != 200 || r.body["problems"] != nil {
		t.Errorf("readyz with every key set: %d %s", r.status, r.raw)
	}
	cfg, err := config.Parse("deaf.toml", []byte(accessConfig), t.TempDir(), func(k string) (string, bool) { return payKey, k == "PAYKEY" })
	if err != nil {
		t.Fatal(err)
	}
	a.book.Update(func(*scheduler.Roster) (*scheduler.Roster, error) { return scheduler.NewRoster(cfg.Org, nil), nil })
	if r := a.do(t, "GET", "/readyz", "", "", ""); r.status != 200 || !strings.Contains(fmt.Sprint(r.body["problems"]), "service search-api cannot receive alerts") {
		t.Errorf("readyz with search's key unset: %d %s", r.status, r.raw)
	}
	// The Now page says so too, to anyone signed in.
	req, _ := http.NewRequest("GET", a.srv.URL+"/", nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens["alice"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if page := readAll(t, res); res.StatusCode != 200 || !strings.Contains(page, "Not receiving alerts") ||
		!strings.Contains(page, "service search-api cannot receive alerts: no integration key is set") {
		t.Errorf("the Now page with search's key unset: %d, without the warning", res.StatusCode)
	}
	if len(cfg.Deaf) != 1 || !strings.Contains(cfg.Deaf[0].String(), "deaf.toml:") {
		t.Errorf("the configuration's deaf services: %v, want search's, with its file and line", cfg.Deaf)
	}
	f.db.Close()
	if r := f.do(t, "GET", "/readyz", adminToken, "", ""); r.status != 503 {
		t.Errorf("readyz with the database closed: %d %s", r.status, r.raw)
	}
	if r := f.do(t, "GET", "/healthz", adminToken, "", ""); r.status != 200 {
		t.Errorf("healthz with the database closed: %d", r.status)
	}
}

func TestOnCall(t *testing.T) {
	f := newFixture(t, withToken())
	// 2026-03-11 is in the week from Tuesday 2026-03-10 10:00 CET: week 9
	// of the rotation, 9 mod 3 = 0: alice.
	r := f.do(t, "GET", "/api/v1/oncall", adminToken, "", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	oncall := r.body["oncall"].([]any)
	if len(oncall) != 1 {
		t.Fatalf("oncall: %s", r.raw)
	}
	first := oncall[0].(map[string]any)
	if first["person"] != "alice" || first["person_name"] != "Alice Martin" || first["team"] != "payments" ||
		first["start"] != "2026-03-10T09:00:00Z" || first["end"] != "2026-03-17T09:00:00Z" || first["override"] != false {
		t.Errorf("oncall now: %v", first)
	}
	gaps := r.body["gaps"].([]any)
	if len(gaps) != 1 || gaps[0].(map[string]any)["rotation"] != "later" || gaps[0].(map[string]any)["until"] != "2027-01-05T09:00:00Z" {
		t.Errorf("gaps: %v", gaps)
	}
	r = f.do(t, "GET", "/api/v1/oncall?at=2026-03-31T08:30:00%2B02:00", adminToken, "", "")
	if p := r.body["oncall"].([]any)[0].(map[string]any)["person"]; p != "chloe" {
		t.Errorf("at the end of March: %v", p)
	}
	// Around a handoff, to the nanosecond: the cached answer must not
	// outlive its shift.
	for at, want := range map[string]string{
		"2026-03-17T08:59:59.999999999Z": "alice", "2026-03-17T09:00:00Z": "bruno",
		"2026-03-10T09:00:00Z": "alice", "2026-03-10T08:59:59.999999999Z": "chloe",
	} {
		r := f.do(t, "GET", "/api/v1/oncall?at="+at, adminToken, "", "")
		if p := r.body["oncall"].([]any)[0].(map[string]any)["person"]; p != want || r.body["at"] != at {
			t.Errorf("at %s: %v (at %v), want %s", at, p, r.body["at"], want)
		}
	}
	r = f.do(t, "GET", "/api/v1/oncall?at=yesterday", adminToken, "", "")
	if r.status != 400 || r.errorField() != "at" || !strings.Contains(r.errorMessage(), "RFC 3339") {
		t.Errorf("bad at: %d %s", r.status, r.raw)
	}
}

func TestShifts(t *testing.T) {
	f := newFixture(t, withToken())
	r := f.do(t, "GET", "/api/v1/rotations/primary/shifts?from=2026-03-20T00:00:00Z&to=2026-04-08T00:00:00Z", adminToken, "", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	var got []string
	for _, s := range r.body["shifts"].([]any) {
		m := s.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s %s", m["person"], m["start"], m["end"]))
	}
	want := []string{
		"bruno 2026-03-17T09:00:00Z 2026-03-24T09:00:00Z",
		"chloe 2026-03-24T09:00:00Z 2026-03-31T08:00:00Z", // 167 hours: spring forward
		"alice 2026-03-31T08:00:00Z 2026-04-07T08:00:00Z",
		"bruno 2026-04-07T08:00:00Z 2026-04-14T08:00:00Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("shifts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tt := range []struct {
		query, field string
		status       int
	}{
		{"from=2026-04-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to", 400},
		{"from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z", "to", 400},
		{"from=2026-01-01", "from", 400},
	} {
		r := f.do(t, "GET", "/api/v1/rotations/primary/shifts?"+tt.query, adminToken, "", "")
		if r.status != tt.status || r.errorField() != tt.field {
			t.Errorf("%s: %d %s", tt.query, r.status, r.raw)
		}
	}
	if r := f.do(t, "GET", "/api/v1/rotations/nope/shifts", adminToken, "", ""); r.status != 404 || r.errorCode() != "not_found" {
		t.Errorf("unknown rotation: %d %s", r.status, r.raw)
	}
}

func TestRotations(t *testing.T) {
	f := newFixture(t, withToken())
	r := f.do(t, "GET", "/api/v1/rotations", adminToken, "", "")
	if rs := r.body["rotations"].([]any); len(rs) != 2 || rs[0].(map[string]any)["handoff"] != "tuesday 10:00" || rs[0].(map[string]any)["shift"] != "1w" {
		t.Errorf("rotations: %s", r.raw)
	}
	r = f.do(t, "GET", "/api/v1/rotations/primary", adminToken, "", "")
	if next := r.body["next"].([]any); len(next) != 4 || next[0].(map[string]any)["person"] != "bruno" {
		t.Errorf("rotation: %s", r.raw)
	}
}

const goodOverride = `{"person":"bruno","start":"2026-03-11T13:00:00Z","end":"2026-03-11T18:00:00Z","reason":"alice at the dentist"}`

func TestOverrideLifecycle(t *testing.T) {
	f := newFixture(t, withToken())
	r := f.do(t, "POST", "/api/v1/rotations/primary/overrides", adminToken, "application/json", goodOverride)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := int64(r.body["id"].(float64))
	if r.body["rotation"] != "primary" || r.body["person"] != "bruno" || r.body["created_by"] != "admin (token)" {
		t.Errorf("created: %s", r.raw)
	}
	// Who made it is who authenticated, never what the body says.
	named := strings.Replace(goodOverride, `"reason"`, `"created_by":"alice","reason"`, 1)
	if r := f.do(t, "POST", "/api/v1/rotations/primary/overrides", adminToken, "application/json", named); r.status != 400 || r.errorField() != "created_by" {
		t.Errorf("created_by in the body: %d %s", r.status, r.raw)
	}
	r = f.do(t, "GET", "/api/v1/oncall?at=2026-03-11T14:00:00Z", adminToken, "", "")
	sh := r.body["oncall"].([]any)[0].(map[string]any)
	if sh["person"] != "bruno" || sh["override"] != true || int64(sh["override_id"].(float64)) != id ||
		sh["start"] != "2026-03-11T13:00:00Z" || sh["end"] != "2026-03-11T18:00:00Z" {
		t.Errorf("override not applied: %v", sh)
	}
	r = f.do(t, "GET", "/api/v1/oncall?at=2026-03-11T18:00:00Z", adminToken, "", "")
	if sh := r.body["oncall"].([]any)[0].(map[string]any); sh["person"] != "alice" || sh["start"] != "2026-03-11T18:00:00Z" {
		t.Errorf("after the override: %v", sh)
	}
	r = f.do(t, "GET", "/api/v1/rotations/primary/overrides", adminToken, "", "")
	if ovs := r.body["overrides"].([]any); len(ovs) != 1 {
		t.Errorf("list: %s", r.raw)
	}
	r = f.do(t, "GET", "/api/v1/rotations/primary/overrides?from=2026-03-12T00:00:00Z", adminToken, "", "")
	if ovs := r.body["overrides"].([]any); len(ovs) != 0 {
		t.Errorf("list after it ended: %s", r.raw)
	}
	path := fmt.Sprintf("/api/v1/overrides/%d", id)
	if r := f.do(t, "DELETE", path, "", "", ""); r.status != 401 {
		t.Errorf("delete without a token: %d", r.status)
	}
	if r := f.do(t, "DELETE", path, adminToken, "", ""); r.status != 200 || r.body["person"] != "bruno" {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	if r := f.do(t, "DELETE", path, adminToken, "", ""); r.status != 404 || r.errorCode() != "not_found" {
		t.Errorf("delete again: %d %s", r.status, r.raw)
	}
	if r := f.do(t, "DELETE", "/api/v1/overrides/abc", adminToken, "", ""); r.status != 400 || r.errorField() != "id" {
		t.Errorf("bad id: %d %s", r.status, r.raw)
	}
	r = f.do(t, "GET", "/api/v1/oncall?at=2026-03-11T14:00:00Z", adminToken, "", "")
	if sh := r.body["oncall"].([]any)[0].(map[string]any); sh["person"] != "alice" {
		t.Errorf("deleted override still applies: %v", sh)
	}
}

func TestOverrideBadInput(t *testing.T) {
	f := newFixture(t, withToken())
	big := `{"person":"bruno","start":"2026-03-11T13:00:00Z","end":"2026-03-11T18:00:00Z","reason":"` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name, contentType, body string
		status                  int
		code, field, message    string
	}{
		{"malformed", "application/json", `{"person":`, 400, "invalid", "", "ends too soon"},
		{"syntax", "application/json", `{"person" "bruno"}`, 400, "invalid", "", "not valid JSON at byte"},
		{"empty", "application/json", ``, 400, "invalid", "", "empty"},
		{"unknown field", "application/json", `{"person":"bruno","who":"x"}`, 400, "invalid", "who", `unknown field "who"`},
		{"wrong type", "application/json", `{"person":42}`, 400, "invalid", "person", "must be a string"},
		{"array", "application/json", `[1]`, 400, "invalid", "", "must be a JSON object"},
		{"trailing", "application/json", goodOverride + `{}`, 400, "invalid", "", "after its JSON object"},
		{"too large", "application/json", big, 413, "too_large", "", "larger than"},
		{"not json", "text/plain", goodOverride, 415, "unsupported_media_type", "", "must be JSON"},
		{"missing start", "", `{"person":"bruno","end":"2026-03-11T18:00:00Z"}`, 400, "invalid", "start", "start: is required"},
		{"bad end", "", `{"person":"bruno","start":"2026-03-11T13:00:00Z","end":"tomorrow"}`, 400, "invalid", "end", "RFC 3339"},
		{"end before start", "", `{"person":"bruno","start":"2026-03-11T13:00:00Z","end":"2026-03-11T12:00:00Z"}`, 400, "invalid", "end", "must be after start"},
		{"unknown person", "", `{"person":"zed","start":"2026-03-11T13:00:00Z","end":"2026-03-11T18:00:00Z"}`, 400, "invalid", "person", `no person named "zed"`},
		{"missing person", "", `{"start":"2026-03-11T13:00:00Z","end":"2026-03-11T18:00:00Z"}`, 400, "invalid", "person", "is required"},
		{"too long", "", `{"person":"bruno","start":"2026-03-11T13:00:00Z","end":"2026-09-11T18:00:00Z"}`, 400, "invalid", "end", "at most 90d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "POST", "/api/v1/rotations/primary/overrides", adminToken, tt.contentType, tt.body)
			if r.status != tt.status || r.errorCode() != tt.code || r.errorField() != tt.field || !strings.Contains(r.errorMessage(), tt.message) {
				t.Errorf("got %d %s, want %d %s field %q containing %q", r.status, r.raw, tt.status, tt.code, tt.field, tt.message)
			}
		})
	}
	if r := f.do(t, "POST", "/api/v1/rotations/nope/overrides", adminToken, "", goodOverride); r.status != 404 {
		t.Errorf("unknown rotation: %d %s", r.status, r.raw)
	}
	if ovs, _ := f.db.Overrides(context.Background(), ""); len(ovs) != 0 {
		t.Errorf("bad input was stored: %+v", ovs)
	}
}

func TestAuth(t *testing.T) {
	open := newFixture(t, api.Settings{AdminTokenSource: "env:ROTA_ADMIN_TOKEN"})
	r := open.do(t, "POST", "/api/v1/rotations/primary/overrides", "anything", "", goodOverride)
	if r.status != 401 || !strings.Contains(r.errorMessage(), "not valid") {
		t.Errorf("write with no token configured: %d %s", r.status, r.raw)
	}
	// Closed by default: reads need someone too.
	if r := open.do(t, "GET", "/api/v1/oncall", "", "", ""); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous read: %d", r.status)
	}

	f := newFixture(t, withToken())
	for _, tok := range []string{"", "wrong-token"} {
		r := f.do(t, "POST", "/api/v1/rotations/primary/overrides", tok, "", goodOverride)
		if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("token %q: %d %v", tok, r.status, r.header)
		}
	}
	if r := f.do(t, "GET", "/api/v1/oncall", "", "", ""); r.status != 401 {
		t.Errorf("read without token: %d", r.status)
	}
	if r := f.do(t, "GET", "/api/v1/oncall", adminToken, "", ""); r.status != 200 {
		t.Errorf("read with token: %d", r.status)
	}
	if r := f.do(t, "GET", "/healthz", "", "", ""); r.status != 200 {
		t.Errorf("health checks need no token: %d", r.status)
	}
	// The explicit opt-out opens reads, and only reads.
	st := withToken()
	st.AnonymousReads = true
	f.api.SetSettings(st)
	if r := f.do(t, "GET", "/api/v1/oncall", "", "", ""); r.status != 200 {
		t.Errorf("anonymous read with the opt-out: %d", r.status)
	}
	if r := f.do(t, "POST", "/api/v1/rotations/primary/overrides", "", "", goodOverride); r.status != 401 {
		t.Errorf("anonymous write with the opt-out: %d", r.status)
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	f := newFixture(t, withToken())
	if r := f.do(t, "GET", "/api/v1/nothing", adminToken, "", ""); r.status != 404 || r.errorCode() != "not_found" {
		t.Errorf("404: %d %s", r.status, r.raw)
	}
	r := f.do(t, "PUT", "/api/v1/oncall", "", "", "")
	if r.status != 405 || r.errorCode() != "method_not_allowed" || !strings.Contains(r.errorMessage(), "GET") {
		t.Errorf("405: %d %s", r.status, r.raw)
	}
}

func TestConcurrentOverrides(t *testing.T) {
	f := newFixture(t, withToken())
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := fmt.Sprintf(`{"person":"chloe","start":"2026-04-%02dT10:00:00Z","end":"2026-04-%02dT11:00:00Z"}`, i+1, i+1)
			req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/rotations/primary/overrides", bytes.NewBufferString(body))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 201 {
				t.Errorf("create %d: %d", i, res.StatusCode)
			}
		}(i)
	}
	wg.Wait()
	stored, _ := f.db.Overrides(context.Background(), "primary")
	if got := len(f.book.Roster().Overrides("primary")); got != 20 || len(stored) != 20 {
		t.Errorf("roster has %d overrides, store %d, want 20", got, len(stored))
	}
	for i := 0; i < 20; i++ {
		at := time.Date(2026, 4, i+1, 10, 30, 0, 0, time.UTC)
		if s, _ := f.book.Roster().OnCall("primary", at); s.Person != "chloe" {
			t.Errorf("%s: %s", at, s.Person)
		}
	}
}

package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify/slack"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

// accessConfig has one person of each role: alice responds for payments,
// dana manages it, erin is an admin, and zoe is on search only.
const accessConfig = `
[auth]
admins = ["erin"]
[[people]]
name = "alice"
timezone = "Europe/Berlin"
emails = ["alice@example.com"]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
[[people]]
name = "dana"
timezone = "Europe/Berlin"
contacts = [{ type = "email", address = "dana@example.com" }]
[[people]]
name = "erin"
timezone = "Europe/Berlin"
contacts = [{ type = "email", address = "erin@example.com" }]
[[people]]
name = "zoe"
timezone = "America/New_York"
[[teams]]
name = "payments"
members = ["alice", "bruno"]
managers = ["dana"]
timezone = "Europe/Berlin"
[[teams]]
name = "search"
members = ["zoe"]
managers = ["erin"]
timezone = "America/New_York"
[[rotations]]
name = "primary"
team = "payments"
members = ["alice", "bruno"]
start = 2026-01-06
[[rotations]]
name = "search"
team = "search"
members = ["zoe"]
start = 2026-01-06
timezone = "America/New_York"
[[escalation_policies]]
name = "payments"
steps = [{ targets = ["rotation:primary"], delay = "5m" }]
[[escalation_policies]]
name = "search"
steps = [{ targets = ["rotation:search"], delay = "5m" }]
[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "payments"
integration_keys = [{ env = "PAYKEY" }]
[[services]]
name = "search-api"
team = "search"
escalation_policy = "search"
integration_keys = [{ env = "SEARCHKEY" }]
`

const (
	payKey     = "payments-key-0123456789"
	searchKey2 = "search-key-0123456789ab"
)

// authFixture is a server with everything signing in needs: the store as
// identity, swaps, budgets, feeds and reports; and a personal token for
// each of alice (responder), dana (manager) and erin (admin).
type authFixture struct {
	*fixture
	tokens map[string]string
	cfg    *config.Config
}

func newAuthFixture(t testing.TB, st api.Settings, dev bool) *authFixture {
	env := map[string]string{"PAYKEY": payKey, "SEARCHKEY": searchKey2}
	cfg, err := config.Parse("access.toml", []byte(accessConfig), t.TempDir(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.Options{})
	f := &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil)), now: time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)}
	db.Now = f.clock
	engine := paging.New(paging.Options{Store: db, Book: f.book, Now: f.clock})
	st.Admins = cfg.Auth.Admins
	f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: engine, Twilio: engine, Alerts: db, Deploys: db, Feeds: db, Swaps: db, Teller: engine,
		Reports: db, Identity: db, SwapRequests: db, Budgets: db, DevSignIn: dev, Ping: db.Ping, Settings: st, Now: f.clock,
		Slack: slack.New(slack.Options{BotToken: "xoxb-unused", APIURL: "http://127.0.0.1:9/api/"}), Replays: db})
	f.srv = newServer(t, f.api)
	af := &authFixture{fixture: f, tokens: map[string]string{}, cfg: cfg}
	for _, p := range []string{"alice", "dana", "erin", "zoe"} {
		secret, _, err := db.CreateAPIToken(context.Background(), p, "test", "test")
		if err != nil {
			t.Fatal(err)
		}
		af.tokens[p] = secret
	}
	return af
}

// roles are the callers the table is walked with.
var roles = []struct{ name, who string }{
	{"anonymous", ""}, {"service key", "key"}, {"responder", "alice"}, {"manager", "dana"}, {"admin", "erin"},
}

// allowed is the access table: which roles each level admits.
var allowed = map[string][]bool{
	"anyone":    {true, true, true, true, true},
	"any actor": {false, true, true, true, true},
	"person":    {false, false, true, true, true},
	"manager":   {false, false, false, true, true},
	"admin":     {false, false, false, false, true},
}

func (f *authFixture) credential(who string) string {
	switch who {
	case "":
		return ""
	case "key":
		return payKey
	}
	return f.tokens[who]
}

// concrete fills a route pattern's wildcards with values that exist (or,
// for ids, that do not: an admitted caller then gets 404, not 401/403).
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	r := strings.NewReplacer("{name}", "primary", "{id}", "999", "{team}", "payments", "{file}", "nope.ics", "{kind}", "person",
		"{decision}", "accept", "{$}", "")
	return method, r.Replace(path)
}

// TestRoutesByRole walks every route with every role against the access
// table: a role the table refuses gets 401 (nobody) or 403 (someone
// without the role); one it admits is not refused by the guard (its
// handler may still say 400 or 404 to this empty request).
func TestRoutesByRole(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, rt := range f.api.Routes() {
		method, path := concrete(rt.Pattern)
		for i, role := range roles {
			req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(""))
			if c := f.credential(role.who); c != "" {
				req.Header.Set("Authorization", "Bearer "+c)
			}
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			refused := res.StatusCode == 401 || res.StatusCode == 403 || rt.Page && method == "GET" && res.StatusCode == 303 && strings.HasPrefix(res.Header.Get("Location"), "/signin")
			want, ok := allowed[rt.Access]
			if !ok {
				// "own check": the handler authenticates; nobody
				// anonymous gets past it except to public answers.
				continue
			}
			if want[i] == refused {
				t.Errorf("%s %s as %s: %d, but the table says %s may call it: %v", method, path, role.name, res.StatusCode, rt.Access, want[i])
			}
		}
	}
}

// TestOwnCheckRoutesRefuseStrangers: routes that authenticate callers
// themselves refuse an anonymous caller too (except health checks).
func TestOwnCheckRoutesRefuseStrangers(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, rt := range f.api.Routes() {
		if rt.Access != "own check" {
			continue
		}
		method, path := concrete(rt.Pattern)
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader("{}"))
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch {
		case rt.Pattern == "GET /metrics":
			// Open unless server.metrics_token is set (TestMetricsToken).
		case res.StatusCode == 401 || res.StatusCode == 403:
		case rt.Page && res.StatusCode == 303 && strings.HasPrefix(res.Header.Get("Location"), "/signin"):
			// A page sends strangers to sign in.
		case strings.HasPrefix(path, "/ical/") && res.StatusCode == 404:
			// An unknown feed is not found, whoever asks.
		case strings.HasPrefix(path, "/slack/") && res.StatusCode == 503:
			// No signing secret in this fixture: Slack's routes say so.
		case (strings.HasPrefix(path, "/twilio/") || path == "/api/v1/integrations/github") && res.StatusCode == 404:
			// Twilio, Slack's signing secret and GitHub are not
			// configured in this fixture:
			// their callbacks are not found (checked signed elsewhere).
		case path == "/v2/enqueue" || path == "/v2/change/enqueue":
			// PagerDuty's API answers a missing routing key 400.
			if res.StatusCode != 400 {
				t.Errorf("%s %s anonymously: %d", method, path, res.StatusCode)
			}
		default:
			t.Errorf("%s %s anonymously: %d, want 401 or 403", method, path, res.StatusCode)
		}
	}
}

// TestAccessDoc keeps docs/ACCESS.md, written from the route table, true.
func TestAccessDoc(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	var b strings.Builder
	b.WriteString("# Who may do what\n\nWritten from the route table in `api/access.go` by `go test ./api -run TestAccessDoc -update`;\n")
	b.WriteString("`TestRoutesByRole` walks every route with every role against it.\n\n")
	b.WriteString("Roles: **anonymous**; a **service key** (a service's integration key); a **responder** (any configured person, ")
	b.WriteString("signed in or with a personal API token); a **manager** (of at least one team); an **admin** (`[auth] admins`, or the admin token). ")
	b.WriteString("Where a route is narrowed to the caller's teams or own things, the last column says how.\n\n")
	b.WriteString("| route | anonymous | service key | responder | manager | admin | narrowed to |\n|---|---|---|---|---|---|---|\n")
	for _, rt := range f.api.Routes() {
		cells := make([]string, 5)
		if want, ok := allowed[rt.Access]; ok {
			for i, w := range want {
				cells[i] = map[bool]string{true: "yes", false: "–"}[w]
			}
		} else {
			for i := range cells {
				cells[i] = "own check"
			}
		}
		scope := rt.Scope
		if rt.Page {
			scope = strings.TrimSpace("web page. " + scope)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", rt.Pattern, strings.Join(cells, " | "), scope)
	}
	b.WriteString("\nRoutes marked **own check** authenticate callers themselves: a provider's signature (Twilio, Slack, GitHub), ")
	b.WriteString("a service's integration key, the metrics token, or a secret token in the URL (calendar feeds, a team's report).\n")
	b.WriteString("\nChanges made with a session cookie must carry the session's CSRF token (a form's `csrf` field or an `X-CSRF-Token` header), ")
	b.WriteString("and any change a browser says comes from another site is refused (`Sec-Fetch-Site`/`Origin`).\n")
	path := filepath.Join("..", "docs", "ACCESS.md")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./api -run TestAccessDoc -update)", err)
	}
	if string(got) != b.String() {
		t.Errorf("docs/ACCESS.md is out of date with the route table: go test ./api -run TestAccessDoc -update")
	}
}

// signIn makes person a session directly in the store, as a sign-in
// would, and returns its cookie and CSRF token.
func (f *authFixture) signIn(t *testing.T, person string) (*http.Cookie, string) {
	t.Helper()
	secret, sess, err := f.db.CreateSession(context.Background(), person, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: "rota_session", Value: secret}, sess.CSRF
}

// TestCSRF: a change riding a session cookie needs the session's CSRF
// token, and one a browser says comes from another site is refused
// before that.
func TestCSRF(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	f.onRunClock(t)
	ck, csrf := f.signIn(t, "alice")
	post := func(form url.Values, header ...string) *http.Response {
		req, _ := http.NewRequest("POST", f.srv.URL+"/tokens", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(ck)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post(url.Values{"name": {"no token"}}); res.StatusCode != 403 {
		t.Errorf("form without the CSRF token: %d", res.StatusCode)
	}
	if res := post(url.Values{"name": {"wrong token"}, "csrf": {"guess"}}); res.StatusCode != 403 {
		t.Errorf("form with a wrong CSRF token: %d", res.StatusCode)
	}
	// A forged form on another site carries the cookie but not the
	// token; the browser says where it comes from.
	if res := post(url.Values{"name": {"cross-site"}, "csrf": {csrf}}, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); res.StatusCode != 403 {
		t.Errorf("cross-site form post: %d", res.StatusCode)
	}
	if res := post(url.Values{"name": {"fine"}, "csrf": {csrf}}, "Sec-Fetch-Site", "same-origin", "Origin", f.srv.URL); res.StatusCode != 201 {
		t.Errorf("same-site form post with the token: %d", res.StatusCode)
	}
	ts, _ := f.db.APITokens(context.Background(), "alice")
	var names []string
	for _, tk := range ts {
		names = append(names, tk.Name)
	}
	if strings.Join(names, ",") != "fine,test" {
		t.Errorf("tokens made: %v (only the one with the CSRF token should exist)", names)
	}
	// The JSON API with a cookie needs the header.
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/tokens", strings.NewReader(`{"name":"api"}`))
	req.AddCookie(ck)
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 403 {
		t.Errorf("API change with a cookie and no X-CSRF-Token: %d", res.StatusCode)
	}
	req, _ = http.NewRequest("POST", f.srv.URL+"/api/v1/tokens", strings.NewReader(`{"name":"api"}`))
	req.AddCookie(ck)
	req.Header.Set("X-CSRF-Token", csrf)
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 201 {
		t.Errorf("API change with a cookie and X-CSRF-Token: %d", res.StatusCode)
	}
}

// TestScopes: roles are narrowed to the caller's teams and own things.
func TestScopes(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	f.onRunClock(t)
	ctx := context.Background()
	// An incident on each team's service.
	pay := f.do(t, "POST", "/api/v1/alerts", payKey, "", `{"summary":"pay down","severity":"critical"}`)
	srch := f.do(t, "POST", "/api/v1/alerts", searchKey2, "", `{"summary":"search down","severity":"critical"}`)
	payInc, srchInc := int(pay.body["incident_id"].(float64)), int(srch.body["incident_id"].(float64))
	start := f.now.Add(time.Hour).UTC().Truncate(time.Hour).Format(time.RFC3339)
	end := f.now.Add(3 * time.Hour).UTC().Truncate(time.Hour).Format(time.RFC3339)
	pastStart := f.now.Add(-5 * time.Hour).UTC().Truncate(time.Hour).Format(time.RFC3339)
	pastEnd := f.now.Add(-2 * time.Hour).UTC().Truncate(time.Hour).Format(time.RFC3339)
	for _, tt := range []struct {
		who, method, path, body string
		status                  int
	}{
		{"key", "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", srchInc), "", 403}, // another service's key
		{"alice", "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", srchInc), "", 403},
		{"alice", "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", payInc), "", 200},
		{"alice", "POST", fmt.Sprintf("/api/v1/incidents/%d/escalate", srchInc), "", 403},
		{"alice", "POST", fmt.Sprintf("/api/v1/incidents/%d/escalate", payInc), "", 200},
		{"alice", "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", payInc), "", 200},
		{"alice", "POST", "/api/v1/rotations/primary/overrides", `{"person":"bruno","start":"` + start + `","end":"` + end + `"}`, 403},
		{"alice", "POST", "/api/v1/rotations/search/overrides", `{"person":"alice","start":"` + start + `","end":"` + end + `"}`, 403},
		{"alice", "POST", "/api/v1/rotations/primary/overrides", `{"person":"alice","start":"` + start + `","end":"` + end + `"}`, 201},
		// Wholly in the past: a correction of the record, an admin's,
		// with a reason.
		{"alice", "POST", "/api/v1/rotations/primary/overrides", `{"person":"alice","start":"` + pastStart + `","end":"` + pastEnd + `"}`, 403},
		{"dana", "POST", "/api/v1/rotations/primary/overrides", `{"person":"bruno","start":"` + pastStart + `","end":"` + pastEnd + `"}`, 403},
		{"erin", "POST", "/api/v1/rotations/primary/overrides", `{"person":"bruno","start":"` + pastStart + `","end":"` + pastEnd + `"}`, 400},
		{"erin", "POST", "/api/v1/rotations/primary/overrides", `{"person":"bruno","start":"` + pastStart + `","end":"` + pastEnd + `","reason":"bruno covered; the record missed it"}`, 201},
		{"dana", "POST", "/api/v1/rotations/primary/overrides", `{"person":"bruno","start":"` + start + `","end":"` + end + `"}`, 201},
		{"dana", "POST", "/api/v1/rotations/search/overrides", `{"person":"zoe","start":"` + start + `","end":"` + end + `"}`, 403},
		{"alice", "GET", "/api/v1/reports/human?team=payments", "", 403},
		{"dana", "GET", "/api/v1/reports/human?team=payments", "", 200},
		{"dana", "GET", "/api/v1/reports/human?team=search", "", 403},
		{"alice", "GET", "/api/v1/audit", "", 403},
		{"alice", "POST", "/api/v1/ical-tokens", `{"kind":"person","name":"bruno"}`, 403},
		{"alice", "POST", "/api/v1/ical-tokens", `{"kind":"person","name":"alice"}`, 201},
		{"alice", "POST", "/api/v1/ical-tokens", `{"kind":"team","name":"payments"}`, 403},
		{"dana", "POST", "/api/v1/ical-tokens", `{"kind":"team","name":"payments"}`, 201},
		// A rotation's calendar: its team's people and managers, not
		// another team's (reissuing breaks every subscriber's link).
		{"alice", "POST", "/api/v1/ical-tokens", `{"kind":"rotation","name":"search"}`, 403},
		{"alice", "DELETE", "/api/v1/ical-tokens/rotation/search", "", 403},
		{"dana", "DELETE", "/api/v1/ical-tokens/rotation/search", "", 403},
		{"alice", "POST", "/api/v1/ical-tokens", `{"kind":"rotation","name":"primary"}`, 201},
		{"dana", "POST", "/api/v1/ical-tokens", `{"kind":"rotation","name":"primary"}`, 201},
		{"alice", "DELETE", "/api/v1/ical-tokens/rotation/primary", "", 200},
		{"key", "POST", "/api/v1/ical-tokens", `{"kind":"rotation","name":"primary"}`, 403},
		{"alice", "GET", "/api/v1/tokens?person=dana", "", 403},
		{"erin", "GET", "/api/v1/tokens?person=dana", "", 200},
		{"alice", "POST", "/api/v1/alerts/1/ack", `{"by":"dana (sms)"}`, 400}, // the body cannot name the actor
	} {
		r := f.do(t, tt.method, tt.path, f.credential(tt.who), "application/json", tt.body)
		if r.status != tt.status {
			t.Errorf("%s %s as %s: %d, want %d: %s", tt.method, tt.path, tt.who, r.status, tt.status, r.raw)
		}
	}
	inc, _ := f.db.Incident(ctx, int64(payInc))
	if inc.AckedBy != "alice (token)" {
		t.Errorf("acknowledged by %q, want the authenticated actor", inc.AckedBy)
	}
	// The audit log: dana sees payments' entries and her members', not
	// search's; erin sees everything.
	r := f.do(t, "GET", "/api/v1/audit", f.tokens["dana"], "", "")
	seen := fmt.Sprint(r.body["entries"])
	if !strings.Contains(seen, "incident.acknowledge") || !strings.Contains(seen, "override.create") || strings.Contains(seen, "zoe") {
		t.Errorf("dana's audit log: %s", seen)
	}
	// Calendar tokens issued and revoked are in it, with who did it.
	for _, want := range []string{"feed-token.issue", "rotation primary", "feed-token.revoke"} {
		if !strings.Contains(seen, want) {
			t.Errorf("dana's audit log has no %q: %s", want, seen)
		}
	}
	for _, want := range []string{"alice (token)", "dana (token)", "token.use"} {
		if !strings.Contains(seen, want) {
			t.Errorf("dana's audit log lacks %q: %s", want, seen)
		}
	}
}

// TestPersonalTokens: a token is shown once, stored hashed, acts as its
// person, and stops working when revoked or when its person leaves the
// configuration.
func TestPersonalTokens(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	r := f.do(t, "POST", "/api/v1/tokens", f.tokens["alice"], "application/json", `{"name":"laptop script"}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	secret := r.body["secret"].(string)
	id := int(r.body["token"].(map[string]any)["id"].(float64))
	if !strings.HasPrefix(secret, "rota_pat_") {
		t.Errorf("secret %q", secret)
	}
	if r := f.do(t, "GET", "/api/v1/me", secret, "", ""); r.status != 200 || r.body["actor"] != "alice (token)" || r.body["role"] != "responder" {
		t.Errorf("me: %d %s", r.status, r.raw)
	}
	r = f.do(t, "GET", "/api/v1/tokens", secret, "", "")
	if strings.Contains(r.raw, secret) || !strings.Contains(r.raw, "laptop script") {
		t.Errorf("list shows the secret or lacks the token: %s", r.raw)
	}
	if r := f.do(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", id), f.tokens["dana"], "", ""); r.status != 404 {
		t.Errorf("dana revokes alice's token: %d", r.status)
	}
	if r := f.do(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", id), secret, "", ""); r.status != 200 {
		t.Errorf("revoke: %d %s", r.status, r.raw)
	}
	if r := f.do(t, "GET", "/api/v1/me", secret, "", ""); r.status != 401 {
		t.Errorf("revoked token: %d", r.status)
	}
	// A person removed from the configuration: their token stops.
	org := f.book.Roster().Org()
	var people []*rota.Person
	for _, p := range org.People {
		if p.Name != "alice" {
			people = append(people, p)
		}
	}
	f.book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
		return r.WithOrg(rota.NewOrg(people, org.Teams, org.Rotations, org.Services, org.Policies)), nil
	})
	if r := f.do(t, "GET", "/api/v1/me", f.tokens["alice"], "", ""); r.status != 401 || !strings.Contains(r.errorMessage(), "no longer") {
		t.Errorf("token of a removed person: %d %s", r.status, r.raw)
	}
}

// TestPayloadCannotNameActor: a PagerDuty event's client is not who
// resolved: the service's key is.
func TestPayloadCannotNameActor(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	f.onRunClock(t)
	for _, action := range []string{"trigger", "resolve"} {
		r := f.do(t, "POST", "/v2/enqueue", "", "application/json", `{"routing_key":"`+payKey+`","event_action":"`+action+`","dedup_key":"d1","client":"alice (sms)","payload":{"summary":"x","source":"s","severity":"critical"}}`)
		if r.status != 202 {
			t.Fatalf("%s: %d %s", action, r.status, r.raw)
		}
	}
	r := f.do(t, "GET", "/api/v1/incidents?status=resolved", f.tokens["erin"], "", "")
	incs, _ := r.body["incidents"].([]any)
	if len(incs) != 1 || incs[0].(map[string]any)["resolved_by"] != "service payments-api (key) from pagerduty" {
		t.Errorf("resolved by: %s", r.raw)
	}
}

// TestNowListsOpenIncidents: Now lists the open incidents, triggered
// before acknowledged (whoever's they are), each with its age and what
// happens next; the viewer's teams' are marked. (Alerts on one service
// within its group window join one incident: one incident a service.)
func TestNowListsOpenIncidents(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	id := func(r response) int64 { return int64(r.body["incident_id"].(float64)) }
	mine := id(f.do(t, "POST", "/api/v1/alerts", payKey, "", `{"summary":"pay down","severity":"critical","dedup_key":"p1"}`))
	if r := f.do(t, "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", mine), payKey, "", ""); r.status != 200 {
		t.Fatalf("ack: %d %s", r.status, r.raw)
	}
	search := id(f.do(t, "POST", "/api/v1/alerts", searchKey2, "", `{"summary":"search slow","severity":"critical","dedup_key":"s1"}`))
	page := func() string {
		req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens["alice"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, res)
		i := strings.Index(page, `id="open-incidents"`)
		if res.StatusCode != 200 || i < 0 {
			t.Fatalf("Now: %d, no open incidents table", res.StatusCode)
		}
		table := page[i:]
		return table[:strings.Index(table, "</table>")]
	}
	table := page()
	at := func(id int64) int { return strings.Index(table, fmt.Sprintf(`href="/incidents/%d"`, id)) }
	if !(at(search) >= 0 && at(search) < at(mine)) {
		t.Errorf("order: search's triggered %d, payments' acknowledged %d:\n%s", at(search), at(mine), table)
	}
	for _, want := range []string{`<tr class="mine"><td><a href="/incidents/` + fmt.Sprint(mine), "just now", "acknowledged by service payments-api (key)"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	// Resolved, it is gone.
	f.do(t, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", mine), payKey, "", "")
	if table = page(); at(mine) >= 0 {
		t.Errorf("a resolved incident listed:\n%s", table)
	}
}

// TestIncidentsOfMyTeams: the incidents page's team=mine keeps the
// viewer's teams' incidents.
func TestIncidentsOfMyTeams(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	f.do(t, "POST", "/api/v1/alerts", payKey, "", `{"summary":"pay down","severity":"critical"}`)
	f.do(t, "POST", "/api/v1/alerts", searchKey2, "", `{"summary":"search slow","severity":"critical"}`)
	req, _ := http.NewRequest("GET", f.srv.URL+"/incidents?team=mine", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens["alice"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "pay down") || strings.Contains(page, "search slow") || !strings.Contains(page, `<option value="mine" selected>my teams</option>`) {
		t.Errorf("alice's teams' incidents: %d\n%s", res.StatusCode, page)
	}
}

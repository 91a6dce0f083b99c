package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

const githubSecret = "It's a Secret to Everybody"

// alice is on call; bob wrote and carol merged.
const deployConfig = `
[github]
webhook_secret = { env = "GH" }
[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345001" }]
[[people]]
name = "bob"
timezone = "Europe/Berlin"
github = ["Codertocat"]
emails = ["bob@example.com"]
contacts = [{ type = "sms", address = "+4915112345002" }]
[[people]]
name = "carol"
timezone = "Europe/Berlin"
github = ["carol-merges"]
contacts = [{ type = "sms", address = "+4915112345003" }]
[[people]]
name = "zoe"
timezone = "Europe/Berlin"
github = ["zoe-gh"]
contacts = [{ type = "sms", address = "+4915112345009" }]
[[teams]]
name = "payments"
members = ["alice", "bob", "carol"]
timezone = "Europe/Berlin"
[[teams]]
name = "search"
members = ["zoe"]
timezone = "Europe/Berlin"
[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06
[[escalation_policies]]
name = "default"
steps = [{ targets = ["rotation:primary"], delay = "5m" }]
[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY" }]
github = [{ repository = "Codertocat/Hello-World", environment = "production" }]
[[services]]
name = "web"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "WEB" }]
deploy_routing = "off"
`

func newDeployFixture(t *testing.T) *fixture {
	t.Helper()
	env := map[string]string{"GH": githubSecret, "KEY": searchKey, "WEB": grafanaKey}
	cfg, err := config.Parse("deploy.toml", []byte(deployConfig), t.TempDir(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	// The store, the engine and the server run on the run's clock, as
	// the deploys' times are made from it.
	clocktest.Reproduce(t)
	db := storetest.Open(t, store.Options{Synchronous: store.SyncNormal})
	f := &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))}
	engine := paging.New(paging.Options{Store: db, Book: f.book, Now: clocktest.Now})
	st := withToken()
	st.GitHubSecret = cfg.GitHubSecret
	f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: engine, Alerts: db, Deploys: db, Ping: db.Ping, Settings: st, Now: clocktest.Now})
	f.srv = newServer(t, f.api)
	return f
}

func githubSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestGitHubSignatureVector(t *testing.T) {
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := githubSign(githubSecret, []byte("Hello, World!")); got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

func (f *fixture) github(t *testing.T, event, delivery, sig string, body []byte) response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/integrations/github", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	return f.send(t, req)
}

func TestGitHubWebhooks(t *testing.T) {
	f := newDeployFixture(t)
	body := []byte(fixtureFile(t, "github/deployment_status.json"))
	sig := githubSign(githubSecret, body)
	for _, tt := range []struct {
		name, sig string
		body      []byte
		message   string
	}{
		{"missing header", "", body, "missing X-Hub-Signature-256"},
		{"tampered body", sig, []byte(strings.Replace(string(body), "production", "staging", 1)), "does not match"},
		{"wrong secret", githubSign("another secret", body), body, "does not match"},
		{"not sha256", "sha1=abc", body, "must be sha256=HEX"},
	} {
		r := f.github(t, "deployment_status", "d-0", tt.sig, tt.body)
		if r.status != 401 || !strings.Contains(r.errorMessage(), tt.message) {
			t.Errorf("%s: %d %s", tt.name, r.status, r.raw)
		}
	}
	if ds, _ := f.db.Deploys(context.Background(), rota.DeployFilter{}); len(ds) != 0 {
		t.Fatalf("refused webhooks recorded deploys: %+v", ds)
	}

	ping := []byte(fixtureFile(t, "github/ping.json"))
	if r := f.github(t, "ping", "d-1", githubSign(githubSecret, ping), ping); r.status != 200 || r.body["message"] != "pong" {
		t.Errorf("ping: %d %s", r.status, r.raw)
	}
	push := []byte(fixtureFile(t, "github/push.json"))
	if r := f.github(t, "push", "d-2", githubSign(githubSecret, push), push); r.status != 202 || r.body["status"] != "ignored" || !strings.Contains(r.body["reason"].(string), "push events are not deploys") {
		t.Errorf("push: %d %s", r.status, r.raw)
	}
	pages := []byte(fixtureFile(t, "github/deployment_status.gh-pages.json"))
	if r := f.github(t, "deployment_status", "d-3", githubSign(githubSecret, pages), pages); r.status != 202 || !strings.Contains(r.body["reason"].(string), `"in_progress" is not a finished deploy`) {
		t.Errorf("in progress: %d %s", r.status, r.raw)
	}

	r := f.github(t, "deployment_status", "d-4", sig, body)
	if r.status != 202 || r.body["status"] != "recorded" {
		t.Fatalf("deployment_status: %d %s", r.status, r.raw)
	}
	d := r.body["deploy"].(map[string]any)
	if d["service"] != "payments-api" || d["commit"] != "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" || d["author"] != "Codertocat" ||
		d["author_person"] != "bob" || d["deployed_at"] != "2019-05-15T15:20:55Z" || d["environment"] != "production" ||
		d["compare_url"] != "https://github.com/Codertocat/Hello-World/commit/f95f852bd8fca8fcc58a9a2d6c842781e32a215e" ||
		d["recorded_by"] != "the GitHub webhook (delivery d-4)" {
		t.Errorf("deploy: %v", d)
	}
	// A redelivery is recorded once; so is a replay of the signed body
	// with new (unsigned) X-GitHub-Delivery values: the status id counts.
	f.github(t, "deployment_status", "d-4", sig, body)
	for _, delivery := range []string{"replay-1", "replay-2"} {
		f.github(t, "deployment_status", delivery, sig, body)
	}
	if ds, _ := f.db.Deploys(context.Background(), rota.DeployFilter{}); len(ds) != 1 {
		t.Errorf("%d deploys after a redelivery and replays", len(ds))
	}
	// A repository no service maps is ignored with why.
	other := []byte(strings.Replace(string(body), `"environment": "production"`, `"environment": "qa"`, -1))
	if r := f.github(t, "deployment_status", "d-5", githubSign(githubSecret, other), other); r.status != 202 || !strings.Contains(fmt.Sprint(r.body["reason"]), `no service is rolled out by Codertocat/Hello-World to "qa"`) {
		t.Errorf("unmapped: %d %s", r.status, r.raw)
	}
	// The deployment payload names the author and merger when CI knows.
	withPayload := []byte(strings.Replace(strings.Replace(string(body), `"payload": {}`, `"payload": {"author": "bob@example.com", "merged_by": "carol-merges", "compare_url": "https://github.com/Codertocat/Hello-World/compare/a...b"}`, 1),
		`"id": 209916254`, `"id": 209916255`, 1))
	r = f.github(t, "deployment_status", "d-6", githubSign(githubSecret, withPayload), withPayload)
	if d := r.body["deploy"].(map[string]any); d["author_person"] != "bob" || d["merger_person"] != "carol" || d["compare_url"] != "https://github.com/Codertocat/Hello-World/compare/a...b" {
		t.Errorf("payload: %s", r.raw)
	}
}

func TestNativeAndChangeDeploys(t *testing.T) {
	f := newDeployFixture(t)
	ago := clocktest.Now().UTC().Add(-10 * time.Minute).Format(time.RFC3339)
	r := f.do(t, "POST", "/api/v1/deploys", searchKey, "", fmt.Sprintf(`{"commit":"abc1234def","author":"Codertocat","merged_by":"carol-merges","deployed_at":%q,"compare_url":"https://example.com/c"}`, ago))
	if r.status != 201 || r.body["service"] != "payments-api" || r.body["author_person"] != "bob" || r.body["merger_person"] != "carol" {
		t.Fatalf("native: %d %s", r.status, r.raw)
	}
	for _, tt := range []struct {
		key, body, field string
		status           int
	}{
		{searchKey, `{"commit":"x","service":"web"}`, "service", 400},
		{adminToken, `{"commit":"x"}`, "service", 400},
		{adminToken, `{"commit":"x","service":"nope"}`, "service", 400},
		{searchKey, `{"author":"x"}`, "commit", 400},
		{searchKey, `{"commit":"x","deployed_at":"2099-01-01T00:00:00Z"}`, "deployed_at", 400},
		{searchKey, `{"commit":"x","deployed_at":"yesterday"}`, "deployed_at", 400},
		{searchKey, `{"commit":"x","who":"y"}`, "who", 400},
		{"", `{"commit":"x"}`, "", 401},
	} {
		r := f.do(t, "POST", "/api/v1/deploys", tt.key, "", tt.body)
		if r.status != tt.status || r.errorField() != tt.field {
			t.Errorf("%s: %d %s", tt.body, r.status, r.raw)
		}
	}
	if r := f.do(t, "POST", "/api/v1/deploys", adminToken, "", `{"commit":"def","service":"web"}`); r.status != 201 || r.body["service"] != "web" {
		t.Errorf("admin: %d %s", r.status, r.raw)
	}

	change := fmt.Sprintf(`{"routing_key":%q,"payload":{"summary":"Deploy 42 of payments-api","source":"ci","timestamp":%q,
		"custom_details":{"author":"Codertocat","merged_by":"carol-merges","commit":"0a1b2c3d4e","compare_url":"https://example.com/compare"}},
		"links":[{"href":"https://ci.example.com/42","text":"build"}]}`, searchKey, ago)
	r = f.do(t, "POST", "/v2/change/enqueue", "", "", change)
	if r.status != 202 || r.body["status"] != "success" || r.body["message"] != "Change event processed" {
		t.Fatalf("change: %d %s", r.status, r.raw)
	}
	for _, tt := range []struct{ body, err string }{
		{`{"routing_key":"` + searchKey + `"}`, "'payload' is missing"},
		{`{"routing_key":"` + searchKey + `","payload":{"summary":""}}`, "'payload.summary' is missing or blank"},
		{`{"routing_key":"` + searchKey + `","payload":{"summary":"x","custom_details":{"author":7}}}`, "'payload.custom_details.author' must be a string"},
		{`{"routing_key":"` + searchKey + `","payload":{"summary":"x","custom_details":{"service":"web"}}}`, `'payload.custom_details.service' is "web", but the routing key is service payments-api's`},
	} {
		r := f.do(t, "POST", "/v2/change/enqueue", "", "", tt.body)
		if r.status != 400 || !strings.Contains(fmt.Sprint(r.body["errors"]), tt.err) {
			t.Errorf("%s: %d %s", tt.body, r.status, r.raw)
		}
	}
	r = f.do(t, "GET", "/api/v1/deploys?service=payments-api", adminToken, "", "")
	ds := r.body["deploys"].([]any)
	if len(ds) != 2 || ds[0].(map[string]any)["url"] != "https://ci.example.com/42" && ds[1].(map[string]any)["url"] != "https://ci.example.com/42" {
		t.Errorf("list: %s", r.raw)
	}
	if r := f.do(t, "GET", "/api/v1/deploys?since=soon", adminToken, "", ""); r.status != 400 || r.errorField() != "since" {
		t.Errorf("bad since: %d", r.status)
	}
}

func TestAlertShowsSuspectedDeploy(t *testing.T) {
	f := newDeployFixture(t)
	now := clocktest.Now().UTC()
	for _, ago := range []time.Duration{50 * time.Minute, 10 * time.Minute, 2 * time.Hour} {
		f.do(t, "POST", "/api/v1/deploys", searchKey, "", fmt.Sprintf(`{"commit":"c%d","author":"Codertocat","deployed_at":%q}`, int(ago.Minutes()), now.Add(-ago).Format(time.RFC3339)))
	}
	r := f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"5xx","severity":"critical"}`)
	r = f.do(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", int(r.body["alert_id"].(float64))), adminToken, "", "")
	sus := r.body["suspected_deploy"].(map[string]any)
	others := r.body["other_deploys_in_window"].([]any)
	if sus["commit"] != "c10" || len(others) != 1 || others[0].(map[string]any)["commit"] != "c50" {
		t.Fatalf("suspect %v, others %v", sus, others)
	}
	var paged []string
	for _, n := range r.body["notifications"].([]any) {
		n := n.(map[string]any)
		paged = append(paged, fmt.Sprint(n["person"], ": ", n["reason"]))
	}
	if len(paged) != 1 || !strings.HasPrefix(paged[0], "bob: you deployed c10 10 min ago") {
		t.Errorf("author-first: %q", paged)
	}
	// "web" routes deploys off: the on-call only, though a deploy suspects.
	f.do(t, "POST", "/api/v1/deploys", grafanaKey, "", `{"commit":"w1","author":"Codertocat"}`)
	r = f.do(t, "POST", "/api/v1/alerts", grafanaKey, "", `{"summary":"down","severity":"critical"}`)
	r = f.do(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", int(r.body["alert_id"].(float64))), adminToken, "", "")
	if ns := r.body["notifications"].([]any); len(ns) != 1 || ns[0].(map[string]any)["person"] != "alice" || r.body["suspected_deploy"] == nil {
		t.Errorf("off: %s", r.raw)
	}
}

// TestAKeyCannotPageOutsideItsScope: payments-api pages its own team's
// deploy authors only (deploy_authors defaults to "team"): a deploy its
// key records naming zoe, of search, pages the on-call instead, and the
// timeline says why; the deploy names the key that recorded it.
func TestAKeyCannotPageOutsideItsScope(t *testing.T) {
	f := newDeployFixture(t)
	r := f.do(t, "POST", "/api/v1/deploys", searchKey, "", `{"commit":"bad0000","author":"zoe-gh","merged_by":"carol-merges"}`)
	if r.status != 201 || r.body["recorded_by"] != "service payments-api's key env:KEY" {
		t.Fatalf("deploy: %d %s", r.status, r.raw)
	}
	r = f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"5xx","severity":"critical"}`)
	r = f.do(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", int(r.body["alert_id"].(float64))), adminToken, "", "")
	var paged []string
	for _, n := range r.body["notifications"].([]any) {
		paged = append(paged, fmt.Sprint(n.(map[string]any)["person"]))
	}
	// zoe is out of scope; carol, the merger, is on the team and paged
	// in her place.
	if strings.Join(paged, ",") != "carol" {
		t.Errorf("paged %v, want the merger carol only", paged)
	}
	if tl := fmt.Sprint(r.body["timeline"]); !strings.Contains(tl, `author zoe is not on team payments, and service payments-api pages its own team's authors only (deploy_authors = "team"): not paged`) {
		t.Errorf("timeline: %s", tl)
	}
}

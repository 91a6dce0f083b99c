package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

const (
	paymentsKey = "example-integration-key" // what the captured Alertmanager sent
	searchKey   = "search-integration-key-0123"
	grafanaKey  = "grafana-integration-key-0123"
	grafanaHMAC = "grafana-signing-secret"
)

const ingestConfig = `
[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "sms", address = "+4915112345001" }]
[[teams]]
name = "payments"
members = ["alice"]
timezone = "Europe/Berlin"
[[rotations]]
name = "primary"
team = "payments"
members = ["alice"]
start = 2026-01-06
[[escalation_policies]]
name = "default"
steps = [{ targets = ["rotation:primary"] }]
[[services]]
name = "payments-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY_PAYMENTS" }]
[[services]]
name = "search-api"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY_SEARCH" }]
# One incident per alert: the bundling and reply-code tests page alerts
# one by one.
group = "off"
[[services]]
name = "dashboards"
team = "payments"
escalation_policy = "default"
integration_keys = [{ env = "KEY_GRAFANA" }]
grafana_signature = { secret = { env = "GRAFANA_HMAC" }, timestamp_header = "X-Grafana-Alert-Timestamp" }
`

func newIngestFixture(t testing.TB) *fixture {
	t.Helper()
	env := map[string]string{"KEY_PAYMENTS": paymentsKey + "-long-enough", "KEY_SEARCH": searchKey, "KEY_GRAFANA": grafanaKey, "GRAFANA_HMAC": grafanaHMAC}
	cfg, err := config.Parse("ingest.toml", []byte(ingestConfig), t.TempDir(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	// The captured payloads carry a 23-character key; accept it too.
	cfg.Org.Service("payments-api").IntegrationKeys = append(cfg.Org.Service("payments-api").IntegrationKeys, rota.Secret{Source: "test", Value: paymentsKey})
	// The store, the engine and the server run on the run's clock, as
	// signatures' timestamps are made from it.
	clocktest.Reproduce(t)
	db := storetest.Open(t, store.Options{})
	f := &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))}
	engine := paging.New(paging.Options{Store: db, Book: f.book, Now: clocktest.Now})
	f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: engine, Twilio: engine, Alerts: db, Deploys: db, Feeds: db, Swaps: db,
		Teller: engine, Reports: db, Ping: db.Ping, Settings: withToken(), Now: clocktest.Now})
	f.srv = newServer(t, f.api)
	return f
}

func fixtureFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) countAlerts(t *testing.T) int {
	t.Helper()
	as, err := f.db.Alerts(context.Background(), rota.IncidentFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(as)
}

func TestNativeAlerts(t *testing.T) {
	f := newIngestFixture(t)
	body := `{"summary":"disk full on db-1","severity":"critical","dedup_key":"disk-db-1","source":"db-1","details":{"free":"0%"},"links":[{"href":"https://grafana.example/d/1","text":"dashboard"}]}`
	r := f.do(t, "POST", "/api/v1/alerts", searchKey, "application/json", body)
	if r.status != 202 || r.body["outcome"] != "created" || r.body["status"] != "triggered" || r.body["dedup_key"] != "disk-db-1" {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := int64(r.body["alert_id"].(float64))
	r = f.do(t, "POST", "/api/v1/alerts?key="+searchKey, "", "", body)
	if r.status != 202 || r.body["outcome"] != "deduplicated" || int64(r.body["alert_id"].(float64)) != id {
		t.Fatalf("repeat: %d %s", r.status, r.raw)
	}
	r = f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"no key given","severity":"info"}`)
	if r.status != 202 || len(r.body["dedup_key"].(string)) != 32 {
		t.Errorf("generated dedup key: %s", r.raw)
	}
	r = f.do(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", id), adminToken, "", "")
	if r.body["service"] != "search-api" || r.body["count"].(float64) != 2 || r.body["details"].(map[string]any)["free"] != "0%" {
		t.Errorf("alert: %s", r.raw)
	}
	tl := r.body["timeline"].([]any)
	if len(tl) < 2 || tl[0].(map[string]any)["kind"] != "triggered" || tl[1].(map[string]any)["kind"] != "escalated" {
		t.Errorf("timeline: %v", tl)
	}
	if ns := r.body["notifications"].([]any); len(ns) != 1 || ns[0].(map[string]any)["person"] != "alice" {
		t.Errorf("notifications: %v", ns)
	}
}

func TestNativeBadInput(t *testing.T) {
	f := newIngestFixture(t)
	big := `{"summary":"` + strings.Repeat("x", 600<<10) + `","severity":"critical"}`
	for _, tt := range []struct {
		name, key, contentType, body string
		status                       int
		code, field, message         string
	}{
		{"no key", "", "", `{"summary":"x","severity":"critical"}`, 401, "unauthorized", "", "integration key"},
		{"unknown key", "not-a-key", "", `{"summary":"x","severity":"critical"}`, 401, "unauthorized", "", "unknown integration key"},
		{"malformed", searchKey, "", `{"summary":`, 400, "invalid", "", "ends too soon"},
		{"unknown field", searchKey, "", `{"summary":"x","severity":"critical","sevirity":"x"}`, 400, "invalid", "sevirity", "unknown field"},
		{"missing summary", searchKey, "", `{"severity":"critical"}`, 400, "invalid", "summary", "is required"},
		{"bad severity", searchKey, "", `{"summary":"x","severity":"high"}`, 400, "invalid", "severity", `not "high"`},
		{"details not an object", searchKey, "", `{"summary":"x","severity":"info","details":[1]}`, 400, "invalid", "details", "JSON object"},
		{"wrong type", searchKey, "", `{"summary":"x","severity":"info","links":"x"}`, 400, "invalid", "links", "must be an array"},
		{"link without href", searchKey, "", `{"summary":"x","severity":"info","links":[{"text":"x"}]}`, 400, "invalid", "links", "href"},
		{"too large", searchKey, "", big, 413, "too_large", "", "larger than"},
		{"not json", searchKey, "text/plain", `{"summary":"x","severity":"critical"}`, 415, "unsupported_media_type", "", "JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "POST", "/api/v1/alerts", tt.key, tt.contentType, tt.body)
			if r.status != tt.status || r.errorCode() != tt.code || r.errorField() != tt.field || !strings.Contains(r.errorMessage(), tt.message) {
				t.Errorf("got %d %s, want %d %s %q %q", r.status, r.raw, tt.status, tt.code, tt.field, tt.message)
			}
		})
	}
	if n := f.countAlerts(t); n != 0 {
		t.Errorf("%d alerts stored from bad input", n)
	}
}

func TestPagerDutyEvents(t *testing.T) {
	f := newIngestFixture(t)
	r := f.do(t, "POST", "/v2/enqueue", "", "application/json", fixtureFile(t, "alertmanager/pagerduty-v2.trigger.json"))
	if r.status != 202 || r.body["status"] != "success" || r.body["message"] != "Event processed" || r.body["dedup_key"] != "03e9bc3e78d10840cfc170666857d0b4e234711b55c41a63e6bb31950e70de64" {
		t.Fatalf("trigger: %d %s", r.status, r.raw)
	}
	as, _ := f.db.Alerts(context.Background(), rota.IncidentFilter{})
	if len(as) != 1 || as[0].Service != "payments-api" || as[0].Severity != "error" || as[0].Summary != "[FIRING:2] HighErrorRate payments-api (critical)" || as[0].Integration != "pagerduty" {
		t.Fatalf("alert: %+v", as)
	}
	if len(as[0].Links) != 1 || as[0].Links[0].Href != "http://vm:46361/#/alerts?receiver=both" {
		t.Errorf("client_url not kept as a link: %+v", as[0].Links)
	}
	// Retried, the trigger pages nobody.
	f.do(t, "POST", "/v2/enqueue", "", "", fixtureFile(t, "alertmanager/pagerduty-v2.trigger.json"))
	r = f.do(t, "POST", "/v2/enqueue", "", "", fixtureFile(t, "alertmanager/pagerduty-v2.resolve.json"))
	if r.status != 202 {
		t.Fatalf("resolve: %d %s", r.status, r.raw)
	}
	a, _ := f.db.Alert(context.Background(), as[0].ID)
	if a.Status != "resolved" || a.Count != 2 {
		t.Errorf("after resolve: %s count %d", a.Status, a.Count)
	}
	// Follow-ups with no open alert are accepted and dropped.
	r = f.do(t, "POST", "/v2/enqueue", "", "", `{"routing_key":"`+searchKey+`","event_action":"acknowledge","dedup_key":"nothing-open"}`)
	if r.status != 202 || r.body["status"] != "success" {
		t.Errorf("ack of nothing: %d %s", r.status, r.raw)
	}
}

func TestPagerDutyInvalid(t *testing.T) {
	f := newIngestFixture(t)
	for _, tt := range []struct {
		name, body string
		status     int
		errs       []string
	}{
		{"missing everything", `{}`, 400, []string{"'routing_key' is missing or blank", "'event_action' is missing or blank"}},
		{"bad payload", `{"routing_key":"` + searchKey + `","event_action":"trigger","payload":{"summary":"","source":"","severity":"fatal"}}`, 400,
			[]string{"'payload.summary' is missing or blank", "'payload.source' is missing or blank", `'payload.severity' must be critical, error, warning or info, not "fatal"`}},
		{"no payload", `{"routing_key":"` + searchKey + `","event_action":"trigger"}`, 400, []string{"'payload' is missing"}},
		{"bad action", `{"routing_key":"` + searchKey + `","event_action":"snooze","dedup_key":"x"}`, 400, []string{`'event_action' must be trigger, acknowledge or resolve, not "snooze"`}},
		{"resolve without key", `{"routing_key":"` + searchKey + `","event_action":"resolve"}`, 400, []string{"'dedup_key' is required to resolve an alert"}},
		{"unknown field", `{"routing_key":"` + searchKey + `","event_action":"trigger","payload":{"summary":"x","source":"y","severity":"info","colour":"red"}}`, 400, []string{`unknown field "colour"`}},
		{"bad timestamp", `{"routing_key":"` + searchKey + `","event_action":"trigger","payload":{"summary":"x","source":"y","severity":"info","timestamp":"yesterday"}}`, 400, []string{`'payload.timestamp' "yesterday" is not an ISO 8601 time`}},
		{"unknown routing key", `{"routing_key":"nope","event_action":"trigger","payload":{"summary":"x","source":"y","severity":"info"}}`, 401, []string{"the routing key is not the integration key of any service"}},
		{"malformed", `{"routing_key":`, 400, []string{"the body is not valid JSON: it ends too soon"}},
		{"too large", `{"routing_key":"` + strings.Repeat("k", 513<<10) + `"}`, 413, []string{"the body is larger than 524288 bytes"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "POST", "/v2/enqueue", "", "", tt.body)
			if r.status != tt.status || r.body["status"] != "invalid event" {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			var got []string
			for _, e := range r.body["errors"].([]any) {
				got = append(got, e.(string))
			}
			if strings.Join(got, "\n") != strings.Join(tt.errs, "\n") {
				t.Errorf("errors %q, want %q", got, tt.errs)
			}
		})
	}
	if n := f.countAlerts(t); n != 0 {
		t.Errorf("%d alerts stored from invalid events", n)
	}
}

func TestAlertmanagerWebhook(t *testing.T) {
	f := newIngestFixture(t)
	r := f.do(t, "POST", "/api/v1/integrations/alertmanager", paymentsKey, "application/json", fixtureFile(t, "alertmanager/webhook-v4.firing.json"))
	if r.status != 202 {
		t.Fatalf("firing: %d %s", r.status, r.raw)
	}
	results := r.body["alerts"].([]any)
	// The two alerts of one Alertmanager group are one incident.
	if len(results) != 2 || results[0].(map[string]any)["dedup_key"] != "b941f00b45618ee0" || results[0].(map[string]any)["outcome"] != "created" ||
		results[1].(map[string]any)["outcome"] != "grouped" || results[1].(map[string]any)["incident_id"] != results[0].(map[string]any)["incident_id"] {
		t.Fatalf("results: %s", r.raw)
	}
	as, _ := f.db.Alerts(context.Background(), rota.IncidentFilter{Status: "open"})
	if len(as) != 2 || as[1].Summary != "payments-api 5xx above 2%" || as[1].Severity != "critical" || as[1].Source != "web-1" {
		t.Fatalf("alerts: %+v", as)
	}
	if as[1].Links[0].Href != "http://prometheus.example/graph?g0.expr=rate" {
		t.Errorf("links: %+v", as[1].Links)
	}
	r = f.do(t, "POST", "/api/v1/integrations/alertmanager?key="+paymentsKey, "", "", fixtureFile(t, "alertmanager/webhook-v4.resolved.json"))
	if r.status != 202 || r.body["alerts"].([]any)[0].(map[string]any)["outcome"] != "resolved" {
		t.Fatalf("resolved: %d %s", r.status, r.raw)
	}
	if open, _ := f.db.Alerts(context.Background(), rota.IncidentFilter{Status: "open"}); len(open) != 0 {
		t.Errorf("still open: %+v", open)
	}
	if open, _ := f.db.Incidents(context.Background(), rota.IncidentFilter{Status: "open"}); len(open) != 0 {
		t.Errorf("incident still open with all its alerts resolved: %+v", open)
	}
	for _, tt := range []struct{ body, field string }{
		{strings.Replace(fixtureFile(t, "alertmanager/webhook-v4.firing.json"), `"version": "4"`, `"version": "3"`, 1), "version"},
		{`{"version":"4","alerts":[]}`, "alerts"},
		{`{"version":"4","alerts":[{"status":"pending","labels":{}}]}`, "alerts[0].status"},
	} {
		r := f.do(t, "POST", "/api/v1/integrations/alertmanager", paymentsKey, "", tt.body)
		if r.status != 400 || r.errorField() != tt.field {
			t.Errorf("%s: %d %s", tt.field, r.status, r.raw)
		}
	}
	if r := f.do(t, "POST", "/api/v1/integrations/alertmanager", "", "", `{}`); r.status != 401 {
		t.Errorf("no key: %d", r.status)
	}
}

func grafanaBody() string {
	return `{"receiver":"rota","status":"firing","orgId":1,"title":"[FIRING:1] Latency","state":"alerting","message":"p99 high",
"alerts":[{"status":"firing","labels":{"alertname":"Latency","severity":"warning"},"annotations":{"summary":"p99 above 2s"},
"startsAt":"2026-11-22T01:58:49Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://grafana/alerting/1","fingerprint":"abc123",
"silenceURL":"http://grafana/silence","dashboardURL":"http://grafana/d/1","panelURL":"http://grafana/d/1?viewPanel=2","values":{"A":2.4},"valueString":"A=2.4"}],
"groupLabels":{},"commonLabels":{"alertname":"Latency"},"commonAnnotations":{},"externalURL":"http://grafana/","version":"1","groupKey":"{}","truncatedAlerts":0}`
}

func sign(ts, body string) string {
	mac := hmac.New(sha256.New, []byte(grafanaHMAC))
	mac.Write([]byte(ts + ":" + body))
	return hex.EncodeToString(mac.Sum(nil))
}

func TestGrafanaWebhookSignature(t *testing.T) {
	f := newIngestFixture(t)
	body := grafanaBody()
	now := fmt.Sprint(clocktest.Now().Unix())
	post := func(headers map[string]string, body string) response {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/integrations/grafana", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+grafanaKey)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		return f.send(t, req)
	}
	for _, tt := range []struct {
		name    string
		headers map[string]string
		body    string
		message string
	}{
		{"unsigned", nil, body, "missing X-Grafana-Alert-Signature header"},
		{"no timestamp", map[string]string{"X-Grafana-Alert-Signature": sign(now, body)}, body, "X-Grafana-Alert-Timestamp"},
		{"tampered", map[string]string{"X-Grafana-Alert-Signature": sign(now, body), "X-Grafana-Alert-Timestamp": now}, strings.Replace(body, "p99", "p50", 1), "does not match"},
		{"wrong secret", map[string]string{"X-Grafana-Alert-Signature": strings.Repeat("0", 64), "X-Grafana-Alert-Timestamp": now}, body, "does not match"},
		{"replayed", map[string]string{"X-Grafana-Alert-Signature": sign("1700000000", body), "X-Grafana-Alert-Timestamp": "1700000000"}, body, "more than 5m0s from now"},
	} {
		r := post(tt.headers, tt.body)
		if r.status != 401 || !strings.Contains(r.errorMessage(), tt.message) {
			t.Errorf("%s: %d %s", tt.name, r.status, r.raw)
		}
	}
	if n := f.countAlerts(t); n != 0 {
		t.Fatalf("unsigned requests stored %d alerts", n)
	}
	r := post(map[string]string{"X-Grafana-Alert-Signature": sign(now, body), "X-Grafana-Alert-Timestamp": now}, body)
	if r.status != 202 {
		t.Fatalf("signed: %d %s", r.status, r.raw)
	}
	as, _ := f.db.Alerts(context.Background(), rota.IncidentFilter{})
	if len(as) != 1 || as[0].Summary != "p99 above 2s" || as[0].Severity != "warning" || as[0].Integration != "grafana" || len(as[0].Links) != 5 {
		t.Errorf("alert: %+v", as)
	}
}

func TestAckResolveAPI(t *testing.T) {
	f := newIngestFixture(t)
	r := f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"x","severity":"critical","dedup_key":"k"}`)
	id := int64(r.body["alert_id"].(float64))
	path := fmt.Sprintf("/api/v1/alerts/%d", id)
	if r := f.do(t, "POST", path+"/ack", "", "", ""); r.status != 401 {
		t.Errorf("anonymous ack: %d", r.status)
	}
	if r := f.do(t, "POST", "/api/v1/alerts/999/ack", "", "", ""); r.status != 401 {
		t.Errorf("anonymous ack of an unknown alert must not reveal it: %d", r.status)
	}
	if r := f.do(t, "POST", path+"/ack", grafanaKey, "", ""); r.status != 403 || !strings.Contains(r.errorMessage(), "service dashboards's") {
		t.Errorf("another service's key: %d %s", r.status, r.raw)
	}
	// The body cannot name who acts: rota records who authenticated.
	if r := f.do(t, "POST", path+"/ack", searchKey, "application/json", `{"by":"alice (sms)"}`); r.status != 400 || r.errorField() != "by" ||
		!strings.Contains(r.errorMessage(), "service search-api (key)") {
		t.Errorf("an actor named in the body: %d %s", r.status, r.raw)
	}
	r = f.do(t, "POST", path+"/ack", searchKey, "application/json", "")
	if inc, _ := r.body["incident"].(map[string]any); r.status != 200 || r.body["status"] != "acknowledged" || inc["acknowledged_by"] != "service search-api (key)" || inc["escalation"].(map[string]any)["state"] != "stopped" {
		t.Fatalf("ack: %d %s", r.status, r.raw)
	}
	if r := f.do(t, "POST", path+"/ack", adminToken, "", ""); r.status != 200 || r.body["incident"].(map[string]any)["acknowledged_by"] != "service search-api (key)" {
		t.Errorf("ack again is a no-op: %d %s", r.status, r.raw)
	}
	if r := f.do(t, "POST", path+"/resolve", adminToken, "", ""); r.status != 200 || r.body["status"] != "resolved" || r.body["resolved_by"] != "admin (token)" {
		t.Fatalf("resolve: %d %s", r.status, r.raw)
	}
	for _, action := range []string{"ack", "resolve"} {
		if r := f.do(t, "POST", path+"/"+action, adminToken, "", ""); r.status != 409 || !strings.Contains(r.errorMessage(), "was resolved") {
			t.Errorf("%s after resolve: %d %s", action, r.status, r.raw)
		}
	}
	if r := f.do(t, "POST", "/api/v1/alerts/999/ack", adminToken, "", ""); r.status != 404 {
		t.Errorf("unknown alert: %d", r.status)
	}
	if r := f.do(t, "POST", path+"/ack", adminToken, "", `{"by":1}`); r.status != 400 || r.errorField() != "by" {
		t.Errorf("bad body: %d %s", r.status, r.raw)
	}
	r = f.do(t, "GET", "/api/v1/alerts?status=resolved&service=search-api", adminToken, "", "")
	if as := r.body["alerts"].([]any); len(as) != 1 {
		t.Errorf("list: %s", r.raw)
	}
	for _, q := range []string{"status=done", "service=nope", "limit=0", "before=x"} {
		if r := f.do(t, "GET", "/api/v1/alerts?"+q, adminToken, "", ""); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
}

// TestConcurrentDuplicatesMakeOneAlert posts the same event from 20
// clients at once.
func TestConcurrentDuplicatesMakeOneAlert(t *testing.T) {
	f := newIngestFixture(t)
	var wg sync.WaitGroup
	ids := make(chan float64, 20)
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", f.srv.URL+"/v2/enqueue", strings.NewReader(
				`{"routing_key":"`+searchKey+`","event_action":"trigger","dedup_key":"same","payload":{"summary":"x","source":"y","severity":"critical"}}`))
			r := f.send(t, req)
			if r.status != 202 {
				t.Errorf("%d %s", r.status, r.raw)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(ids)
	as, _ := f.db.Alerts(context.Background(), rota.IncidentFilter{})
	if len(as) != 1 || as[0].Count != 20 {
		t.Fatalf("%d alerts (count %d), want 1 with count 20", len(as), as[0].Count)
	}
	_, ns, _ := f.db.Timeline(context.Background(), as[0].ID)
	if len(ns) != 1 {
		t.Errorf("%d notifications, want 1", len(ns))
	}
}

func TestMetrics(t *testing.T) {
	f := newIngestFixture(t)
	f.do(t, "POST", "/api/v1/alerts", searchKey, "", `{"summary":"x","severity":"critical"}`)
	f.do(t, "POST", "/api/v1/alerts", "bad", "", `{"summary":"x","severity":"critical"}`)
	res, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b := new(strings.Builder)
	if _, err := fmt.Fprint(b, readAll(t, res)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`rota_alerts_received_total{outcome="created",source="native"} 1`,
		`rota_alerts_received_total{outcome="rejected",source="native"} 1`,
		`rota_http_request_duration_seconds_count{code="202",route="POST /api/v1/alerts"} 1`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestIncidentsAPI: an Alertmanager group is one incident, listed and
// shown with its alerts and timeline, acknowledged and resolved as one.
func TestIncidentsAPI(t *testing.T) {
	f := newIngestFixture(t)
	r := f.do(t, "POST", "/api/v1/integrations/alertmanager", paymentsKey, "application/json", fixtureFile(t, "alertmanager/webhook-v4.firing.json"))
	if r.status != 202 {
		t.Fatalf("firing: %d %s", r.status, r.raw)
	}
	second := r.body["alerts"].([]any)[1].(map[string]any)
	id := int64(second["incident_id"].(float64))
	r = f.do(t, "GET", "/api/v1/incidents?status=open", adminToken, "", "")
	if is := r.body["incidents"].([]any); r.status != 200 || len(is) != 1 || is[0].(map[string]any)["alert_count"].(float64) != 2 {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	path := fmt.Sprintf("/api/v1/incidents/%d", id)
	r = f.do(t, "GET", path, adminToken, "", "")
	if as := r.body["alerts"].([]any); r.status != 200 || len(as) != 2 || r.body["service"] != "payments-api" || r.body["status"] != "triggered" {
		t.Fatalf("detail: %d %s", r.status, r.raw)
	}
	var kinds []string
	for _, e := range r.body["timeline"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	if got := strings.Join(kinds, ","); !strings.HasPrefix(got, "triggered,escalated") || !strings.Contains(got, "alert") {
		t.Errorf("timeline: %v", kinds)
	}
	// The alert names its incident.
	r = f.do(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", int64(second["alert_id"].(float64))), adminToken, "", "")
	if inc := r.body["incident"].(map[string]any); inc["id"].(float64) != float64(id) || len(r.body["timeline"].([]any)) < 3 {
		t.Errorf("alert: %s", r.raw)
	}
	if r := f.do(t, "POST", path+"/ack", "", "", ""); r.status != 401 {
		t.Errorf("anonymous ack: %d", r.status)
	}
	if r := f.do(t, "POST", path+"/ack", searchKey, "", ""); r.status != 403 || !strings.Contains(r.errorMessage(), "not service payments-api's") {
		t.Errorf("another service's key: %d %s", r.status, r.raw)
	}
	r = f.do(t, "POST", path+"/ack", paymentsKey, "application/json", "")
	if r.status != 200 || r.body["status"] != "acknowledged" || r.body["acknowledged_by"] != "service payments-api (key)" {
		t.Fatalf("ack: %d %s", r.status, r.raw)
	}
	if open, _ := f.db.Alerts(context.Background(), rota.IncidentFilter{Status: "triggered"}); len(open) != 0 {
		t.Errorf("alerts still triggered with their incident acknowledged: %+v", open)
	}
	if r := f.do(t, "POST", path+"/resolve", adminToken, "", ""); r.status != 200 || r.body["status"] != "resolved" {
		t.Fatalf("resolve: %d %s", r.status, r.raw)
	}
	if open, _ := f.db.Alerts(context.Background(), rota.IncidentFilter{Status: "open"}); len(open) != 0 {
		t.Errorf("alerts still open with their incident resolved: %+v", open)
	}
	if r := f.do(t, "POST", path+"/ack", adminToken, "", ""); r.status != 409 {
		t.Errorf("ack after resolve: %d %s", r.status, r.raw)
	}
	for _, tt := range []struct {
		path   string
		status int
	}{{"/api/v1/incidents/999", 404}, {"/api/v1/incidents/x", 400}, {"/api/v1/incidents?status=done", 400}, {"/api/v1/incidents?before=0", 400},
		{"/api/v1/incidents?paged=you", 400}, {"/api/v1/incidents?paged=me", 400} /* the admin token is no person */} {
		if r := f.do(t, "GET", tt.path, adminToken, "", ""); r.status != tt.status {
			t.Errorf("%s: %d %s", tt.path, r.status, r.raw)
		}
	}
}

// TestMetricsToken: with server.metrics_token set, /metrics answers its
// bearer only; configured but unset, nobody.
func TestMetricsToken(t *testing.T) {
	f := newIngestFixture(t)
	get := func(token string) int {
		req, _ := http.NewRequest("GET", f.srv.URL+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(""); code != 200 {
		t.Errorf("no metrics token configured: %d", code)
	}
	st := withToken()
	st.MetricsTokenSet, st.MetricsToken = true, "metrics-token-0123456789"
	f.api.SetSettings(st)
	for token, want := range map[string]int{"": 401, "wrong": 401, adminToken: 401, "metrics-token-0123456789": 200} {
		if code := get(token); code != want {
			t.Errorf("token %q: %d, want %d", token, code, want)
		}
	}
	st.MetricsToken = ""
	f.api.SetSettings(st)
	if code := get("metrics-token-0123456789"); code != 403 {
		t.Errorf("configured but unset: %d, want 403", code)
	}
}

// TestWebhookAppliedInOrder: the alerts of one payload are applied side by
// side but in order: an alert that fires and resolves in the same payload
// is created, then resolved (never dropped for not being there yet), and
// the answer lists each outcome at its place.
func TestWebhookAppliedInOrder(t *testing.T) {
	f := newIngestFixture(t)
	var b strings.Builder
	b.WriteString(`{"version":"4","groupKey":"g","status":"firing","receiver":"rota","alerts":[`)
	var want []string
	for i := range 60 {
		if i > 0 {
			b.WriteString(",")
		}
		status, key := "firing", fmt.Sprintf("f%d", i/2)
		want = append(want, "created")
		if i%2 == 1 {
			status = "resolved"
			want[i] = "resolved"
		}
		fmt.Fprintf(&b, `{"status":%q,"labels":{"alertname":"A%s","severity":"critical"},"fingerprint":%q}`, status, key, key)
	}
	b.WriteString("]}")
	r := f.do(t, "POST", "/api/v1/integrations/alertmanager", paymentsKey, "application/json", b.String())
	if r.status != 202 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	var got []string
	for _, a := range r.body["alerts"].([]any) {
		got = append(got, a.(map[string]any)["outcome"].(string))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}

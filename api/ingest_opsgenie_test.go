package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rotahq/rota"
)

// genie sends an Opsgenie Alert API request with key as its GenieKey.
func (f *fixture) genie(t *testing.T, method, path, key, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "GenieKey "+key)
	}
	return f.send(t, req)
}

// amOpsgenie is what Alertmanager's opsgenie_configs posts for a group
// (notify/opsgenie: alias the group key's hash, details its common labels).
const amOpsgenie = `{"alias":"6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","message":"[FIRING:1] HighErrorRate payments-api","description":"5xx above 2%% for 5 minutes","details":{"alertname":"HighErrorRate","cluster":"eu-1","severity":"critical"},"source":"http://alertmanager:9093","tags":["payments","eu-1"],"priority":%q}
`

// TestOpsgenieAlerts: Alertmanager's and Grafana's Opsgenie requests work
// against rota by changing the URL: a create answers as Opsgenie does and
// opens an incident (its priority a severity, its alias the dedup key,
// its details labels), a repeat is deduplicated, acknowledge and close by
// alias act on it; bad input and bad keys answer as Opsgenie would.
func TestOpsgenieAlerts(t *testing.T) {
	f := newIngestFixture(t)
	r := f.genie(t, "POST", "/v2/alerts", searchKey, fmt.Sprintf(amOpsgenie, "P1"))
	if r.status != 202 || r.body["result"] != "Request will be processed" || r.body["requestId"] == "" || r.body["took"] == nil {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	as, _ := f.db.Alerts(context.Background(), rota.IncidentFilter{})
	if len(as) != 1 || as[0].Service != "search-api" || as[0].Severity != rota.SeverityCritical || as[0].Summary != "[FIRING:1] HighErrorRate payments-api" ||
		as[0].Integration != "opsgenie" || as[0].DedupKey != "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b" || as[0].Source != "http://alertmanager:9093" {
		t.Fatalf("alert: %+v", as)
	}
	if d := string(as[0].Details); !strings.Contains(d, `"description":"5xx above 2% for 5 minutes"`) || !strings.Contains(d, `"cluster":"eu-1"`) || !strings.Contains(d, `"priority":"P1"`) {
		t.Errorf("details: %s", d)
	}
	// Alertmanager repeats a group: one alert, counted twice.
	f.genie(t, "POST", "/v2/alerts", searchKey, fmt.Sprintf(amOpsgenie, "P1"))
	if n := f.countAlerts(t); n != 1 {
		t.Errorf("%d alerts after a repeat", n)
	}
	r = f.genie(t, "POST", "/v2/alerts/6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b/acknowledge?identifierType=alias", searchKey, `{"user":"am","source":"alertmanager"}`)
	if r.status != 202 {
		t.Fatalf("acknowledge: %d %s", r.status, r.raw)
	}
	if inc, _ := f.db.Incident(context.Background(), as[0].IncidentID); inc.Status != rota.StatusAcknowledged || inc.AckedBy != "service search-api (key) from opsgenie" {
		t.Errorf("after acknowledge: %s by %q", inc.Status, inc.AckedBy)
	}
	// Alertmanager's resolve: close by alias, a body of only its source.
	r = f.genie(t, "POST", "/v2/alerts/6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b/close?identifierType=alias", searchKey, `{"source":"http://alertmanager:9093"}`)
	if a, _ := f.db.Alert(context.Background(), as[0].ID); r.status != 202 || a.Status != rota.StatusResolved || a.Count != 2 {
		t.Errorf("close: %d %s; alert %s count %d", r.status, r.raw, a.Status, a.Count)
	}

	// Grafana's contact point sets no priority: P3, urgent.
	r = f.genie(t, "POST", "/v2/alerts", searchKey, `{"alias":"grafana-1","message":"DiskFull","source":"Grafana","details":{"url":"http://grafana:3000/alerting/list"}}`)
	if r.status != 202 {
		t.Fatalf("grafana create: %d %s", r.status, r.raw)
	}
	as, _ = f.db.Alerts(context.Background(), rota.IncidentFilter{})
	if as[0].Summary != "DiskFull" || as[0].Severity != rota.SeverityError {
		t.Errorf("grafana's alert: %+v", as[0])
	}
	// By id: rota's alert id, the key's own service only.
	if r := f.genie(t, "POST", fmt.Sprintf("/v2/alerts/%d/close", as[0].ID), grafanaKey, ""); r.status != 403 {
		t.Errorf("another service's key closes by id: %d %s", r.status, r.raw)
	}
	if r := f.genie(t, "POST", fmt.Sprintf("/v2/alerts/%d/close?identifierType=id", as[0].ID), searchKey, ""); r.status != 202 {
		t.Errorf("close by id: %d %s", r.status, r.raw)
	}
	if a, _ := f.db.Alert(context.Background(), as[0].ID); a.Status != rota.StatusResolved {
		t.Errorf("closed by id: %s", a.Status)
	}
	// An alias longer than rota's dedup keys (Opsgenie takes 512): the
	// same alias is the same alert.
	long := strings.Repeat("a", 400)
	f.genie(t, "POST", "/v2/alerts", searchKey, `{"alias":"`+long+`","message":"long alias"}`)
	f.genie(t, "POST", "/v2/alerts", searchKey, `{"alias":"`+long+`","message":"long alias"}`)
	r = f.genie(t, "POST", "/v2/alerts/"+long+"/close?identifierType=alias", searchKey, "")
	as, _ = f.db.Alerts(context.Background(), rota.IncidentFilter{})
	if r.status != 202 || as[0].Summary != "long alias" || as[0].Count != 2 || as[0].Status != rota.StatusResolved {
		t.Errorf("a long alias: %d; %+v", r.status, as[0])
	}

	// A message over Opsgenie's 130 characters is cut as Opsgenie cuts
	// it; the whole is kept.
	f.genie(t, "POST", "/v2/alerts", searchKey, `{"message":"`+strings.Repeat("m", 140)+`"}`)
	as, _ = f.db.Alerts(context.Background(), rota.IncidentFilter{})
	if len(as[0].Summary) != 130 || !strings.Contains(string(as[0].Details), strings.Repeat("m", 140)) {
		t.Errorf("a long message: %q, details %s", as[0].Summary, as[0].Details)
	}

	for _, tt := range []struct {
		name, method, path, key, body string
		status                        int
		message, field                string
	}{
		{"no key", "POST", "/v2/alerts", "", `{"message":"x"}`, 401, "Could not authenticate", ""},
		{"an unknown key", "POST", "/v2/alerts", "not-a-key", `{"message":"x"}`, 401, "Could not authenticate", ""},
		{"no message", "POST", "/v2/alerts", searchKey, `{"alias":"x"}`, 422, "Request body is not processable", "message"},
		{"a description over 15,000 characters", "POST", "/v2/alerts", searchKey, `{"message":"x","description":"` + strings.Repeat("d", 15001) + `"}`, 422, "Request body is not processable", "description"},
		{"a priority that is none", "POST", "/v2/alerts", searchKey, `{"message":"x","priority":"P9"}`, 422, "Request body is not processable", "priority"},
		{"not JSON", "POST", "/v2/alerts", searchKey, `{"message":`, 422, "JSON", ""},
		{"an identifier type that is none", "POST", "/v2/alerts/x/close?identifierType=name", searchKey, "", 422, "Request body is not processable", "identifierType"},
		{"an id that is no number", "POST", "/v2/alerts/abc/close", searchKey, "", 422, "Request body is not processable", "identifier"},
		{"an update of the message", "PUT", "/v2/alerts/x/message?identifierType=alias", searchKey, `{"message":"y"}`, 422, "Request body is not processable", "message"},
	} {
		r := f.genie(t, tt.method, tt.path, tt.key, tt.body)
		msg, _ := r.body["message"].(string)
		if r.status != tt.status || !strings.Contains(msg, tt.message) || r.body["requestId"] == nil {
			t.Errorf("%s: %d %s", tt.name, r.status, r.raw)
			continue
		}
		if tt.field != "" {
			errs, _ := r.body["errors"].(map[string]any)
			if errs[tt.field] == nil {
				t.Errorf("%s: no error for %s: %s", tt.name, tt.field, r.raw)
			}
		}
	}
}

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota/api"
)

// FuzzMux sends the whole API arbitrary requests (method, path and query,
// a header, a body) with and without credentials: whatever comes in, no
// handler panics, nothing answers 500, and every error is JSON.
func FuzzMux(f *testing.F) {
	fx := newIngestFixture(f)
	files, _ := filepath.Glob("testdata/alertmanager/*.json")
	var bodies []string
	for _, file := range files {
		b, _ := os.ReadFile(file)
		bodies = append(bodies, string(b))
	}
	for _, path := range []string{"/api/v1/oncall?at=9999-12-31T23:59:59Z", "/api/v1/rotations/primary/shifts?from=0001-01-01T00:00:00Z&to=9999-01-01T00:00:00Z",
		"/api/v1/alerts", "/api/v1/incidents/1", "/api/v1/integrations/alertmanager", "/v2/enqueue", "/api/v1/reports/human?team=payments",
		"/api/v1/rotations/primary/overrides", "/ical/people/alice.ics?token=x", "/api/v1/deploys", "/twilio/sms", "/api/v1/alerts/1/ack"} {
		for _, method := range []byte{0, 1, 2} {
			f.Add(method, path, "application/json", []byte(`{"summary":"x\u0000","severity":"critical","start":"9999-12-31T23:59:59Z"}`), byte(0))
			for _, b := range bodies {
				f.Add(method, path, "application/json", []byte(b), byte(1))
			}
		}
	}
	f.Fuzz(func(t *testing.T, method byte, target, contentType string, body []byte, auth byte) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		m := []string{"GET", "POST", "DELETE", "PUT", "HEAD"}[int(method)%5]
		req, err := http.NewRequest(m, "http://rota.test"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", contentType)
		switch auth % 3 {
		case 1:
			req.Header.Set("Authorization", "Bearer "+adminToken)
		case 2:
			req.Header.Set("Authorization", "Bearer "+searchKey)
		}
		w := httptest.NewRecorder()
		fx.api.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", m, target, w.Code, w.Body.String())
		}
		if w.Code >= 400 && m != "HEAD" && !json.Valid(w.Body.Bytes()) && !strings.HasPrefix(target, "/twilio/") && !strings.HasPrefix(target, "/v2/") {
			t.Fatalf("%s %s: %d is not JSON: %q", m, target, w.Code, w.Body.String())
		}
	})
}

// TestBoundedValues: instants outside 1970–2200, NUL characters and
// invalid UTF-8 are refused with 400 naming the field, everywhere.
func TestBoundedValues(t *testing.T) {
	f := newIngestFixture(t)
	for _, tt := range []struct {
		method, path, token, body, field, says string
	}{
		{"GET", "/api/v1/oncall?at=9999-12-31T23:59:59Z", adminToken, "", "at", "outside the times rota takes"},
		{"GET", "/api/v1/rotations/primary/shifts?from=0001-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", adminToken, "", "from", "outside"},
		{"POST", "/api/v1/rotations/primary/overrides", adminToken, `{"person":"alice","start":"9999-12-30T00:00:00Z","end":"9999-12-31T00:00:00Z"}`, "start", "outside"},
		{"POST", "/api/v1/rotations/primary/overrides", adminToken, `{"person":"alice","start":"0001-01-01T00:00:00Z","end":"2026-01-01T00:00:00Z"}`, "start", "outside"},
		{"POST", "/api/v1/alerts", searchKey, `{"summary":"x","severity":"critical","dedup_key":"a\u0000b"}`, "dedup_key", "NUL"},
		{"POST", "/api/v1/alerts", searchKey, `{"summary":"x\u0000","severity":"critical"}`, "summary", "NUL"},
		{"POST", "/api/v1/deploys", searchKey, `{"commit":"abc","deployed_at":"2201-01-01T00:00:00Z"}`, "deployed_at", "outside"},
	} {
		r := f.do(t, tt.method, tt.path, tt.token, "application/json", tt.body)
		if r.status != 400 || r.errorField() != tt.field || !strings.Contains(r.errorMessage(), tt.says) {
			t.Errorf("%s %s: %d %s", tt.method, tt.path, r.status, r.raw)
		}
	}
	r := f.do(t, "POST", "/api/v1/alerts", searchKey, "application/json", "{\"summary\":\"caf\xe9\",\"severity\":\"critical\"}")
	if r.status != 400 || !strings.Contains(r.errorMessage(), "not valid UTF-8") {
		t.Errorf("invalid UTF-8: %d %s", r.status, r.raw)
	}
	if n := f.countAlerts(t); n != 0 {
		t.Errorf("%d alerts stored from bad input", n)
	}
}

// TestBigWebhookRefused: a payload of more alerts than rota takes at once
// is refused up front with 413 and the limit, and stores nothing; one at
// the limit is answered.
func TestBigWebhookRefused(t *testing.T) {
	f := newIngestFixture(t)
	payload := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"version":"4","groupKey":"g","status":"firing","receiver":"rota","alerts":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"A%d","severity":"critical"},"fingerprint":"f%d"}`, i, i)
		}
		b.WriteString("]}")
		return b.String()
	}
	r := f.do(t, "POST", "/api/v1/integrations/alertmanager", paymentsKey, "application/json", payload(api.MaxWebhookAlerts+1))
	if r.status != 413 || !strings.Contains(r.errorMessage(), "at most 1000 per request: set max_alerts: 1000") {
		t.Errorf("too many: %d %s", r.status, r.raw)
	}
	if n := f.countAlerts(t); n != 0 {
		t.Errorf("%d alerts stored from a refused payload", n)
	}
	start := time.Now()
	if r := f.do(t, "POST", "/api/v1/integrations/alertmanager", paymentsKey, "application/json", payload(api.MaxWebhookAlerts)); r.status != 202 {
		t.Errorf("at the limit: %d", r.status)
	}
	if n := f.countAlerts(t); n != api.MaxWebhookAlerts {
		t.Errorf("%d alerts stored, want %d", n, api.MaxWebhookAlerts)
	}
	t.Logf("%d alerts in one payload answered in %s", api.MaxWebhookAlerts, time.Since(start))
}

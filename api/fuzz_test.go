package api

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rotahq/rota"
)

// The fuzz targets feed every decoder of outside input arbitrary bytes,
// seeded with payloads captured from real senders. A decoder may reject
// input but never panic, and what it accepts must be a valid event.

func seeds(f *testing.F, extra ...string) {
	files, _ := filepath.Glob("testdata/alertmanager/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

func checkEvent(t *testing.T, ev rota.Event) {
	if err := ev.Validate(); err != nil {
		t.Fatalf("accepted an invalid event: %v: %+v", err, ev)
	}
}

func FuzzDecodeNative(f *testing.F) {
	seeds(f, `{"summary":"x","severity":"critical","dedup_key":"k","details":{"a":1},"links":[{"href":"h"}]}`, `{"summary":"x","severity":"info"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		if ev, err := decodeNative(b); err == nil {
			checkEvent(t, ev)
		} else if rota.ErrorCode(err) != rota.EINVALID {
			t.Fatalf("error code %s: %v", rota.ErrorCode(err), err)
		}
	})
}

func FuzzDecodePagerDuty(f *testing.F) {
	seeds(f, `{"routing_key":"k","event_action":"acknowledge","dedup_key":"d"}`,
		`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info","timestamp":"2026-01-01T00:00:00Z","custom_details":[1]},"images":[{"src":"i"}],"client_url":"u"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, ev, problems, err := decodePagerDuty(b)
		if err == nil && len(problems) == 0 {
			checkEvent(t, ev)
		}
	})
}

func FuzzDecodeOpsgenie(f *testing.F) {
	seeds(f, `{"alias":"a","message":"m","details":{"k":"v"},"priority":"P2","tags":["t"]}`,
		`{"message":"`+strings.Repeat("é", 140)+`","alias":"`+strings.Repeat("x", 300)+`"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeOpsgenie(b)
		if err == nil {
			checkEvent(t, ev)
			if n := utf8.RuneCountInString(ev.Summary); n > 130 {
				t.Fatalf("a summary of %d characters", n)
			}
		}
	})
}

func FuzzDecodeAlertmanager(f *testing.F) {
	seeds(f, `{"version":"4","alerts":[{"status":"firing","labels":{"severity":"page"}}]}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		events, err := decodeAlertmanager(b, "alertmanager", "4")
		if err != nil {
			return
		}
		if len(events) == 0 {
			t.Fatal("accepted a webhook with no alerts")
		}
		for _, ev := range events {
			checkEvent(t, ev)
		}
	})
}

func FuzzVerifyGrafana(f *testing.F) {
	f.Add([]byte(`{"version":"1"}`), "1700000000", "00")
	f.Fuzz(func(t *testing.T, body []byte, ts, sig string) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("X-Sig", sig)
		r.Header.Set("X-Ts", ts)
		err := verifyGrafana(r, rota.WebhookSignature{Secret: "s", Header: "X-Sig", TimestampHeader: "X-Ts"}, body, time.Unix(1700000000, 0))
		if err == nil && len(sig) != 64 {
			t.Fatalf("accepted a signature of %d characters", len(sig))
		}
	})
}

func FuzzDecodePagerDutyChange(f *testing.F) {
	f.Add([]byte(`{"routing_key":"k","payload":{"summary":"s","timestamp":"2026-01-01T00:00:00Z","custom_details":{"author":"a","commit":"c"}},"links":[{"href":"h"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, d, problems, err := decodePagerDutyChange(b)
		if err == nil && len(problems) == 0 && d.Summary == "" {
			t.Fatal("accepted a change event without a summary")
		}
	})
}

func FuzzDecodeGitHubDeployment(f *testing.F) {
	files, _ := filepath.Glob("testdata/github/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, skip, err := decodeGitHubDeployment(b)
		if err == nil && skip == "" && (d.Repository == "" || d.DeployedAt.IsZero()) {
			t.Fatalf("accepted a deploy without a repository or a time: %+v", d)
		}
	})
}

package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

func TestWebhookNotifier(t *testing.T) {
	var got map[string]any
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		if r.Header.Get("X-Rota-Delivery") != "7" {
			t.Errorf("delivery id %q, want the notification's (7)", r.Header.Get("X-Rota-Delivery"))
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
		w.Write([]byte("nope"))
	}))
	defer srv.Close()
	n := Notifier{Client: srv.Client(), PublicURL: "https://rota.example.com"}
	m := notify.Message{NotificationID: 7, Person: "chloe", Channel: "slack", Address: srv.URL,
		Incidents: []rota.Incident{{ID: 42, Service: "api", Summary: "5xx", Severity: "critical", Status: "triggered", CreatedAt: time.Unix(0, 0)}},
		Text:      "api: 5xx [critical] #42"}
	if _, err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	incidents := got["incidents"].([]any)
	if got["text"] != "api: 5xx [critical] #42" || got["person"] != "chloe" || got["kind"] != "page" || incidents[0].(map[string]any)["url"] != "https://rota.example.com/api/v1/incidents/42" {
		t.Errorf("body: %v", got)
	}
	for code, permanent := range map[int]bool{500: false, 503: false, 429: false, 408: false, 400: true, 404: true, 410: true} {
		status = code
		_, err := n.Notify(context.Background(), m)
		if err == nil || notify.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "nope") {
			t.Errorf("status %d: %v (permanent %v)", code, err, notify.IsPermanent(err))
		}
	}
	srv.Close()
	if _, err := n.Notify(context.Background(), m); err == nil || notify.IsPermanent(err) {
		t.Errorf("connection refused should be retried: %v", err)
	}
	if _, err := (Notifier{}).Notify(context.Background(), notify.Message{Address: "::bad"}); !notify.IsPermanent(err) {
		t.Errorf("a bad URL is permanent: %v", err)
	}
}

// TestWebhookTextCannotSteer: the text field, which Slack (and the chat
// tools that take its incoming-webhook format) render, carries an alert's
// summary escaped: it cannot ping a channel or disguise a link. The
// incident's fields carry the summary as it came.
func TestWebhookTextCannotSteer(t *testing.T) {
	var got struct {
		Text      string `json:"text"`
		Incidents []struct {
			Summary string `json:"summary"`
		} `json:"incidents"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	evil := "<!channel> <https://evil.example|Acknowledge here> & more"
	m := notify.Message{NotificationID: 1, Person: "chloe", Channel: "webhook", Address: srv.URL,
		Incidents: []rota.Incident{{ID: 1, Service: "api", Summary: evil}}, Text: "api: " + evil}
	if _, err := (Notifier{Client: srv.Client()}).Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if want := "api: &lt;!channel&gt; &lt;https://evil.example|Acknowledge here&gt; &amp; more"; got.Text != want {
		t.Errorf("text %q, want %q", got.Text, want)
	}
	if len(got.Incidents) != 1 || got.Incidents[0].Summary != evil {
		t.Errorf("incidents %+v, want the summary as it came", got.Incidents)
	}
}

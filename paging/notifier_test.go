package paging_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
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
	n := paging.WebhookNotifier{Client: srv.Client(), PublicURL: "https://rota.example.com"}
	m := paging.Message{NotificationID: 7, Person: "chloe", Channel: "slack", Address: srv.URL,
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
		if err == nil || paging.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "nope") {
			t.Errorf("status %d: %v (permanent %v)", code, err, paging.IsPermanent(err))
		}
	}
	srv.Close()
	if _, err := n.Notify(context.Background(), m); err == nil || paging.IsPermanent(err) {
		t.Errorf("connection refused should be retried: %v", err)
	}
	if _, err := (paging.WebhookNotifier{}).Notify(context.Background(), paging.Message{Address: "::bad"}); !paging.IsPermanent(err) {
		t.Errorf("a bad URL is permanent: %v", err)
	}
}

// TestWebhookSecretsNeverShown: a Slack webhook's URL is a bearer secret:
// when posting to it fails, neither the error, nor the notification's last
// error, nor the incident's timeline shows it whole.
func TestWebhookSecretsNeverShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	addr := srv.URL + "/services/T0123ABCD/B0123ABCD/aBcDeFgHiJkLmNoPqRsTuVwX"
	srv.Close() // connection refused from now on
	const secret = "aBcDeFgHiJkLmNoPqRsTuVwX"
	_, err := paging.WebhookNotifier{}.Notify(context.Background(), paging.Message{Channel: "slack", Address: addr, Text: "x"})
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "/services/…/…/…") {
		t.Errorf("error: %v", err)
	}
	h := newHarness(t)
	h.engine = paging.New(paging.Options{Store: h.db, Book: h.book, Now: h.clock.Now, MaxAttempts: 1,
		Notifiers: map[rota.Channel]paging.Notifier{"webhook": paging.WebhookNotifier{}, "sms": h.phone, "voice": h.phone}})
	h.book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
		org := r.Org()
		var people []*rota.Person
		for _, p := range org.People {
			if p.Name == "chloe" {
				c := *p
				c.Contacts = []rota.ContactMethod{{Type: rota.ContactWebhook, Address: addr}, {Type: rota.ContactWebhook, Address: addr + "2"}}
				p = &c
			}
			people = append(people, p)
		}
		return r.WithOrg(rota.NewOrg(people, org.Teams, org.Rotations, org.Services, org.Policies)), nil
	})
	a := h.trigger("api", "k1")
	h.step(5 * time.Minute) // step 2 pages chloe
	h.step(time.Second)
	h.step(time.Second)
	events, ns, _ := h.db.Timeline(context.Background(), a.ID)
	failed := 0
	for _, n := range ns {
		if strings.Contains(n.LastError, secret) {
			t.Errorf("last error shows the secret: %s", n.LastError)
		}
		if n.Person == "chloe" && n.Status == rota.NotifyFailed {
			failed++
		}
	}
	for _, e := range events {
		if strings.Contains(e.Message, secret) {
			t.Errorf("timeline shows the secret: %s", e.Message)
		}
	}
	if failed == 0 {
		t.Errorf("chloe's webhook did not fail: %+v", ns)
	}
}

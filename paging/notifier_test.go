package paging_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/notify/webhook"
	"github.com/rotahq/rota/scheduler"
)

// TestWebhookSecretsNeverShown: a Slack webhook's URL is a bearer secret:
// when posting to it fails, neither the error, nor the notification's last
// error, nor the incident's timeline shows it whole.
func TestWebhookSecretsNeverShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	addr := srv.URL + "/services/T0123ABCD/B0123ABCD/aBcDeFgHiJkLmNoPqRsTuVwX"
	srv.Close() // connection refused from now on
	const secret = "aBcDeFgHiJkLmNoPqRsTuVwX"
	_, err := webhook.Notifier{}.Notify(context.Background(), notify.Message{Channel: "slack", Address: addr, Text: "x"})
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "/services/…/…/…") {
		t.Errorf("error: %v", err)
	}
	h := newHarness(t)
	h.engine = paging.New(paging.Options{Store: h.db, Book: h.book, Now: h.clock.Now, MaxAttempts: 1,
		Notifiers: func() *notify.Registry {
			r := notify.NewRegistry(h.phone, nil)
			r.Register(rota.ContactWebhook, webhook.Notifier{})
			return r
		}()})
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

package email

import (
	"context"
	"fmt"
	"strings"

	"github.com/rotahq/rota/paging/notify"
)

// Notifier sends rota's messages as plain-text email through s: a
// relay's 5xx answer or a bad address is permanent (the next contact
// method is tried at once), anything else is retried.
func Notifier(s *Sender) notify.Notifier {
	return notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		subject, body := Text(m)
		id, err := s.Send(ctx, m.Address, subject, body)
		if err != nil {
			if Permanent(err) {
				return notify.Receipt{}, notify.Permanent(err)
			}
			return notify.Receipt{}, err
		}
		return notify.Receipt{ID: id}, nil
	})
}

// Text is a message's subject (its first sentence) and body (the whole
// text, with links to its incidents).
func Text(m notify.Message) (string, string) {
	subject, _, _ := strings.Cut(m.Text, ". ")
	switch {
	case m.Kind == notify.KindUpdate:
		subject = "rota update: " + subject
	case !m.Notice() && !strings.HasPrefix(subject, "rota"):
		subject = "rota page: " + subject
	}
	if r := []rune(subject); len(r) > 120 {
		subject = string(r[:119]) + "…"
	}
	body := m.Text + "\n"
	if m.PublicURL != "" && len(m.Incidents) > 0 {
		if m.Kind == notify.KindPage {
			// A page says how to act on it: the incident's page, where
			// whoever was paged may acknowledge, escalate or resolve.
			body += "\nAcknowledge, escalate or resolve on rota:"
		}
		for _, inc := range m.Incidents {
			body += fmt.Sprintf("\n#%d %s: %s/incidents/%d", inc.ID, inc.Service, m.PublicURL, inc.ID)
		}
	}
	return subject, body
}

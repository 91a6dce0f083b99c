package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rotahq/rota"
)

func sentNote(person string, ch rota.Channel, updates bool, kind string) rota.Notification {
	return rota.Notification{Person: person, Channel: ch, Address: person + "@" + string(ch), Status: rota.NotifySent, Updates: updates, Kind: kind, Thread: "t-" + person}
}

func told(ns []rota.Notification) string {
	var out []string
	for _, n := range ns {
		who := n.Person
		if who == "" {
			who = "#" + n.ChatChannel
		}
		out = append(out, fmt.Sprintf("%s %s %s: %s", who, n.Channel, n.Thread, n.Body))
	}
	return strings.Join(out, "; ")
}

func TestWhoHears(t *testing.T) {
	post := sentNote("", rota.ContactSlack, true, rota.KindPost)
	post.ChatChannel = "payments"
	failed := sentNote("erin", rota.ContactSMS, true, rota.KindPage)
	failed.Status = rota.NotifyFailed
	sent := []rota.Notification{
		sentNote("alice", rota.ContactSMS, true, rota.KindPage),
		sentNote("alice", rota.ContactSMS, true, rota.KindPage), // a second page on the same contact: told once
		sentNote("alice", rota.ContactSlack, true, rota.KindPage),
		sentNote("bruno", rota.ContactEmail, false, rota.KindPage), // asked for no updates
		sentNote("chloe", rota.ContactWebhook, true, rota.KindUpdate),
		sentNote("dana", rota.ContactTeams, true, rota.KindPage),
		failed,
		post,
	}
	for _, c := range []struct {
		name  string
		u     rota.Update
		paged map[string]bool
		want  string
	}{
		{"someone else acknowledged", rota.Update{Action: rota.ActionAcknowledge, By: "bruno (web)"}, nil,
			"alice sms t-alice: acknowledged by bruno (web); alice slack t-alice: acknowledged by bruno (web); dana teams t-dana: acknowledged by bruno (web); #payments slack t-: acknowledged by bruno (web)"},
		{"alice acknowledged by SMS: her Slack message is updated, her SMS is not", rota.Update{Action: rota.ActionAcknowledge, By: "alice (sms)"}, nil,
			"alice slack t-alice: acknowledged by alice (sms); dana teams t-dana: acknowledged by alice (sms); #payments slack t-: acknowledged by alice (sms)"},
		{"escalated to alice: she gets the page, not the news", rota.Update{Action: rota.ActionEscalate, To: []string{"alice"}}, map[string]bool{"alice": true},
			"dana teams t-dana: escalated to alice; #payments slack t-: escalated to alice"},
	} {
		if got := told(WhoHears(7, sent, c.u, c.paged)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	if got := WhoHears(7, nil, rota.Update{Action: rota.ActionResolve}, nil); got != nil {
		t.Errorf("nothing sent: %v", got)
	}
}

func TestEscalationNews(t *testing.T) {
	sent := []rota.Notification{sentNote("alice", rota.ContactSMS, true, rota.KindPage), sentNote("bruno", rota.ContactSMS, true, rota.KindPage)}
	step := []rota.Notification{{Person: "bruno", Kind: rota.KindPage}, {Person: "bruno", Kind: rota.KindPage}, {Person: "chloe"}, {Person: "sam", Shadow: true}}
	news := escalationNews(7, step)
	if got := told(news(rota.NewsFacts{Sent: sent}).Tell); got != "alice sms t-alice: escalated to bruno, chloe" {
		t.Errorf("escalated on schedule: %s", got)
	}
	// Escalated on request: its updates, not yet sent, say to whom.
	req := rota.Notification{ID: 41, Kind: rota.KindUpdate, Update: rota.Update{Action: rota.ActionEscalate, By: "dana (web)"}}
	n := news(rota.NewsFacts{Sent: sent, Requested: []rota.Notification{req}})
	if len(n.Tell) != 0 || len(n.Amend) != 1 || n.Amend[0].ID != 41 || n.Amend[0].Body != "escalated by dana (web) to bruno, chloe" {
		t.Errorf("escalated on request: %+v", n)
	}
	if escalationNews(7, []rota.Notification{{Person: "sam", Shadow: true}, {Kind: rota.KindPost}}) != nil {
		t.Error("a step paging nobody has news")
	}
}

func TestLateNews(t *testing.T) {
	sent := []rota.Notification{sentNote("alice", rota.ContactSMS, true, rota.KindPage), sentNote("bruno", rota.ContactSlack, true, rota.KindPage)}
	for _, c := range []struct {
		inc  rota.Incident
		want string
	}{
		{rota.Incident{ID: 3, Status: rota.StatusAcknowledged, AckedBy: "alice (sms)"}, "bruno slack t-bruno: acknowledged by alice (sms)"},
		{rota.Incident{ID: 3, Status: rota.StatusResolved, AckedBy: "alice (sms)", ResolvedBy: "the source"},
			"alice sms t-alice: resolved by the source; bruno slack t-bruno: resolved by the source"},
		{rota.Incident{ID: 3, Status: rota.StatusTriggered}, ""},
	} {
		if got := told(LateNews(c.inc, sent)); got != c.want {
			t.Errorf("%s: %s, want %s", c.inc.Status, got, c.want)
		}
	}
}

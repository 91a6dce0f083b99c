package policy

import (
	"strings"

	"github.com/rotahq/rota"
)

// WhoHears decides who is told what became of an incident (u), from the
// notifications already sent about it (sent, oldest first: its pages and
// channel posts). Each contact and each channel post that asked for updates
// hears once, naming the first message sent there (its thread). The actor
// is not told over SMS, voice or email what they did themselves; chat
// messages are updated for them too, their buttons going with the
// incident's state. Those paged again in the same step (pagedNow) get the
// page, not news of it.
func WhoHears(incident int64, sent []rota.Notification, u rota.Update, pagedNow map[string]bool) []rota.Notification {
	var out []rota.Notification
	seen := map[[3]string]bool{}
	for _, n := range sent {
		if n.Status != rota.NotifySent || !n.Updates || (n.Kind != rota.KindPage && n.Kind != rota.KindPost) {
			continue
		}
		key := [3]string{n.Person, string(n.Channel), n.Address}
		if seen[key] {
			continue
		}
		seen[key] = true
		if n.Person != "" && (pagedNow[n.Person] || ActorIs(u.By, n.Person) && n.Channel != rota.ContactSlack && n.Channel != rota.ContactTeams) {
			continue
		}
		out = append(out, rota.Notification{IncidentID: incident, Person: n.Person, Channel: n.Channel, Address: n.Address, ContactIndex: n.ContactIndex,
			Thread: n.Thread, Shadow: n.Shadow, ChatChannel: n.ChatChannel, Kind: rota.KindUpdate, Body: u.Text(), Update: u})
	}
	return out
}

// statusNews is who hears of a status change: everyone told of the
// incident before (WhoHears).
func statusNews(incident int64, u rota.Update) func(rota.NewsFacts) rota.News {
	return func(f rota.NewsFacts) rota.News { return rota.News{Tell: WhoHears(incident, f.Sent, u, nil)} }
}

// escalationNews is who hears whom an incident went on to when a step
// pages people (step): those told of it before, but not those paged again
// now. An escalation someone requested, its updates not yet sent, says to
// whom in those updates rather than in a second round.
func escalationNews(incident int64, step []rota.Notification) func(rota.NewsFacts) rota.News {
	var next []string
	paged := map[string]bool{}
	for _, n := range step {
		if (n.Kind == "" || n.Kind == rota.KindPage) && !n.Shadow && !paged[n.Person] {
			paged[n.Person] = true
			next = append(next, n.Person)
		}
	}
	if len(next) == 0 {
		return nil
	}
	return func(f rota.NewsFacts) rota.News {
		if len(f.Requested) > 0 {
			var amend []rota.Notification
			for _, r := range f.Requested {
				r.Update = rota.Update{Action: rota.ActionEscalate, By: r.Update.By, To: next}
				r.Body = r.Update.Text()
				amend = append(amend, r)
			}
			return rota.News{Amend: amend}
		}
		return rota.News{Tell: WhoHears(incident, f.Sent, rota.Update{Action: rota.ActionEscalate, To: next}, paged)}
	}
}

// LateNews decides who hears what became of an incident (inc, as it is
// now) from a page about it recorded sent after it was acknowledged or
// resolved (sent: those notifications): the answer found them on their way.
func LateNews(inc rota.Incident, sent []rota.Notification) []rota.Notification {
	var u rota.Update
	switch inc.Status {
	case rota.StatusAcknowledged:
		u = rota.Update{Action: rota.ActionAcknowledge, By: inc.AckedBy}
	case rota.StatusResolved:
		u = rota.Update{Action: rota.ActionResolve, By: inc.ResolvedBy}
	default:
		return nil
	}
	return WhoHears(inc.ID, sent, u, nil)
}

// ActorIs reports whether an actor ("alice (slack)") is person.
func ActorIs(actor, person string) bool {
	name, _, _ := strings.Cut(actor, " ")
	return name == person
}

package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// userGroupSetter is the Slack app, as the user-group sync uses it.
type userGroupSetter interface {
	SetUserGroup(ctx context.Context, group string, users []string) error
}

// userGroups keeps each rotation's Slack user group (slack_usergroup)
// equal to whoever is on call there: run every minute, it sets a group
// when its members should change, and once at start. Setting the same
// members twice is harmless, so several daemons may each run it.
type userGroups struct {
	app  userGroupSetter
	book *scheduler.Book
	log  *slog.Logger
	now  func() time.Time

	mu sync.Mutex
	// set is what each group was last set to.
	set map[string]string
}

func newUserGroups(app userGroupSetter, book *scheduler.Book, log *slog.Logger) *userGroups {
	return &userGroups{app: app, book: book, log: log, now: time.Now, set: map[string]string{}}
}

// sync sets each group whose on-call has changed.
func (g *userGroups) sync(ctx context.Context) {
	if g == nil || g.app == nil {
		return
	}
	roster := g.book.Roster()
	org := roster.Org()
	want := map[string][]string{}
	for _, rot := range org.Rotations {
		if rot.SlackUserGroup == "" {
			continue
		}
		sh, ok := roster.OnCall(rot.Name, g.now())
		if !ok {
			continue
		}
		if id := slackUser(org.Person(sh.Person)); id != "" && !slices.Contains(want[rot.SlackUserGroup], id) {
			// Several rotations may share a group: all their on-calls.
			want[rot.SlackUserGroup] = append(want[rot.SlackUserGroup], id)
		}
	}
	for group, users := range want {
		slices.Sort(users)
		key := strings.Join(users, ",")
		g.mu.Lock()
		same := g.set[group] == key
		g.mu.Unlock()
		if same {
			continue
		}
		if err := g.app.SetUserGroup(ctx, group, users); err != nil {
			g.log.Error("cannot set a Slack user group to who is on call", "group", group, "users", key, "err", err)
			continue
		}
		g.log.Info("slack user group set to who is on call", "group", group, "users", key)
		g.mu.Lock()
		g.set[group] = key
		g.mu.Unlock()
	}
}

// slackUser is how the Slack app finds a person: their Slack contact's
// user id or email, else their first email.
func slackUser(p *rota.Person) string {
	if p == nil {
		return ""
	}
	for _, c := range p.Contacts {
		if c.Type == rota.ContactSlack && !strings.HasPrefix(c.Address, "http") {
			return c.Address
		}
	}
	if len(p.Emails) > 0 {
		return p.Emails[0]
	}
	return ""
}

package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging/notify/slack"
	"github.com/rotahq/rota/paging/notify/slack/slacktest"
	"github.com/rotahq/rota/scheduler"
)

// TestUserGroupsFollowOnCall: a rotation's Slack user group is set to
// whoever is on call, at start and when it changes, and not otherwise.
func TestUserGroupsFollowOnCall(t *testing.T) {
	cfg, err := config.Parse("groups.toml", []byte(`
[[people]]
name = "alice"
timezone = "Europe/Berlin"
contacts = [{ type = "slack", address = "U0ALICE" }]
[[people]]
name = "bruno"
timezone = "Europe/Berlin"
emails = ["bruno@example.com"]
contacts = [{ type = "sms", address = "+4915112345002" }]
[[teams]]
name = "payments"
members = ["alice", "bruno"]
timezone = "Europe/Berlin"
[[rotations]]
name = "primary"
team = "payments"
members = ["alice", "bruno"]
start = 2026-01-06
slack_usergroup = "S0ONCALL"
`), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	fake := slacktest.NewServer("xoxb-groups")
	defer fake.Close()
	fake.AddUser("U0ALICE", "alice@example.com")
	fake.AddUser("U0BRUNO", "bruno@example.com")
	app := slack.New(slack.Options{BotToken: "xoxb-groups", APIURL: fake.URL})
	book := scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))
	g := newUserGroups(app, book, slog.New(slog.DiscardHandler))
	now := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC) // alice's first week
	g.now = func() time.Time { return now }

	calls := func() int {
		n := 0
		for _, c := range fake.Calls() {
			if c.Method == "usergroups.users.update" {
				n++
			}
		}
		return n
	}
	g.sync(context.Background())
	if got := strings.Join(fake.UserGroup("S0ONCALL"), ","); got != "U0ALICE" {
		t.Fatalf("at start: %q", got)
	}
	g.sync(context.Background())
	if calls() != 1 {
		t.Errorf("set again with nothing changed: %d calls", calls())
	}
	// The handoff: bruno, found by his email.
	now = now.Add(7 * rota.Day)
	g.sync(context.Background())
	if got := strings.Join(fake.UserGroup("S0ONCALL"), ","); got != "U0BRUNO" || calls() != 2 {
		t.Errorf("after the handoff: %q (%d calls)", got, calls())
	}
	// An override puts alice on call: the group follows.
	book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
		return r.WithOverride(rota.Override{ID: 1, Rotation: "primary", Person: "alice", Start: now.Add(-time.Hour), End: now.Add(time.Hour)}), nil
	})
	g.sync(context.Background())
	if got := strings.Join(fake.UserGroup("S0ONCALL"), ","); got != "U0ALICE" {
		t.Errorf("after the override: %q", got)
	}
	// Slack failing: logged, retried at the next sync.
	now = now.Add(2 * time.Hour)
	fake.FailNext("usergroups.users.update", slacktest.Failure{Status: 500})
	g.sync(context.Background())
	g.sync(context.Background())
	if got := strings.Join(fake.UserGroup("S0ONCALL"), ","); got != "U0BRUNO" {
		t.Errorf("after a failure and a retry: %q", got)
	}
}

package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

func TestSuspects(t *testing.T) {
	at := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	dep := func(id int64, service string, before time.Duration) rota.Deploy {
		return rota.Deploy{ID: id, Service: service, Commit: "c", DeployedAt: at.Add(-before)}
	}
	tests := []struct {
		name    string
		deploys []rota.Deploy
		suspect int64
		others  []int64
	}{
		{"59m59s before is suspected", []rota.Deploy{dep(1, "api", 59*time.Minute+59*time.Second)}, 1, nil},
		{"exactly an hour before is not", []rota.Deploy{dep(1, "api", time.Hour)}, 0, nil},
		{"60m01s before is not", []rota.Deploy{dep(1, "api", time.Hour+time.Second)}, 0, nil},
		{"at the alert's instant is", []rota.Deploy{dep(1, "api", 0)}, 1, nil},
		{"after the alert is never", []rota.Deploy{dep(1, "api", -time.Second)}, 0, nil},
		{"another service's is never", []rota.Deploy{dep(1, "web", time.Minute)}, 0, nil},
		{"the most recent of two in the window; the other listed", []rota.Deploy{dep(1, "api", 40*time.Minute), dep(2, "api", 10*time.Minute), dep(3, "api", 2*time.Hour)}, 2, []int64{1}},
		{"no deploys", nil, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, others := Suspects(tt.deploys, "api", at, time.Hour)
			var got int64
			if s != nil {
				got = s.ID
			}
			if got != tt.suspect {
				t.Errorf("suspect %d, want %d", got, tt.suspect)
			}
			var ids []int64
			for _, o := range others {
				ids = append(ids, o.ID)
			}
			if len(ids) != len(tt.others) || (len(ids) > 0 && ids[0] != tt.others[0]) {
				t.Errorf("others %v, want %v", ids, tt.others)
			}
		})
	}
}

func TestAlertTime(t *testing.T) {
	received := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		source time.Time
		want   time.Time
	}{
		{"no source time", time.Time{}, received},
		{"earlier source time is believed", received.Add(-5 * time.Minute), received.Add(-5 * time.Minute)},
		{"a later source time is not", received.Add(time.Minute), received},
		{"a source time over a day old is not", received.Add(-25 * time.Hour), received},
	} {
		if got := AlertTime(received, tt.source); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// deployRoster has alice on call on primary; bob and carol reachable;
// dave without contacts; erin reachable and on another team. Service api
// is team payments' (alice, bob, carol, dave); services "scoped" and
// "open" too, with deploy_authors "team" and "org".
func deployRoster() *scheduler.Roster {
	utc := time.UTC
	c := []rota.ContactMethod{{Type: "sms", Address: "+4915112345001"}}
	people := []*rota.Person{
		{Name: "alice", Location: utc, Contacts: c, GitHub: []string{"alice-gh"}},
		{Name: "bob", Location: utc, Contacts: c, GitHub: []string{"Bobby"}, Emails: []string{"bob@example.com"}},
		{Name: "carol", Location: utc, Contacts: c, GitHub: []string{"carol"}},
		{Name: "dave", Location: utc, GitHub: []string{"dave"}},
		{Name: "erin", Location: utc, Contacts: c, GitHub: []string{"erin-gh"}},
	}
	teams := []*rota.Team{{Name: "payments", Members: []string{"alice", "bob", "carol", "dave"}}, {Name: "search", Members: []string{"erin"}}}
	rots := []*rota.Rotation{{Name: "primary", Team: "payments", Members: []string{"alice"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: utc, Start: time.Date(2026, 1, 6, 0, 0, 0, 0, utc)}}
	services := []*rota.Service{
		{Name: "api", Team: "payments"},
		{Name: "scoped", Team: "payments", DeployAuthors: rota.DeployAuthorsTeam},
		{Name: "open", Team: "payments", DeployAuthors: rota.DeployAuthorsOrg},
	}
	return scheduler.NewRoster(rota.NewOrg(people, teams, rots, services, nil), nil)
}

func TestDeployRouting(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	base := rota.EscalationPolicy{Name: "p", Repeat: 1, Steps: []rota.EscalationStep{step(5*time.Minute, "rotation:primary"), step(10*time.Minute, "person:carol")}}
	deploy := func(author, merger string) *rota.Deploy {
		return &rota.Deploy{ID: 9, Service: "api", Commit: "abc1234def", Author: author, MergedBy: merger, DeployedAt: now.Add(-12 * time.Minute), CompareURL: "https://github.com/o/r/compare/a...b"}
	}
	tests := []struct {
		name    string
		mode    string
		service string
		grace   time.Duration
		first   time.Duration
		deploy  *rota.Deploy
		paged   string
		due     time.Duration
		reasons map[string]string
		notes   []string
	}{
		{name: "author-first pages the author alone, for the first delay",
			mode: rota.DeployAuthorFirst, deploy: deploy("Bobby", "carol"), paged: "bob", due: 5 * time.Minute,
			reasons: map[string]string{"bob": "you deployed abc1234 12 min ago (merged by carol): https://github.com/o/r/compare/a...b"}},
		{name: "the merger is paged when the author is not a person rota knows",
			mode: rota.DeployAuthorFirst, deploy: deploy("someone-else", "carol"), paged: "carol", due: 5 * time.Minute,
			reasons: map[string]string{"carol": "you merged abc1234, deployed 12 min ago by someone-else: https://github.com/o/r/compare/a...b"},
			notes:   []string{`deploy abc1234: author "someone-else" is not a person rota knows: not paged`}},
		{name: "a long first delay: the author alone for the default grace",
			mode: rota.DeployAuthorFirst, first: 30 * time.Minute, deploy: deploy("Bobby", ""), paged: "bob", due: rota.DefaultDeployGrace},
		{name: "the service's grace",
			mode: rota.DeployAuthorFirst, grace: 2 * time.Minute, deploy: deploy("Bobby", ""), paged: "bob", due: 2 * time.Minute},
		{name: "an author outside the team is not paged by a team-scoped service; its merger on the team is",
			mode: rota.DeployAuthorFirst, service: "scoped", deploy: deploy("erin-gh", "carol"), paged: "carol", due: 5 * time.Minute,
			notes: []string{`deploy abc1234: author erin is not on team payments, and service scoped pages its own team's authors only (deploy_authors = "team"): not paged`}},
		{name: "team scope is the default",
			mode: rota.DeployAuthorFirst, service: "api", deploy: deploy("erin-gh", ""), paged: "alice", due: 5 * time.Minute,
			notes: []string{"deploy abc1234: author erin is not on team payments"}},
		{name: "org scope pages an author of any team",
			mode: rota.DeployAuthorFirst, service: "open", deploy: deploy("erin-gh", "carol"), paged: "erin", due: 5 * time.Minute},
		{name: "identities match case-insensitively, by login or email",
			mode: rota.DeployAuthorFirst, deploy: deploy("BOB@example.com", ""), paged: "bob", due: 5 * time.Minute},
		{name: "with-oncall pages them alongside the first step",
			mode: rota.DeployWithOnCall, deploy: deploy("Bobby", ""), paged: "bob,alice", due: 5 * time.Minute},
		{name: "off pages the on-call only",
			mode: rota.DeployOff, deploy: deploy("Bobby", "carol"), paged: "alice", due: 5 * time.Minute},
		{name: "no deploy in the window: the policy as it is",
			mode: rota.DeployAuthorFirst, deploy: nil, paged: "alice", due: 5 * time.Minute},
		{name: "an unknown author is skipped without delay",
			mode: rota.DeployAuthorFirst, deploy: deploy("dependabot[bot]", ""), paged: "alice", due: 5 * time.Minute,
			notes: []string{`deploy abc1234: author "dependabot[bot]" is not a person rota knows: not paged`, "step 1 paged nobody: going on to the next step at once"}},
		{name: "an author on call anyway is skipped without delay",
			mode: rota.DeployAuthorFirst, deploy: deploy("alice-gh", ""), paged: "alice", due: 5 * time.Minute,
			notes: []string{"deploy abc1234: author alice is paged by the policy anyway"}},
		{name: "an author with no contact method is skipped; the merger is paged",
			mode: rota.DeployAuthorFirst, deploy: deploy("dave", "Bobby"), paged: "bob", due: 5 * time.Minute,
			notes: []string{"deploy abc1234: author dave has no contact methods: not paged"}},
		{name: "an author on call anyway: the merger is not paged either",
			mode: rota.DeployAuthorFirst, deploy: deploy("alice-gh", "carol"), paged: "alice", due: 5 * time.Minute},
		{name: "a missing merger is no problem",
			mode: rota.DeployAuthorFirst, deploy: deploy("carol", ""), paged: "carol", due: 5 * time.Minute,
			reasons: map[string]string{"carol": "you deployed abc1234 12 min ago: https://github.com/o/r/compare/a...b"}},
		{name: "author and merger the same person: paged once",
			mode: rota.DeployAuthorFirst, deploy: deploy("carol", "carol"), paged: "carol", due: 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := "api"
			if tt.service != "" {
				svc = tt.service
			}
			pol := base
			if tt.first > 0 {
				pol.Steps = []rota.EscalationStep{step(tt.first, "rotation:primary"), step(10*time.Minute, "person:carol")}
			}
			a := &rota.Incident{ID: 1, Service: svc, Deploy: tt.deploy, Escalation: rota.Escalation{State: rota.EscalationActive},
				Policy: WithDeployRouting(pol, &rota.Service{Name: svc, DeployRouting: tt.mode, DeployGrace: tt.grace}, tt.deploy != nil)}
			out := RunStep(a, deployRoster(), now)
			if got := strings.Join(out.Paged, ","); got != tt.paged {
				t.Errorf("paged %q, want %q", got, tt.paged)
			}
			if !out.Escalation.DueAt.Equal(now.Add(tt.due)) {
				t.Errorf("next step at now+%v, want now+%v", out.Escalation.DueAt.Sub(now), tt.due)
			}
			for _, n := range out.Notifications {
				if want, ok := tt.reasons[n.Person]; ok && n.Reason != want {
					t.Errorf("%s's reason %q, want %q", n.Person, n.Reason, want)
				}
				if n.Person == "alice" && n.Reason != "" {
					t.Errorf("the on-call has a reason: %q", n.Reason)
				}
			}
			var events []string
			for _, e := range out.Events {
				events = append(events, e.Message)
			}
			all := strings.Join(events, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(all, n) {
					t.Errorf("events lack %q:\n%s", n, all)
				}
			}
		})
	}
}

// TestAuthorFirstThenPolicyAndNoRepeat: after the author step's delay the
// policy runs from its first step; a repeat does not page the author again.
func TestAuthorFirstThenPolicyAndNoRepeat(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	base := rota.EscalationPolicy{Name: "p", Repeat: 1, Steps: []rota.EscalationStep{step(5*time.Minute, "rotation:primary")}}
	a := &rota.Incident{ID: 1, Service: "api", Escalation: rota.Escalation{State: rota.EscalationActive},
		Deploy: &rota.Deploy{Commit: "abc1234", Author: "Bobby", DeployedAt: now.Add(-time.Minute)},
		Policy: WithDeployRouting(base, nil, true)}
	var paged []string
	for i := 0; i < 4; i++ {
		out := RunStep(a, deployRoster(), now)
		paged = append(paged, strings.Join(out.Paged, "+"))
		a.Escalation = out.Escalation
		now = now.Add(5 * time.Minute)
	}
	if got := strings.Join(paged, ","); got != "bob,alice,alice," {
		t.Errorf("pages by step: %q, want bob, then alice, alice again in round 2, then nothing", got)
	}
	if a.Escalation.State != rota.EscalationExhausted {
		t.Errorf("state %s", a.Escalation.State)
	}
}

func TestWithDeployRoutingLeavesExplicitTargets(t *testing.T) {
	p := rota.EscalationPolicy{Steps: []rota.EscalationStep{step(time.Minute, "deploy-author", "rotation:primary")}}
	if got := WithDeployRouting(p, &rota.Service{DeployRouting: rota.DeployAuthorFirst}, true); len(got.Steps) != 1 {
		t.Errorf("a policy naming deploy-author got another step: %+v", got.Steps)
	}
}

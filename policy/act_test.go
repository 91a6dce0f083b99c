package policy

import (
	"testing"

	"github.com/rotahq/rota"
)

func TestMayAct(t *testing.T) {
	org := rota.NewOrg(
		[]*rota.Person{{Name: "alice"}, {Name: "erin"}, {Name: "newbie"}, {Name: "mara"}},
		[]*rota.Team{{Name: "payments", Members: []string{"alice", "newbie"}, Managers: []string{"mara"}}, {Name: "search", Members: []string{"erin"}}},
		nil, []*rota.Service{{Name: "api", Team: "payments"}, {Name: "web", Team: "payments"}}, nil)
	inc := rota.Incident{ID: 7, Service: "api", Status: rota.StatusTriggered}
	none, paged, shadow := rota.PagesFor{}, rota.PagesFor{Pages: 2}, rota.PagesFor{Pages: 1, Shadows: 1}
	person := func(name string) rota.Actor {
		return rota.Actor{Person: name, Via: rota.ViaWeb, Role: rota.RoleResponder}
	}
	for _, tt := range []struct {
		name  string
		actor rota.Actor
		paged rota.PagesFor
		want  string // "" allowed, else the refusal
	}{
		{"admin", rota.AdminActor, none, ""},
		{"the service's key", rota.Actor{Service: "api", Via: rota.ViaKey, Role: rota.RoleService}, none, ""},
		{"another service's key", rota.Actor{Service: "web", Via: rota.ViaKey, Role: rota.RoleService}, none, "this integration key is service web's, not service api's"},
		{"a member of the team", person("alice"), none, ""},
		{"the team's manager", person("mara"), none, ""},
		{"someone of another team, not paged", person("erin"), none, "erin is not on team payments, which service api belongs to, and was not paged for incident 7"},
		{"someone of another team, paged (a deploy's author)", person("erin"), paged, ""},
		{"a shadow, even of the team", person("newbie"), shadow, "newbie is shadowing incident 7: only the on-call can acknowledge, resolve or escalate it"},
		{"an admin who shadowed", rota.Actor{Person: "newbie", Role: rota.RoleAdmin}, shadow, "newbie is shadowing incident 7: only the on-call can acknowledge, resolve or escalate it"},
		{"the admin token", rota.AdminActor, shadow, ""},
		{"anonymous", rota.Actor{}, none, "sign in, or send a personal API token, to act on incident 7"},
	} {
		err := MayAct(org, tt.actor, inc, tt.paged)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (err == nil || rota.ErrorMessage(err) != tt.want):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

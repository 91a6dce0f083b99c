package policy

import "github.com/rotahq/rota"

// MayAct decides whether a may acknowledge, resolve or escalate inc, the
// same way on every channel (API, web UI, Slack, SMS, voice):
//
//   - an admin may, and a service's integration key may act on its own
//     service's incidents;
//   - a person may when they are on the service's team, or when rota paged
//     them for the incident (a deploy's author from another team can
//     answer the page they got);
//   - a person paged for the incident only as a shadow may not: a learner
//     watches, the on-call acts. This holds for the team's members and
//     admins too, so that a shadow's stray "1a" or button press cannot
//     stop the escalation that pages the on-call (the admin token may).
//
// paged counts rota's pages to a.Person for inc (rota.PagesFor).
func MayAct(org *rota.Org, a rota.Actor, inc rota.Incident, paged rota.PagesFor) error {
	team := ""
	if svc := org.Service(inc.Service); svc != nil {
		team = svc.Team
	}
	switch {
	case a.Person != "" && paged.ShadowOnly():
		return rota.Errorf(rota.EFORBIDDEN, "%s is shadowing incident %d: only the on-call can %s it", a.Person, inc.ID, verb(inc))
	case a.Role == rota.RoleAdmin:
		return nil
	case a.Service != "":
		if a.Service == inc.Service {
			return nil
		}
		return rota.Errorf(rota.EFORBIDDEN, "this integration key is service %s's, not service %s's", a.Service, inc.Service)
	case a.Person == "":
		return rota.Errorf(rota.EUNAUTHORIZED, "sign in, or send a personal API token, to act on incident %d", inc.ID)
	case paged.Pages > 0:
		return nil
	case team == "" || org.OnTeam(a.Person, team):
		return nil
	}
	return rota.Errorf(rota.EFORBIDDEN, "%s is not on team %s, which service %s belongs to, and was not paged for incident %d", a.Person, team, inc.Service, inc.ID)
}

// verb names what a shadow may not do, as they would say it.
func verb(inc rota.Incident) string {
	if inc.Status == rota.StatusAcknowledged {
		return "resolve or escalate"
	}
	return "acknowledge, resolve or escalate"
}

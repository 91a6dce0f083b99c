package paging

import (
	"context"
	"fmt"
	"strconv"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// Act is a request to acknowledge, resolve or escalate an incident, from
// any channel: the API, the web UI, Slack, an SMS reply, a key pressed
// during a call.
type Act struct {
	// Actor is who asks, as they authenticated.
	Actor  rota.Actor
	Action rota.Action
	// Incident is the incident acted on.
	Incident int64
	// Alert, when set, names one alert instead: acknowledging it
	// acknowledges its incident; resolving it resolves the alert, and
	// its incident with its last open alert. Incident is then unused.
	Alert int64
}

// Acted is what an Act did.
type Acted struct {
	Incident rota.Incident
	// Alert is the alert the act named, if it named one.
	Alert rota.Alert
	// Changed is false when there was nothing to do (acknowledging an
	// acknowledged incident).
	Changed bool
}

// Act acknowledges, resolves or escalates an incident for act.Actor:
// the one way every channel acts, so that each checks the same rights
// (policy.MayAct: the service's team, or anyone rota paged for it),
// refuses with the same words, and leaves the same audit entry.
func (e *Engine) Act(ctx context.Context, act Act) (Acted, error) {
	var out Acted
	id := act.Incident
	if act.Alert != 0 {
		a, err := e.store.Alert(ctx, act.Alert)
		if err != nil {
			return out, err
		}
		out.Alert, id = a, a.IncidentID
	}
	inc, err := e.store.Incident(ctx, id)
	if err != nil {
		return out, err
	}
	paged, err := e.MayAct(ctx, act.Actor, inc)
	if err != nil {
		return out, err
	}
	out.Incident = inc
	if act.Action == rota.ActionAcknowledge && inc.Status == rota.StatusAcknowledged {
		return out, nil
	}
	by := act.Actor.String()
	if act.Alert != 0 && act.Action != rota.ActionEscalate {
		a, err := e.store.SetAlertStatus(ctx, act.Alert, decideAlert(act.Action, by))
		if err != nil {
			return out, err
		}
		out.Alert = a
		e.log.Info("alert "+act.Action.PastTense(), "alert", a.ID, "incident", a.IncidentID, "service", a.Service, "by", by)
		if inc, err = e.store.Incident(ctx, a.IncidentID); err != nil {
			return out, err
		}
		out.Incident = inc
	} else {
		// On an error, out keeps the incident as read (a resolved one
		// says by whom).
		changed, err := e.store.ChangeStatus(ctx, id, decideStatus(act.Action, by))
		if err != nil {
			return out, err
		}
		out.Incident = changed
		e.log.Info("incident "+act.Action.PastTense(), "incident", id, "service", inc.Service, "by", by)
	}
	out.Changed = true
	e.Wake() // the next step, or status updates, may be due
	e.auditAct(ctx, act, out.Incident, paged)
	return out, nil
}

// MayAct says whether a may act on inc (policy.MayAct), and returns how
// often rota paged them for it.
func (e *Engine) MayAct(ctx context.Context, a rota.Actor, inc rota.Incident) (rota.PagesFor, error) {
	var paged rota.PagesFor
	if a.Person != "" {
		var err error
		if paged, err = e.store.PagesFor(ctx, a.Person, inc.ID); err != nil {
			return paged, err
		}
	}
	return paged, policy.MayAct(e.book.Roster().Org(), a, inc, paged)
}

// auditAct records an act in the audit log, under the service's team (its
// managers read it there). An act by someone outside that team, allowed
// because rota paged them, says so.
func (e *Engine) auditAct(ctx context.Context, act Act, inc rota.Incident, paged rota.PagesFor) {
	team := ""
	if svc := e.book.Roster().Org().Service(inc.Service); svc != nil {
		team = svc.Team
	}
	subject := "incident " + strconv.FormatInt(inc.ID, 10)
	if act.Alert != 0 {
		subject = fmt.Sprintf("alert %d of incident %d", act.Alert, inc.ID)
	}
	detail := inc.Summary
	if act.Actor.Person != "" && paged.Pages > 0 && team != "" && !e.book.Roster().Org().OnTeam(act.Actor.Person, team) {
		detail += fmt.Sprintf(" (not on team %s: acted as paged for it)", team)
	}
	entry := rota.AuditEntry{Actor: act.Actor.String(), Person: act.Actor.Person, Action: "incident." + string(act.Action), Subject: subject, Team: team, Detail: detail}
	if err := e.store.Audit(context.WithoutCancel(ctx), &entry); err != nil {
		e.log.Error("cannot write the audit log", "action", entry.Action, "actor", entry.Actor, "err", err)
	}
}

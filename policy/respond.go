package policy

import (
	"fmt"
	"slices"
	"time"

	"github.com/rotahq/rota"
)

// ChangeStatus decides what acknowledging, resolving or escalating
// incident a does at now, as actor; the store applies it in the
// transaction that read a (store.ChangeStatus).
//
//   - A resolved incident cannot be acted on: ECONFLICT, saying when and
//     by whom it was resolved.
//   - Acknowledging a triggered incident acknowledges it and its triggered
//     alerts; an acknowledged one is left as it is (Changed false).
//   - Resolving resolves it and its open alerts.
//   - Both stop its escalation (an exhausted one stays exhausted: its
//     policy ran out) and cancel its pending pages and posts.
//   - Escalating makes its next step due now: an acknowledged incident is
//     triggered again (its alerts too); one whose policy ran every step
//     starts again from step 1, one more round.
//
// Each says so on the timeline and in a status update to those who were
// told of the incident (Update: the store finds who they are).
func ChangeStatus(a rota.Incident, action rota.Action, actor string, now time.Time) (rota.StatusChange, error) {
	now = now.Truncate(time.Millisecond) // as stored
	if a.Status == rota.StatusResolved {
		return rota.StatusChange{}, rota.Errorf(rota.ECONFLICT, "incident %d was resolved at %s by %s: it cannot be %s", a.ID,
			a.ResolvedAt.Format(time.RFC3339), orUnknown(a.ResolvedBy), action.PastTense())
	}
	ch := rota.StatusChange{Changed: true}
	switch action {
	case rota.ActionEscalate:
		if a.Status == rota.StatusAcknowledged {
			ch.Alerts = rota.StatusTriggered
			a.AckedAt, a.AckedBy = time.Time{}, ""
		}
		msg := "escalated by " + actor + ": the next step runs now"
		if a.Escalation.State == rota.EscalationExhausted {
			a.Escalation.Step, a.Escalation.Round = 0, a.Escalation.Round+1
			msg = fmt.Sprintf("escalated by %s: policy %s had run every step; it starts again from step 1 (round %d)", actor, a.Policy.Name, a.Escalation.Round+1)
		}
		a.Status = rota.StatusTriggered
		a.Escalation.State, a.Escalation.DueAt = rota.EscalationActive, now
		ch.Rearm = true
		ch.Update = rota.Update{Action: rota.ActionEscalate, By: actor}
		ch.News = statusNews(a.ID, ch.Update)
		ch.Event = rota.IncidentEvent{IncidentID: a.ID, At: now, Kind: rota.EventEscalated, Actor: actor, Message: msg}
		ch.Incident = a
		return ch, nil
	case rota.ActionAcknowledge:
		if a.Status != rota.StatusTriggered {
			return rota.StatusChange{Incident: a}, nil
		}
		a.Status, a.AckedAt, a.AckedBy = rota.StatusAcknowledged, now, actor
		ch.Alerts = rota.StatusAcknowledged
		ch.Event.Kind = rota.EventAcknowledged
	case rota.ActionResolve:
		a.Status, a.ResolvedAt, a.ResolvedBy = rota.StatusResolved, now, actor
		ch.Alerts = rota.StatusResolved
		ch.Event.Kind = rota.EventResolved
	default:
		return rota.StatusChange{}, rota.FieldError("action", "must be acknowledge, resolve or escalate, not %q", action)
	}
	if a.Escalation.State != rota.EscalationExhausted {
		a.Escalation.State = rota.EscalationStopped
	}
	a.Escalation.DueAt = time.Time{}
	ch.Cancel = "incident " + action.PastTense()
	msg := action.PastTense()
	if actor != "" {
		msg += " by " + actor
	}
	ch.Update = rota.Update{Action: action, By: actor}
	ch.News = statusNews(a.ID, ch.Update)
	ch.Event.IncidentID, ch.Event.At, ch.Event.Actor, ch.Event.Message = a.ID, now, actor, msg
	ch.Incident = a
	return ch, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown actor"
	}
	return s
}

// AssignedTo is who an incident is with now: the people its latest step
// paged (not its shadows, not a page that failed), in the order paged.
// Nobody when no step paged anyone yet.
func AssignedTo(notes []rota.Notification) []string {
	wave := 0
	for _, n := range notes {
		if n.Kind == rota.KindPage && !n.Shadow && n.Status != rota.NotifyFailed && n.Wave > wave {
			wave = n.Wave
		}
	}
	var out []string
	for _, n := range notes {
		if n.Kind == rota.KindPage && !n.Shadow && n.Status != rota.NotifyFailed && n.Wave == wave && wave > 0 && !slices.Contains(out, n.Person) {
			out = append(out, n.Person)
		}
	}
	return out
}

// ActOnAlert decides what acknowledging or resolving one alert does, as a
// source's follow-up or a person's act on that alert: acknowledging
// acknowledges its incident; resolving resolves the alert, and its
// incident with its last open alert (else the timeline says how many still
// fire). A resolved alert cannot be acted on.
func ActOnAlert(f rota.AlertFacts, action rota.Action, actor string) (rota.AlertChange, error) {
	now := f.Now.Truncate(time.Millisecond) // as stored
	a := f.Alert
	if a.Status == rota.StatusResolved {
		return rota.AlertChange{}, rota.Errorf(rota.ECONFLICT, "alert %d was resolved at %s by %s: it cannot be %s", a.ID,
			a.ResolvedAt.Format(time.RFC3339), orUnknown(a.ResolvedBy), action.PastTense())
	}
	incident := func() (*rota.StatusChange, error) {
		ch, err := ChangeStatus(f.Incident, action, actor, now)
		if err != nil || !ch.Changed {
			return nil, err
		}
		return &ch, nil
	}
	switch action {
	case rota.ActionAcknowledge:
		ch, err := incident()
		if err != nil {
			return rota.AlertChange{}, err
		}
		if a.Status == rota.StatusTriggered {
			a.Status = rota.StatusAcknowledged // with its incident's alerts
		}
		return rota.AlertChange{Alert: a, Incident: ch}, nil
	case rota.ActionResolve:
		a.Status, a.ResolvedAt, a.ResolvedBy, a.UpdatedAt = rota.StatusResolved, now, actor, now
		out := rota.AlertChange{Alert: a, AlertChanged: true}
		if f.OthersOpen == 0 {
			ch, err := incident()
			out.Incident = ch
			return out, err
		}
		by := ""
		if actor != "" {
			by = " by " + actor
		}
		out.Event = &rota.IncidentEvent{IncidentID: f.Incident.ID, AlertID: a.ID, At: now, Kind: rota.EventAlertResolved, Actor: actor,
			Message: fmt.Sprintf("alert #%d resolved%s (%s); %d of the incident's alerts still firing", a.ID, by, truncateBytes(a.Summary, 60), f.OthersOpen)}
		return out, nil
	}
	return rota.AlertChange{}, rota.FieldError("action", "must be acknowledge or resolve, not %q", action)
}

// truncateBytes shortens s to n bytes with "…" (as the store once did).
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

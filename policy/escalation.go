package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// Step is what running an alert's due escalation step decides, and the
// people it pages, in order.
type Step struct {
	rota.StepOutcome
	Paged []string
}

// RunStep runs the alert's due step at now. Targets resolve against the
// current roster: whoever is on call on a rotation now, a named person,
// the author and merger of the deploy the alert suspects. A target that no
// longer exists in the configuration, a rotation with nobody on call, or a
// person with no contact method is skipped with a note. A step that pages
// nobody does not wait its delay: the next step runs at once; so does a
// step with no delay, whose people are paged together with the next's.
// After the last step of the last round has waited its delay, the
// escalation is exhausted and the alert stays open.
func RunStep(a *rota.Incident, roster *scheduler.Roster, now time.Time) Step {
	told := a.Escalation.Wave > 0 // a step before this one notified people
	out := runStep(a, roster, now)
	if told {
		out.News = escalationNews(a.ID, out.Notifications)
	}
	return out
}

func runStep(a *rota.Incident, roster *scheduler.Roster, now time.Time) Step {
	out := Step{StepOutcome: rota.StepOutcome{Escalation: a.Escalation}}
	esc := &out.Escalation
	steps := a.Policy.Steps
	note := func(kind, format string, args ...any) {
		out.Events = append(out.Events, rota.IncidentEvent{IncidentID: a.ID, At: now, Kind: kind, Message: fmt.Sprintf(format, args...)})
	}
	if len(steps) == 0 {
		esc.State, esc.DueAt = rota.EscalationExhausted, time.Time{}
		note(rota.EventExhausted, "escalation policy %q has no steps: nobody was paged", a.Policy.Name)
		return out
	}
	if until, why, held := InMaintenance(roster.Org().Service(a.Service), a.Maintenance, now); held {
		// Planned work on the service: the step waits for its end.
		esc.State, esc.DueAt = rota.EscalationActive, until
		note(rota.EventMaintenance, "%s until %s: the next step waits for it to end", why, clock(until, roster.Org().Service(a.Service)))
		return out
	}
	paged := map[string]bool{}
	// A low-urgency alert does not page anyone outside their business
	// hours: quiet holds each such person until their hours start.
	quiet := false
	if svc := roster.Org().Service(a.Service); svc != nil && svc.IsLowUrgency(a.Severity) {
		quiet = true
	}
	// Each step is tried at most once per call, so a policy whose targets
	// all resolve to nobody ends instead of spinning.
	for tries := 0; tries <= len(steps)*(a.Policy.Repeat+1); tries++ {
		if esc.Step >= len(steps) {
			if esc.Round >= a.Policy.Repeat {
				esc.State, esc.DueAt = rota.EscalationExhausted, time.Time{}
				note(rota.EventExhausted, "escalation exhausted after %d %s: nobody acknowledged", esc.Round+1, plural(esc.Round+1, "round", "rounds"))
				return out
			}
			esc.Step, esc.Round = 0, esc.Round+1
		}
		idx := esc.Step
		step := steps[idx]
		esc.Step++
		if step.FirstRoundOnly && esc.Round > 0 {
			continue
		}
		esc.Wave++
		posted := posts(a, step, idx, esc, roster.Org(), now)
		out.Notifications = append(out.Notifications, posted...)
		if len(posted) > 0 {
			names := make([]string, len(posted))
			for i, n := range posted {
				names[i] = n.Body
			}
			note(rota.EventEscalated, "step %d: posting to %s", idx+1, join(names))
		}
		people := resolveTargets(a, step.Targets, roster, now, note)
		var stepPaged, copied []string
		var waiting []string
		var wake time.Time
		before := len(out.Notifications)
		for _, t := range people {
			if paged[t.person] {
				continue
			}
			p := roster.Org().Person(t.person)
			if len(p.Contacts) == 0 {
				note(rota.EventSkipped, "step %d: %s has no contact methods", idx+1, t.person)
				continue
			}
			if quiet && !t.shadow && OffHours(p, now) {
				next := NextBusinessStart(p, now)
				waiting = append(waiting, t.person)
				if wake.IsZero() || next.Before(wake) {
					wake = next
				}
				out.Events = append(out.Events, rota.IncidentEvent{IncidentID: a.ID, At: now, Kind: rota.EventQuiet, Actor: t.person,
					Message: fmt.Sprintf("%s is outside business hours: this %s alert waits until %s", t.person, a.Severity, next.In(p.Location).Format("Mon 2 Jan 15:04 MST"))})
				continue
			}
			paged[t.person] = true
			if t.shadow {
				copied = append(copied, t.person)
			} else {
				stepPaged = append(stepPaged, t.person)
			}
			for ci, c := range p.Contacts {
				out.Notifications = append(out.Notifications, rota.Notification{
					IncidentID: a.ID, Person: t.person, Channel: c.Type, Address: c.Address, ContactIndex: ci,
					Wave: esc.Wave, Status: rota.NotifyPending, NextAttempt: now.Add(c.Delay), Reason: t.reason, Shadow: t.shadow,
					Updates: c.Updates && c.Type != rota.ContactVoice,
				})
			}
		}
		if len(copied) > 0 {
			note(rota.EventEscalated, "step %d: shadow copy to %s", idx+1, join(copied))
		}
		if len(stepPaged) == 0 && len(waiting) > 0 {
			// Everyone this step pages is off-hours: run the step again
			// when the first of them starts work; resolved by then, it
			// never runs.
			esc.Step--
			esc.Wave-- // nothing was sent
			esc.State, esc.DueAt = rota.EscalationActive, wake
			out.Notifications = out.Notifications[:before]
			return out
		}
		if len(stepPaged) == 0 {
			note(rota.EventSkipped, "step %d paged nobody: going on to the next step at once", idx+1)
			continue
		}
		out.Paged = append(out.Paged, stepPaged...)
		round := ""
		if esc.Round > 0 {
			round = fmt.Sprintf(" (round %d)", esc.Round+1)
		}
		if step.Delay == 0 && esc.Step < len(steps) {
			note(rota.EventEscalated, "step %d%s: paging %s, with the next step", idx+1, round, join(stepPaged))
			continue
		}
		esc.State, esc.DueAt = rota.EscalationActive, now.Add(step.Delay)
		note(rota.EventEscalated, "step %d%s: paging %s; next step in %s", idx+1, round, join(stepPaged), rota.FormatDuration(step.Delay))
		return out
	}
	if len(out.Paged) > 0 {
		// A last step with no delay: wait nothing, the next round or the
		// end comes at once.
		esc.State, esc.DueAt = rota.EscalationActive, now
		return out
	}
	esc.State, esc.DueAt = rota.EscalationExhausted, time.Time{}
	note(rota.EventExhausted, "escalation exhausted: no step could page anyone")
	return out
}

// posts are the chat-channel posts a step makes: its channel targets, and
// on the policy's very first step, the service's own channels; in the
// first round only, each naming its channel.
func posts(a *rota.Incident, step rota.EscalationStep, idx int, esc *rota.Escalation, org *rota.Org, now time.Time) []rota.Notification {
	if esc.Round > 0 {
		return nil // posted once: a channel is not paged again each round
	}
	var names []string
	if idx == 0 {
		if svc := org.Service(a.Service); svc != nil {
			names = append(names, svc.Channels...)
		}
	}
	for _, t := range step.Targets {
		if t.Kind == rota.TargetChannel {
			names = append(names, t.Name)
		}
	}
	var out []rota.Notification
	seen := map[string]bool{}
	for _, name := range names {
		ch := org.ChatChannel(name)
		if ch == nil || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, rota.Notification{IncidentID: a.ID, Channel: ch.Type, Address: ch.Address, Wave: esc.Wave,
			Status: rota.NotifyPending, NextAttempt: now, Kind: rota.KindPost, ChatChannel: name, Updates: true})
	}
	return out
}

// target is a person a step pages, and why when it is not their turn; a
// shadow gets a copy and is not paged.
type target struct {
	person, reason string
	shadow         bool
}

// resolveTargets turns a step's targets into people, in order, without
// repeats.
func resolveTargets(a *rota.Incident, targets []rota.Target, roster *scheduler.Roster, now time.Time, note func(kind, format string, args ...any)) []target {
	org := roster.Org()
	var out []target
	seen := map[string]bool{}
	add := func(name, reason string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, target{person: name, reason: reason})
		}
	}
	for _, t := range targets {
		switch t.Kind {
		case rota.TargetRotation:
			name, ok := onCall(org, roster, t.Name, now, note)
			if !ok {
				continue
			}
			add(name, "")
			// Learners shadowing this rotation get copies.
			for _, sr := range org.Rotations {
				if sr.ShadowOf != t.Name {
					continue
				}
				if sh, ok := roster.OnCall(sr.Name, now); ok && !seen[sh.Person] && org.Person(sh.Person) != nil {
					seen[sh.Person] = true
					out = append(out, target{person: sh.Person, shadow: true,
						reason: fmt.Sprintf("shadow copy: %s is on call on %s; you are shadowing and cannot acknowledge", name, t.Name)})
				}
			}
		case rota.TargetPerson:
			if org.Person(t.Name) == nil {
				note(rota.EventSkipped, "%s is no longer configured", t.Name)
				continue
			}
			add(t.Name, "")
		case rota.TargetDeployAuthor:
			for _, dt := range deployPeople(a, roster, now, note) {
				add(dt.person, dt.reason)
			}
		}
	}
	return out
}

func onCall(org *rota.Org, roster *scheduler.Roster, rotation string, now time.Time, note func(kind, format string, args ...any)) (string, bool) {
	if org.Rotation(rotation) == nil {
		note(rota.EventSkipped, "rotation %s is no longer configured", rotation)
		return "", false
	}
	sh, ok := roster.OnCall(rotation, now)
	if !ok {
		note(rota.EventSkipped, "nobody is on call on %s", rotation)
		return "", false
	}
	if org.Person(sh.Person) == nil {
		note(rota.EventSkipped, "%s, on call on %s, is no longer configured", sh.Person, rotation)
		return "", false
	}
	return sh.Person, true
}

// deployPeople resolves the suspected deploy to the one person to page:
// its author, or its merger when the author cannot be paged (an identity
// nobody claims, someone outside the service's team when its
// deploy_authors is "team", someone with no contact method). An author
// the policy's first step pages anyway (on call, most often) is reached:
// nobody is added. Each one skipped is noted with why.
func deployPeople(a *rota.Incident, roster *scheduler.Roster, now time.Time, note func(kind, format string, args ...any)) []target {
	d := a.Deploy
	if d == nil {
		note(rota.EventSkipped, "no deploy to %s in the window: no deploy author to page", a.Service)
		return nil
	}
	org := roster.Org()
	team := ""
	if svc := org.Service(a.Service); svc != nil && svc.DeployAuthors != rota.DeployAuthorsOrg {
		team = svc.Team
	}
	anyway := firstStepPeople(a, roster, now)
	for _, r := range []struct{ identity, role string }{{d.Author, "author"}, {d.MergedBy, "merger"}} {
		if r.identity == "" {
			continue
		}
		p := org.PersonByIdentity(r.identity)
		var why string
		switch {
		case p == nil:
			why = fmt.Sprintf("%s %q is not a person rota knows", r.role, r.identity)
		case team != "" && !org.OnTeam(p.Name, team):
			why = fmt.Sprintf("%s %s is not on team %s, and service %s pages its own team's authors only (deploy_authors = %q)", r.role, p.Name, team, a.Service, rota.DeployAuthorsTeam)
		case len(p.Contacts) == 0:
			why = fmt.Sprintf("%s %s has no contact methods", r.role, p.Name)
		case anyway[p.Name]:
			note(rota.EventSkipped, "deploy %s: %s %s is paged by the policy anyway", d.ShortCommit(), r.role, p.Name)
			return nil
		default:
			return []target{{person: p.Name, reason: deployReason(d, r.role, now)}}
		}
		note(rota.EventSkipped, "deploy %s: %s: not paged", d.ShortCommit(), why)
	}
	return nil
}

// firstStepPeople are whom the policy's own first step pages now.
func firstStepPeople(a *rota.Incident, roster *scheduler.Roster, now time.Time) map[string]bool {
	people := map[string]bool{}
	quiet := func(string, string, ...any) {}
	for _, s := range a.Policy.Steps {
		if s.FirstRoundOnly {
			continue
		}
		for _, t := range s.Targets {
			switch t.Kind {
			case rota.TargetRotation:
				if name, ok := onCall(roster.Org(), roster, t.Name, now, quiet); ok {
					people[name] = true
				}
			case rota.TargetPerson:
				people[t.Name] = true
			}
		}
		break
	}
	return people
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func join(names []string) string {
	switch len(names) {
	case 0:
		return "nobody"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

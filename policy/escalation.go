package policy

import (
	"fmt"
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
// current roster: whoever is on call on a rotation now, a named person.
// A target that no longer exists in the configuration, a rotation with
// nobody on call, or a person with no contact method is skipped with a
// note. A step that pages nobody does not wait its delay: the next step
// runs at once. After the last step of the last round has waited its
// delay, the escalation is exhausted and the alert stays open.
func RunStep(a *rota.Alert, roster *scheduler.Roster, now time.Time) Step {
	out := Step{StepOutcome: rota.StepOutcome{Escalation: a.Escalation}}
	esc := &out.Escalation
	steps := a.Policy.Steps
	note := func(kind, format string, args ...any) {
		out.Events = append(out.Events, rota.AlertEvent{AlertID: a.ID, At: now, Kind: kind, Message: fmt.Sprintf(format, args...)})
	}
	if len(steps) == 0 {
		esc.State, esc.DueAt = rota.EscalationExhausted, time.Time{}
		note(rota.EventExhausted, "escalation policy %q has no steps: nobody was paged", a.Policy.Name)
		return out
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
		esc.Wave++
		people := resolveTargets(a, step.Targets, roster, now, note)
		for _, name := range people {
			p := roster.Org().Person(name)
			if len(p.Contacts) == 0 {
				note(rota.EventSkipped, "step %d: %s has no contact methods", idx+1, name)
				continue
			}
			out.Paged = append(out.Paged, name)
			for ci, c := range p.Contacts {
				out.Notifications = append(out.Notifications, rota.Notification{
					AlertID: a.ID, Person: name, Channel: c.Type, Address: c.Address, ContactIndex: ci,
					Wave: esc.Wave, Status: rota.NotifyPending, NextAttempt: now.Add(c.Delay),
				})
			}
		}
		if len(out.Paged) > 0 {
			esc.State, esc.DueAt = rota.EscalationActive, now.Add(step.Delay)
			round := ""
			if esc.Round > 0 {
				round = fmt.Sprintf(" (round %d)", esc.Round+1)
			}
			note(rota.EventEscalated, "step %d%s: paging %s; next step in %s", idx+1, round, join(out.Paged), rota.FormatDuration(step.Delay))
			return out
		}
		note(rota.EventSkipped, "step %d paged nobody: going on to the next step at once", idx+1)
	}
	esc.State, esc.DueAt = rota.EscalationExhausted, time.Time{}
	note(rota.EventExhausted, "escalation exhausted: no step could page anyone")
	return out
}

// resolveTargets turns a step's targets into people, in order, without
// repeats.
func resolveTargets(a *rota.Alert, targets []rota.Target, roster *scheduler.Roster, now time.Time, note func(kind, format string, args ...any)) []string {
	org := roster.Org()
	var people []string
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			people = append(people, name)
		}
	}
	for _, t := range targets {
		switch t.Kind {
		case rota.TargetRotation:
			if org.Rotation(t.Name) == nil {
				note(rota.EventSkipped, "rotation %s is no longer configured", t.Name)
				continue
			}
			sh, ok := roster.OnCall(t.Name, now)
			if !ok {
				note(rota.EventSkipped, "nobody is on call on %s", t.Name)
				continue
			}
			if org.Person(sh.Person) == nil {
				note(rota.EventSkipped, "%s, on call on %s, is no longer configured", sh.Person, t.Name)
				continue
			}
			add(sh.Person)
		case rota.TargetPerson:
			if org.Person(t.Name) == nil {
				note(rota.EventSkipped, "%s is no longer configured", t.Name)
				continue
			}
			add(t.Name)
		case rota.TargetDeployAuthor:
			// Deploy-author routing comes with deploy events: until a
			// deploy is recorded for the service there is no author.
			note(rota.EventSkipped, "no deploy to %s in the window: no deploy author to page", a.Service)
		}
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
	s := names[0]
	for _, n := range names[1 : len(names)-1] {
		s += ", " + n
	}
	return s + " and " + names[len(names)-1]
}

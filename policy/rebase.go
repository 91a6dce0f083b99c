package policy

import (
	"fmt"
	"slices"
	"time"

	"github.com/rotahq/rota"
)

// RebaseWait decides where an open incident's wait for its next step
// moves when the configuration changes from old to cur (a reload), so
// that a reload moves every deadline it changes:
//
//   - a wait for planned work (due when a maintenance window of old
//     ends) moves to the end of cur's windows, or to now when cur has the
//     service out of maintenance;
//   - a wait for a step's delay (due stepAt plus the delay the incident
//     started with) moves to stepAt plus the delay cur's policy of the
//     same name gives that step, never before now.
//
// The incident keeps its policy's steps and targets as they were when it
// started; only their delays follow the configuration, and only while
// cur's policy (deploy routing applied) has the same steps, targets in
// order: reshaped, it keeps the old delays too. A held incident takes the
// new delays for the steps to come.
//
// stepAt is when the incident's last step ran (zero if none has). adhoc
// are the service's ad hoc windows. It returns the incident as it should
// be, a timeline note, and whether anything changed.
func RebaseWait(a rota.Incident, stepAt time.Time, old, cur *rota.Org, adhoc []rota.Maintenance, now time.Time) (rota.Incident, string, bool) {
	due := a.Escalation.DueAt
	if a.Status != rota.StatusTriggered || a.Escalation.State != rota.EscalationActive || due.IsZero() || !due.After(now) {
		return a, "", false
	}
	svc := cur.Service(a.Service)
	// The delays cur gives the incident's steps, while its policy has
	// the same steps (targets, first-round-only) as the incident's.
	steps := a.Policy.Steps
	if p := cur.Policy(a.Policy.Name); p != nil {
		if eff := WithDeployRouting(*p, svc, a.Deploy != nil); sameSteps(eff.Steps, a.Policy.Steps) {
			steps = slices.Clone(a.Policy.Steps)
			for i := range steps {
				steps[i].Delay = eff.Steps[i].Delay
			}
		}
	}
	delays := !slices.EqualFunc(steps, a.Policy.Steps, func(x, y rota.EscalationStep) bool { return x.Delay == y.Delay })
	was := a.Policy.Steps
	a.Policy.Steps = steps
	if until, _, held := InMaintenance(old.Service(a.Service), adhoc, now); held && until.Equal(due) {
		next, why, still := InMaintenance(svc, adhoc, now)
		switch {
		case still && next.Equal(due):
			if delays {
				return a, fmt.Sprintf("the configuration changed policy %s's delays: the steps to come wait as it says now", a.Policy.Name), true
			}
			return a, "", false
		case still:
			a.Escalation.DueAt = next
			return a, fmt.Sprintf("the configuration changed %s's maintenance windows: %s until %s: the next step waits for it to end", a.Service, why, clock(next, svc)), true
		}
		a.Escalation.DueAt = now
		return a, fmt.Sprintf("the configuration changed %s's maintenance windows: it is no longer in maintenance: the next step runs now", a.Service), true
	}
	if !delays {
		return a, "", false
	}
	i := a.Escalation.Step - 1
	if stepAt.IsZero() || i < 0 || i >= len(steps) || !stepAt.Add(was[i].Delay).Equal(due) || steps[i].Delay == was[i].Delay {
		return a, fmt.Sprintf("the configuration changed policy %s's delays: the steps to come wait as it says now", a.Policy.Name), true
	}
	a.Escalation.DueAt = stepAt.Add(steps[i].Delay)
	if a.Escalation.DueAt.Before(now) {
		a.Escalation.DueAt = now
	}
	return a, fmt.Sprintf("the configuration changed policy %s: step %d waits %s, not %s: the next step is due at %s",
		a.Policy.Name, i+1, rota.FormatDuration(steps[i].Delay), rota.FormatDuration(was[i].Delay), clock(a.Escalation.DueAt, svc)), true
}

// sameSteps reports whether two policies' steps page the same targets in
// the same order, whatever their delays.
func sameSteps(a, b []rota.EscalationStep) bool {
	return slices.EqualFunc(a, b, func(x, y rota.EscalationStep) bool {
		return x.FirstRoundOnly == y.FirstRoundOnly && slices.Equal(x.Targets, y.Targets)
	})
}

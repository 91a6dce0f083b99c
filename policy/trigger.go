package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// Group is how a trigger event looks for an incident to join: the open
// incident with Key (when not empty), else the service's youngest open
// incident younger than Window (when not zero).
type Group struct {
	Key    string
	Window time.Duration
}

// Grouping returns how ev groups on a service with grouping g. With
// group_by, alerts group by those fields' values alone; otherwise by their
// source's group key (an Alertmanager or Grafana group), then by the time
// window. With grouping off, every alert is an incident of its own.
func Grouping(g rota.Grouping, ev *rota.Event) Group {
	switch {
	case g.Off:
		return Group{}
	case len(g.By) > 0:
		parts := make([]string, len(g.By))
		for i, f := range g.By {
			parts[i] = f + "=" + field(ev, f)
		}
		return Group{Key: hashLong("by:" + strings.Join(parts, ","))}
	}
	out := Group{Window: g.Window}
	if out.Window == 0 {
		out.Window = rota.DefaultGroupWindow
	}
	if ev.GroupKey != "" {
		out.Key = ev.Integration + ":" + ev.GroupKey
	}
	out.Key = hashLong(out.Key)
	return out
}

// hashLong keeps a long group key comparable, not whole: Alertmanager's
// group keys hold the route and its labels.
func hashLong(key string) string {
	if len(key) <= rota.MaxDedupKeyLength {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// field is the value of an event's field for group_by: a label or custom
// detail, or one of the event's own fields.
func field(ev *rota.Event, name string) string {
	if v, ok := ev.Labels[name]; ok {
		return v
	}
	switch name {
	case "summary":
		return ev.Summary
	case "severity":
		return ev.Severity
	case "source":
		return ev.Source
	}
	return ""
}

// TriggerInput is what deciding a trigger event takes besides the facts
// the store reads: the event, its service and policy, the deploys it may
// suspect, the roster of the moment and the group it looks for.
type TriggerInput struct {
	Event   *rota.Event
	Service *rota.Service
	Policy  rota.EscalationPolicy
	Deploys []rota.Deploy
	Roster  *scheduler.Roster
	Group   Group
}

// Trigger decides what a trigger event becomes: a repeat of its open
// alert; a new alert joining an open incident (its group's, or the
// service's youngest inside the window), which pages nobody new; or a new
// incident, with its start time, suspected deploy, routing and first
// escalation step.
func Trigger(in TriggerInput, f rota.TriggerFacts) rota.TriggerDecision {
	ev, now := in.Event, f.Now
	if f.Open != nil {
		return rota.TriggerDecision{Outcome: rota.TriggerDeduplicated}
	}
	alert := rota.Alert{Service: ev.Service, DedupKey: ev.DedupKey, Status: rota.StatusTriggered, Summary: ev.Summary,
		Severity: ev.Severity, Source: ev.Source, Details: ev.Details, Links: ev.Links, Integration: ev.Integration,
		GroupKey: in.Group.Key, StartedAt: AlertTime(now, ev.StartedAt)}
	join := f.Grouped
	if join == nil {
		join = f.Recent
	}
	if join != nil {
		inc := *join
		msg := fmt.Sprintf("alert from %s joined: %s (%d alerts)", ev.Integration, ev.Summary, inc.AlertCount+1)
		if rota.SeverityRank(ev.Severity) > rota.SeverityRank(inc.Severity) {
			msg += fmt.Sprintf("; severity raised from %s to %s", inc.Severity, ev.Severity)
			inc.Severity = ev.Severity
			// An incident whose step waits for someone's business hours
			// (a low-urgency one, nobody paged yet) runs it now that an
			// urgent alert joined.
			_, _, held := InMaintenance(in.Service, f.Maintenance, now)
			if inc.Status == rota.StatusTriggered && inc.Escalation.Wave == 0 && inc.Escalation.DueAt.After(now) &&
				!in.Service.IsLowUrgency(ev.Severity) && !held {
				inc.Escalation.DueAt = now
				msg += ": paging now"
			}
		}
		return rota.TriggerDecision{Outcome: rota.TriggerGrouped, Alert: alert, Incident: inc,
			Events: []rota.IncidentEvent{{At: now, Kind: rota.EventAlert, Actor: ev.Integration, Message: msg}}}
	}
	window := in.Service.DeployWindow
	if window == 0 {
		window = rota.DefaultDeployWindow
	}
	inc := rota.Incident{Service: ev.Service, GroupKey: in.Group.Key, Status: rota.StatusTriggered, Summary: ev.Summary,
		Severity: ev.Severity, Escalation: rota.Escalation{State: rota.EscalationActive}, StartedAt: alert.StartedAt}
	inc.Deploy, _ = Suspects(in.Deploys, ev.Service, inc.StartedAt, window)
	inc.Policy = WithDeployRouting(in.Policy, in.Service, inc.Deploy != nil)
	events := []rota.IncidentEvent{{At: now, Kind: rota.EventTriggered, Actor: ev.Integration,
		Message: fmt.Sprintf("triggered by %s: %s", ev.Integration, ev.Summary)}}
	if inc.Deploy != nil {
		events = append(events, rota.IncidentEvent{At: now, Kind: rota.EventDeploy, Actor: inc.Deploy.RecordedBy, Message: suspectNote(inc.Deploy, inc.StartedAt)})
	}
	if until, why, held := InMaintenance(in.Service, f.Maintenance, now); held {
		// Planned work: recorded, paging nobody; the policy starts when
		// the window ends if the incident is still open.
		inc.InMaintenance = true
		inc.Escalation.DueAt = until
		return rota.TriggerDecision{Outcome: rota.TriggerCreated, Alert: alert, Incident: inc,
			Step: rota.StepOutcome{Escalation: inc.Escalation, Events: []rota.IncidentEvent{{At: now, Kind: rota.EventMaintenance,
				Message: fmt.Sprintf("%s until %s: paging nobody; if it still fires then, the policy starts", why, clock(until, in.Service))}}},
			Events: events}
	}
	return rota.TriggerDecision{Outcome: rota.TriggerCreated, Alert: alert, Incident: inc,
		Step: RunStep(&inc, in.Roster, now).StepOutcome, Events: events}
}

// suspectNote tells a timeline which deploy an incident starting at t
// suspects, whose it is and what recorded it.
func suspectNote(d *rota.Deploy, t time.Time) string {
	what := d.ShortCommit()
	if what == "" {
		what = fmt.Sprintf("%q", d.Summary)
	}
	s := fmt.Sprintf("suspects deploy %s to %s, rolled out %d min before", what, d.Service, int(t.Sub(d.DeployedAt).Minutes()))
	switch {
	case d.Author != "" && d.MergedBy != "" && !strings.EqualFold(d.Author, d.MergedBy):
		s += fmt.Sprintf(": author %s, merged by %s", d.Author, d.MergedBy)
	case d.Author != "":
		s += ": author " + d.Author
	case d.MergedBy != "":
		s += ": merged by " + d.MergedBy
	}
	if d.RecordedBy != "" {
		s += "; recorded by " + d.RecordedBy
	}
	return s
}

// LabelsOf flattens a JSON-decoded object's string, number and boolean
// values into labels for group_by.
func LabelsOf(m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64, bool:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// clock writes t in the service's zone, for timelines.
func clock(t time.Time, svc *rota.Service) string {
	loc := time.UTC
	if svc != nil && svc.Location != nil {
		loc = svc.Location
	}
	return t.In(loc).Format("Mon 2 Jan 15:04 MST")
}

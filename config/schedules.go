package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/rotahq/rota"
)

// schedules resolves [[schedules]]: rotations stacked as layers, lowest
// first, a higher layer winning wherever it has someone on call. A
// schedule shares rotations' names and is used wherever a rotation is
// (escalation targets, feeds, overrides, /api/v1/oncall).
func (v *validator) schedules(ss []scheduleSection, rotations *named[rota.Rotation], teams *named[rota.Team]) {
	for i, s := range ss {
		path := at("schedules", i, "")
		if rotations.get(s.Name) != nil {
			v.addf(at("schedules", i, "name"), "%q is already a rotation's name: schedules and rotations share names", s.Name)
			continue
		}
		r := &rota.Rotation{Name: s.Name, Team: s.Team, Description: s.Description, Layers: s.Layers, ShiftDays: rota.MaxShiftDays, Handoff: rota.DefaultHandoff}
		if !add(v, rotations, "schedules", i, s.Name, r) {
			continue
		}
		team := teams.get(s.Team)
		switch {
		case s.Team == "":
			v.required(path, "team", "")
		case team == nil:
			v.addf(at("schedules", i, "team"), "unknown team %q", s.Team)
		}
		if len(s.Layers) == 0 {
			v.required(path, "layers", ": the rotations it stacks, lowest first (a later layer wins where it has someone)")
		}
		seen := map[string]bool{}
		for j, l := range s.Layers {
			lp := fmt.Sprintf("%s[%d]", at("schedules", i, "layers"), j)
			lr := rotations.get(l)
			switch {
			case lr == nil:
				v.addf(lp, "unknown rotation %q", l)
			case lr.IsSchedule():
				v.addf(lp, "%q is a schedule: layers are rotations", l)
			case lr.ShadowOf != "":
				v.addf(lp, "%q is a shadow rotation: learners are not layers of who is paged", l)
			case seen[l]:
				v.addf(lp, "rotation %q is a layer twice", l)
			default:
				for _, m := range lr.Members {
					if !slices.Contains(r.Members, m) {
						r.Members = append(r.Members, m)
					}
				}
			}
			seen[l] = true
		}
		r.Location = v.location(at("schedules", i, "timezone"), s.Timezone)
		if r.Location == nil && s.Timezone == "" && team != nil {
			r.Location = team.Location
		}
		if r.Location != nil {
			r.Start = time.Date(2000, 1, 1, 0, 0, 0, 0, r.Location)
		}
		if s.Reminder != "" {
			r.Reminder = v.window(at("schedules", i, "handover_reminder"), s.Reminder, 0, time.Minute, 2*rota.Day)
		}
		v.channelRefs(at("schedules", i, "announce"), s.Announce, v.channels)
		r.Announce = s.Announce
		if s.SlackUserGroup != "" && !slackID(s.SlackUserGroup, "S") {
			v.addf(at("schedules", i, "slack_usergroup"), "%q is not a Slack user group id (S0123ABCD)", s.SlackUserGroup)
		}
		r.SlackUserGroup = s.SlackUserGroup
	}
}

// heartbeats resolves a service's [[services.heartbeats]].
func (v *validator) heartbeats(path string, hs []heartbeatSection) []rota.HeartbeatCheck {
	var out []rota.HeartbeatCheck
	seen := map[string]bool{}
	for j, h := range hs {
		p := fmt.Sprintf("%s[%d]", path, j)
		c := rota.HeartbeatCheck{Name: h.Name, Severity: h.Severity}
		switch {
		case h.Name == "":
			v.required(p, "name", ": what the job posts to, /api/v1/heartbeats/NAME")
		case !validName(h.Name):
			v.addf(p+".name", "%q is not a name: letters, digits, '-', '_' and '.'", h.Name)
		case seen[h.Name]:
			v.addf(p+".name", "heartbeat %q is declared twice", h.Name)
		}
		seen[h.Name] = true
		if h.Timeout == "" {
			v.required(p, "timeout", `: how long without a beat is a miss, as "5m" or "25h"`)
		} else {
			c.Timeout = v.window(p+".timeout", h.Timeout, 0, time.Second, 31*rota.Day)
		}
		if c.Severity == "" {
			c.Severity = rota.SeverityCritical
		} else if !slices.Contains(rota.Severities, c.Severity) {
			v.addf(p+".severity", "%q is not a severity: critical, error, warning or info", h.Severity)
		}
		out = append(out, c)
	}
	return out
}

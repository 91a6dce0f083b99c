// Package importer turns another on-call system's objects into a rota
// configuration: TOML sections for rota's config file, and a report of
// what has no rota equivalent, one finding per object with the reason and
// the nearest rota setting. It reads nothing itself: rotad import feeds
// it what a source's API (or a saved export) returned, and checks the
// result with config.Parse.
package importer

import (
	"fmt"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"
)

// Rotation is a [[rotations]] section to write.
type Rotation struct {
	Name, Team, Timezone string
	Members              []string
	// Shift is "1d" to "6d" or "1w"; Handoff "08:00" or, for "1w",
	// "tuesday 10:00"; Start the date the first member's first shift
	// begins on.
	Shift, Handoff, Start string
	Active                []string
	// From says what it was made of ("PagerDuty schedule PXXXX, layer 2").
	From string
}

// Schedule is a [[schedules]] section: its layers lowest first, a later
// one winning wherever it has someone on call.
type Schedule struct {
	Name, Team, Timezone string
	Layers               []string
	From                 string
}

// Finding is what did not carry over as it was: the object, why, and the
// nearest rota setting.
type Finding struct {
	Object, Reason, Nearest string
}

func (f Finding) String() string {
	if f.Nearest == "" {
		return f.Object + ": " + f.Reason
	}
	return f.Object + ": " + f.Reason + "; nearest in rota: " + f.Nearest
}

// PagerDutySchedule converts a schedule as GET /schedules/{id} returns it.
// people maps PagerDuty user IDs to rota person names; now decides what
// has ended and what starts later. A schedule of one layer becomes one
// rotation named after the schedule; of several, a rotation per layer and
// a schedule stacking them.
//
// PagerDuty lists a schedule's layers highest first (the last added, "Layer
// N", wins); rota's are lowest first.
func PagerDutySchedule(s pagerduty.Schedule, team string, people map[string]string, now time.Time) ([]Rotation, *Schedule, []Finding) {
	loc, err := time.LoadLocation(s.TimeZone)
	object := fmt.Sprintf("schedule %q (%s)", s.Name, s.ID)
	if err != nil || s.TimeZone == "" {
		return nil, nil, []Finding{{Object: object, Reason: fmt.Sprintf("time zone %q is not an IANA zone rota knows", s.TimeZone), Nearest: "set timezone by hand"}}
	}
	var rotations []Rotation
	var findings []Finding
	name := Slug(s.Name)
	var kept []pagerduty.ScheduleLayer
	for _, l := range s.ScheduleLayers {
		if end, ok := parseTime(l.End); ok && !end.After(now) {
			findings = append(findings, Finding{Object: fmt.Sprintf("%s layer %q", object, l.Name), Reason: "ended " + end.In(loc).Format(time.RFC3339) + ": left out"})
			continue
		}
		kept = append(kept, l)
	}
	for i := len(kept) - 1; i >= 0; i-- { // lowest first
		l := kept[i]
		rname := name
		if len(kept) > 1 {
			rname = name + "-" + Slug(l.Name)
			if Slug(l.Name) == "" {
				rname = fmt.Sprintf("%s-layer-%d", name, len(kept)-i)
			}
		}
		lobject := fmt.Sprintf("%s layer %q", object, l.Name)
		r, fs := pagerDutyLayer(l, rname, team, loc, people, now, lobject)
		findings = append(findings, fs...)
		if r != nil {
			r.From = fmt.Sprintf("PagerDuty schedule %s (%s), layer %q", s.Name, s.ID, l.Name)
			rotations = append(rotations, *r)
		}
	}
	if len(rotations) <= 1 {
		return rotations, nil, findings
	}
	sched := &Schedule{Name: name, Team: team, Timezone: s.TimeZone, From: fmt.Sprintf("PagerDuty schedule %s (%s)", s.Name, s.ID)}
	for _, r := range rotations {
		sched.Layers = append(sched.Layers, r.Name)
	}
	return rotations, sched, findings
}

// pagerDutyLayer converts one layer. A turn of N whole days becomes
// shifts of d days (the largest divisor of N up to 7) with each member
// taking N/d in a row, which is the same rotation; the rotation is
// anchored at the last turn boundary before the layer began, its members
// turned to who was on then.
func pagerDutyLayer(l pagerduty.ScheduleLayer, name, team string, loc *time.Location, people map[string]string, now time.Time, object string) (*Rotation, []Finding) {
	var findings []Finding
	turn := time.Duration(l.RotationTurnLengthSeconds) * time.Second
	if turn <= 0 || turn%(24*time.Hour) != 0 {
		return nil, []Finding{{Object: object, Reason: fmt.Sprintf("turns of %s: rota's shifts are whole days, 1 to 7, turned at one local time", turn),
			Nearest: "two rotations with complementary active windows (for 12-hour turns), or a daily rotation"}}
	}
	vs, ok := parseTime(l.RotationVirtualStart)
	if !ok {
		return nil, []Finding{{Object: object, Reason: fmt.Sprintf("rotation_virtual_start %q is not a time", l.RotationVirtualStart)}}
	}
	vs = vs.In(loc)
	if vs.Second() != 0 || vs.Nanosecond() != 0 {
		findings = append(findings, Finding{Object: object, Reason: "hands over at " + vs.Format("15:04:05") + ": rota hands over on the minute", Nearest: "handoff " + vs.Format("15:04")})
	}
	var users []string
	for _, u := range l.Users {
		p, ok := people[u.User.ID]
		if !ok {
			findings = append(findings, Finding{Object: object, Reason: fmt.Sprintf("user %s (%s) was not imported: left out of the layer", u.User.Summary, u.User.ID),
				Nearest: "add them to [[people]] and to the rotation's members"})
			continue
		}
		users = append(users, p)
	}
	if len(users) == 0 {
		return nil, append(findings, Finding{Object: object, Reason: "nobody on it: left out"})
	}
	days := int(turn / (24 * time.Hour))
	d := 1
	for c := min(days, 7); c >= 1; c-- {
		if days%c == 0 {
			d = c
			break
		}
	}
	// Anchor at the last turn boundary at or before the layer's start
	// (whole turns of days, so wall-clock handoffs survive DST), the
	// members turned to whose turn it is then.
	anchor, turned := vs, 0
	if start, ok := parseTime(l.Start); ok && start.After(vs) {
		for k := 1; ; k++ {
			next := vs.AddDate(0, 0, k*days)
			if next.After(start) {
				break
			}
			anchor, turned = next, k
		}
		if start.After(now) {
			findings = append(findings, Finding{Object: object, Reason: "begins " + start.In(loc).Format(time.RFC3339) + ": rota has it on call from " + anchor.Format(time.RFC3339),
				Nearest: "add the rotation to the configuration when the layer begins"})
		}
	}
	if end, ok := parseTime(l.End); ok {
		findings = append(findings, Finding{Object: object, Reason: "ends " + end.In(loc).Format(time.RFC3339) + ": rota's rotations do not end",
			Nearest: "remove the rotation (or the schedule's layer) then"})
	}
	var members []string
	for i := range users {
		u := users[(i+turned)%len(users)]
		for range days / d {
			members = append(members, u)
		}
	}
	r := &Rotation{Name: name, Team: team, Timezone: loc.String(), Members: members, Start: anchor.Format("2006-01-02")}
	switch {
	case d == 7:
		r.Shift, r.Handoff = "1w", strings.ToLower(anchor.Weekday().String())+" "+anchor.Format("15:04")
	default:
		r.Shift, r.Handoff = fmt.Sprintf("%dd", d), anchor.Format("15:04")
	}
	active, fs := pagerDutyRestrictions(l.Restrictions, object)
	r.Active = active
	return r, append(findings, fs...)
}

// pagerDutyRestrictions turns a layer's restrictions into active windows:
// a daily restriction into "daily 08:00-20:00" (overnight when it ends the
// next day), a weekly one into one window for each day it spans.
func pagerDutyRestrictions(rs []pagerduty.Restriction, object string) ([]string, []Finding) {
	var out []string
	var findings []Finding
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	for _, r := range rs {
		start, err := time.Parse("15:04:05", r.StartTimeOfDay)
		if err != nil {
			findings = append(findings, Finding{Object: object, Reason: fmt.Sprintf("restriction start %q is not a time of day: left out", r.StartTimeOfDay)})
			continue
		}
		dur := time.Duration(r.DurationSeconds) * time.Second
		from := time.Duration(start.Hour())*time.Hour + time.Duration(start.Minute())*time.Minute
		clock := func(d time.Duration) string {
			return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
		}
		switch r.Type {
		case "daily_restriction":
			switch {
			case dur >= 24*time.Hour:
				continue // the whole day: no restriction
			case dur <= 0:
				findings = append(findings, Finding{Object: object, Reason: "a daily restriction of no time: left out"})
				continue
			}
			end := (from + dur) % (24 * time.Hour)
			out = append(out, "daily "+clock(from)+"-"+clock(end))
		case "weekly_restriction":
			if r.StartDayOfWeek < 1 || r.StartDayOfWeek > 7 || dur <= 0 {
				findings = append(findings, Finding{Object: object, Reason: fmt.Sprintf("weekly restriction from day %d for %s: left out", r.StartDayOfWeek, dur)})
				continue
			}
			if dur >= 7*24*time.Hour {
				continue
			}
			day := int(r.StartDayOfWeek) - 1
			switch end := from + dur; {
			case end == 24*time.Hour:
				out = append(out, days[day]+" "+clock(from)+"-24:00")
				continue
			case end < 24*time.Hour, dur < 24*time.Hour:
				// Within the day, or overnight into the next (a window
				// belongs to the day it starts on).
				out = append(out, days[day]+" "+clock(from)+"-"+clock(end%(24*time.Hour)))
				continue
			}
			// Several days: the first to midnight, whole days between,
			// the last from midnight. rota's windows keep the wall clock;
			// PagerDuty counts the restriction's seconds.
			full := []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
			endDay := (day + int((from+dur)/(24*time.Hour))) % 7
			findings = append(findings, Finding{Object: object,
				Reason: fmt.Sprintf("a restriction from %s %s for %d hours ends %s %s local time in rota; PagerDuty counts %d elapsed hours, so in a week the clocks change it ends an hour later or earlier (across a daylight-saving change rota keeps the wall clock)",
					full[day], clock(from), int(dur/time.Hour), full[endDay], clock((from+dur)%(24*time.Hour)), int(dur/time.Hour)),
				Nearest: "the windows written; rotad import --verify lists that hour"})
			out = append(out, days[day]+" "+clock(from)+"-24:00")
			left := dur - (24*time.Hour - from)
			for d := (day + 1) % 7; left > 0; d = (d + 1) % 7 {
				if left >= 24*time.Hour {
					out = append(out, days[d]+" 00:00-24:00")
					left -= 24 * time.Hour
					continue
				}
				out = append(out, days[d]+" 00:00-"+clock(left))
				left = 0
			}
		default:
			findings = append(findings, Finding{Object: object, Reason: fmt.Sprintf("restriction of type %q: left out", r.Type)})
		}
	}
	return out, findings
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// Slug makes a rota name of another system's: lower case letters, digits
// and dashes.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	return b.String()
}

// TOML writes the rotation as a [[rotations]] section.
func (r Rotation) TOML() string {
	var b strings.Builder
	if r.From != "" {
		fmt.Fprintf(&b, "# From %s.\n", r.From)
	}
	fmt.Fprintf(&b, "[[rotations]]\nname = %q\n", r.Name)
	if r.Team != "" {
		fmt.Fprintf(&b, "team = %q\n", r.Team)
	}
	fmt.Fprintf(&b, "members = %s\nshift = %q\nhandoff = %q\ntimezone = %q\nstart = %s\n", tomlList(r.Members), r.Shift, r.Handoff, r.Timezone, r.Start)
	if len(r.Active) > 0 {
		fmt.Fprintf(&b, "active = %s\n", tomlList(r.Active))
	}
	return b.String()
}

// TOML writes the schedule as a [[schedules]] section.
func (s Schedule) TOML() string {
	var b strings.Builder
	if s.From != "" {
		fmt.Fprintf(&b, "# From %s: its layers, lowest first.\n", s.From)
	}
	fmt.Fprintf(&b, "[[schedules]]\nname = %q\n", s.Name)
	if s.Team != "" {
		fmt.Fprintf(&b, "team = %q\n", s.Team)
	}
	fmt.Fprintf(&b, "timezone = %q\nlayers = %s\n", s.Timezone, tomlList(s.Layers))
	return b.String()
}

func tomlList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

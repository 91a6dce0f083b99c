package rota

import (
	"fmt"
	"strings"
	"time"
)

// MaxShiftDays is the longest shift a rotation may have: a week.
const MaxShiftDays = 7

// Rotation is an ordered list of members taking shifts of ShiftDays local
// calendar days each, handing over at a local weekday and time.
type Rotation struct {
	Name        string
	Team        string
	Description string
	Members     []string
	// ShiftDays is the shift length in local calendar days (1 to 7). A
	// seven-day shift across a daylight-saving change lasts 167 or 169 hours.
	ShiftDays int
	Handoff   Handoff
	Location  *time.Location
	// Start is the local date (midnight in Location) from which the rotation
	// runs: the first shift begins at the first handoff on or after it, with
	// Members[0].
	Start time.Time
	// ShadowOf names the rotation this one shadows: whoever is on call here
	// gets a copy of every page of that rotation, cannot acknowledge it,
	// and is not charged for it. Learners onboard this way.
	ShadowOf string
	// Reminder, when set, is how long before a shift its person is told.
	Reminder time.Duration
	// Announce names the chat channels told at each handoff who is on
	// call until when, and who is next.
	Announce []string
	// SlackUserGroup, when set, is a Slack user group (its id, "S0123")
	// whose members are kept equal to whoever is on call here.
	SlackUserGroup string
	// Active, when set, restricts the rotation to these local windows (in
	// Location): outside them it has nobody on call. "mon-fri
	// 08:00-20:00" is business hours; two rotations of complementary
	// windows in a schedule follow the sun.
	Active []Window
	// Layers, when set, make this a schedule: the named rotations
	// stacked, lowest first, a higher layer winning wherever it has
	// someone on call, the schedule's own overrides on top. A schedule
	// has no members, shifts or handoff of its own.
	Layers []string
}

// IsSchedule reports whether r is a schedule of layers.
func (r *Rotation) IsSchedule() bool { return len(r.Layers) > 0 }

// Handoff is a local weekday and time of day; AnyDay handoffs (a daily
// rotation's, "09:00") fall every ShiftDays from the rotation's start
// whatever the weekday.
type Handoff struct {
	Weekday time.Weekday
	Time    Clock
	AnyDay  bool
}

// DefaultHandoff is Tuesday 10:00.
var DefaultHandoff = Handoff{Weekday: time.Tuesday, Time: Clock(10 * 60)}

// ParseHandoff reads "tuesday 10:00" or "tue 10:00".
func ParseHandoff(s string) (Handoff, error) {
	fields := strings.Fields(s)
	if len(fields) == 1 {
		c, err := ParseClock(fields[0])
		if err != nil || c >= 24*60 {
			return Handoff{}, fmt.Errorf("invalid handoff %q (want a weekday and a time, as in \"tuesday 10:00\", or a time alone for a daily rotation)", s)
		}
		return Handoff{Time: c, AnyDay: true}, nil
	}
	if len(fields) != 2 {
		return Handoff{}, fmt.Errorf("invalid handoff %q (want a weekday and a time, as in \"tuesday 10:00\")", s)
	}
	wd, ok := ParseWeekday(fields[0])
	if !ok {
		return Handoff{}, fmt.Errorf("invalid handoff %q: %q is not a weekday", s, fields[0])
	}
	c, err := ParseClock(fields[1])
	if err != nil || c >= 24*60 {
		return Handoff{}, fmt.Errorf("invalid handoff %q: %q is not a time of day between 00:00 and 23:59", s, fields[1])
	}
	return Handoff{Weekday: wd, Time: c}, nil
}

func (h Handoff) String() string {
	if h.AnyDay {
		return h.Time.String()
	}
	return strings.ToLower(h.Weekday.String()) + " " + h.Time.String()
}

// HasMember reports whether name is one of the rotation's members.
func (r *Rotation) HasMember(name string) bool {
	for _, m := range r.Members {
		if m == name {
			return true
		}
	}
	return false
}

package policy

import (
	"math"
	"sort"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// Fairness is how evenly a team carried on-call over a period.
type Fairness struct {
	People []FairShare `json:"people"`
	// Balance is 1 minus the Gini coefficient of the members' burden: 1
	// when everyone carried the same, towards 0 when one carried all.
	Balance float64 `json:"balance_index"`
	// GapHours is how long the team's paging rotations had nobody on
	// call, by rotation (not counting a restricted rotation's hours off).
	GapHours map[string]float64 `json:"gap_hours"`
	// CoverNext ranks the members by burden, least first: who should
	// take the next override or cover.
	CoverNext []string `json:"cover_next"`
}

// FairShare is what one member carried.
type FairShare struct {
	Person string `json:"person"`
	// OnCallHours on the team's rotations; OffHoursHours those outside
	// the person's business hours; CoveringHours those taken for
	// someone else (an override in another's turn, cover for leave).
	OnCallHours   float64 `json:"oncall_hours"`
	OffHoursHours float64 `json:"offhours_oncall_hours"`
	CoveringHours float64 `json:"covering_hours"`
	Interruptions int     `json:"interruptions"`
	// Burden weighs it together: on-call hours, off-hours hours twice
	// more, and each interruption as four hours.
	Burden float64 `json:"burden"`
}

// FairnessOf measures a team's on-call over [from, to) from its
// rotations' final shifts (overrides and leave cover included) and its
// members' interruptions.
func FairnessOf(t *rota.Team, roster *scheduler.Roster, from, to time.Time, interruptions map[string][]rota.Page) Fairness {
	org := roster.Org()
	shares := map[string]*FairShare{}
	for _, m := range t.Members {
		shares[m] = &FairShare{Person: m, Interruptions: len(interruptions[m])}
	}
	f := Fairness{GapHours: map[string]float64{}}
	for _, g := range CoverageGaps(t, roster, from, to) {
		if len(roster.Shifts(g.Rotation, from, to)) > 0 { // a rotation nobody is ever on is not carried
			f.GapHours[g.Rotation] += g.End.Sub(g.Start).Hours()
		}
	}
	for _, rot := range carried(org, t) {
		for _, sh := range roster.Shifts(rot.Name, from, to) {
			start, end := later(sh.Start, from), earlier(sh.End, to)
			s := shares[sh.Person]
			if s == nil || !end.After(start) {
				continue // someone from outside the team covered: theirs
			}
			hours := end.Sub(start).Hours()
			s.OnCallHours += hours
			if sh.CoveringFor != "" || sh.IsOverride() && !scheduledFor(roster, rot, sh) {
				s.CoveringHours += hours
			}
			if p := org.Person(sh.Person); p != nil {
				s.OffHoursHours += offHoursIn(p, start, end)
			}
		}
	}
	var burdens []float64
	for _, m := range t.Members {
		s := shares[m]
		s.Burden = round1(s.OnCallHours + 2*s.OffHoursHours + 4*float64(s.Interruptions))
		s.OnCallHours, s.OffHoursHours, s.CoveringHours = round1(s.OnCallHours), round1(s.OffHoursHours), round1(s.CoveringHours)
		f.People = append(f.People, *s)
		burdens = append(burdens, s.Burden)
	}
	f.Balance = math.Round((1-gini(burdens))*100) / 100
	ranked := append([]FairShare(nil), f.People...)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].Burden < ranked[j].Burden })
	for _, s := range ranked {
		f.CoverNext = append(f.CoverNext, s.Person)
	}
	for k, v := range f.GapHours {
		f.GapHours[k] = round1(v)
	}
	return f
}

// carried are the team's rotations and schedules that page someone: those
// an escalation policy names. A schedule counts by its own shifts, not its
// layers'. With none named, every rotation of the team counts.
// Gap is a time a team's rotation has nobody on call.
type Gap struct {
	Rotation   string
	Start, End time.Time
}

// CoverageGaps lists the times in [from, to) when a rotation team t
// carries (one its policies page, or all its rotations when none is named)
// has nobody on call, overrides and leave cover included, oldest first per
// rotation. A rotation with active hours is off outside them by design and
// is not looked at.
func CoverageGaps(t *rota.Team, roster *scheduler.Roster, from, to time.Time) []Gap {
	var gaps []Gap
	for _, rot := range carried(roster.Org(), t) {
		if len(rot.Active) > 0 {
			continue
		}
		cursor := from
		for _, sh := range roster.Shifts(rot.Name, from, to) {
			start, end := later(sh.Start, from), earlier(sh.End, to)
			if start.After(cursor) {
				gaps = append(gaps, Gap{Rotation: rot.Name, Start: cursor, End: start})
			}
			if end.After(cursor) {
				cursor = end
			}
		}
		if cursor.Before(to) {
			gaps = append(gaps, Gap{Rotation: rot.Name, Start: cursor, End: to})
		}
	}
	return gaps
}

func carried(org *rota.Org, t *rota.Team) []*rota.Rotation {
	named := map[string]bool{}
	for _, p := range org.Policies {
		for _, st := range p.Steps {
			for _, tg := range st.Targets {
				if tg.Kind == rota.TargetRotation {
					named[tg.Name] = true
				}
			}
		}
	}
	var out, all []*rota.Rotation
	for _, rot := range org.Rotations {
		if rot.Team != t.Name || rot.ShadowOf != "" {
			continue
		}
		if named[rot.Name] {
			out = append(out, rot)
		}
		if !rot.IsSchedule() {
			all = append(all, rot)
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// scheduledFor reports whether an override's person had the turn anyway
// (an override that changes nothing covers for nobody).
func scheduledFor(roster *scheduler.Roster, rot *rota.Rotation, sh rota.Shift) bool {
	for _, m := range rot.Members {
		if m == sh.Person {
			// Who the bare schedule had: the rotation without overrides.
			bare := scheduler.NewTimeline(rot, nil)
			if b, ok := bare.At(sh.Start); ok {
				return b.Person == sh.Person
			}
		}
	}
	return false
}

// offHoursIn is how many hours of [start, end) fall outside p's business
// hours, to the quarter hour.
func offHoursIn(p *rota.Person, start, end time.Time) float64 {
	const step = 15 * time.Minute
	n := 0
	for t := start; t.Before(end); t = t.Add(step) {
		if OffHours(p, t) {
			n++
		}
	}
	return float64(n) * step.Hours()
}

// gini is the Gini coefficient of xs: 0 when all are equal.
func gini(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var sum, weighted float64
	for i, x := range s {
		sum += x
		weighted += float64(i+1) * x
	}
	if sum == 0 {
		return 0
	}
	n := float64(len(s))
	return (2*weighted)/(n*sum) - (n+1)/n
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

package policy

import (
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// Budgets.
const (
	BudgetWeekly   = "weekly"
	BudgetOffHours = "offhours"
	// BudgetTeamWarning is a team's warning at 80% of its weekly pages.
	BudgetTeamWarning = "team-weekly-80"
)

// WeekStart returns the start of the ISO week (Monday 00:00) holding t in
// loc, in UTC.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	back := (int(l.Weekday()) + 6) % 7 // days since Monday
	return time.Date(l.Year(), l.Month(), l.Day()-back, 0, 0, 0, 0, loc).UTC()
}

// NextWeek returns the start of the ISO week after the one starting at
// week, in loc: seven calendar days on, at local midnight, however long
// those days were (168 hours, or one more or less across a daylight-saving
// change).
func NextWeek(week time.Time, loc *time.Location) time.Time {
	l := week.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+7, 0, 0, 0, 0, loc).UTC()
}

// OffHours reports whether t is outside p's business hours, in p's zone.
func OffHours(p *rota.Person, t time.Time) bool {
	return !p.Hours.Contains(t, p.Location)
}

// SleepHours reports whether t falls between 22:00 and 08:00 in p's zone.
func SleepHours(p *rota.Person, t time.Time) bool {
	h := t.In(p.Location).Hour()
	return h >= 22 || h < 8
}

// BudgetState is a person's budgets at an instant.
type BudgetState struct {
	Person string
	// The ISO week holding now, in the person's zone.
	WeekStart time.Time
	// WeekPages counts interruptions this week.
	WeekPages  int
	WeekBudget int
	// OffHours counts off-hours incidents in the rolling window ending
	// now; SleepHours those that reached them between 22:00 and 08:00.
	OffHours     int
	OffBudget    int
	OffWindow    time.Duration
	SleepHours   int
	WeekBurned   bool
	OffHoursBurn bool
}

// Account returns p's budget state at now from their interruptions and
// the incidents that reached them (any order).
func Account(p *rota.Person, slo rota.HumanSLO, interruptions, pages []rota.Page, now time.Time) BudgetState {
	st := BudgetState{Person: p.Name, WeekStart: WeekStart(now, p.Location), WeekBudget: slo.PagesPerWeek,
		OffBudget: slo.OffhoursIncidents, OffWindow: slo.OffhoursWindow}
	weekEnd := NextWeek(st.WeekStart, p.Location)
	for _, pg := range interruptions {
		if pg.Person == p.Name && !pg.At.After(now) && !pg.At.Before(st.WeekStart) && pg.At.Before(weekEnd) {
			st.WeekPages++
		}
	}
	for _, pg := range pages {
		if pg.Person == p.Name && pg.OffHours && !pg.At.After(now) && pg.At.After(now.Add(-slo.OffhoursWindow)) {
			st.OffHours++
			if SleepHours(p, pg.At) {
				st.SleepHours++
			}
		}
	}
	st.WeekBurned = st.WeekPages > st.WeekBudget
	st.OffHoursBurn = st.OffHours > st.OffBudget
	return st
}

// Burn is a budget a page took a person over.
type Burn struct {
	Person string
	Team   string
	Budget string // BudgetWeekly or BudgetOffHours
	// Window is the budget window the burn belongs to: the ISO week's
	// start for the weekly budget; for the off-hours budget, the start of
	// the rolling window the burning incident closed.
	Window time.Time
	At     time.Time
	Limit  int
	// Pages are what burned it, oldest first: the week's interruptions,
	// or the window's off-hours incidents.
	Pages []rota.Page
}

// BudgetWindows returns where accounting an item at at reads from: the
// start of its ISO week in p's zone, and the start of the rolling
// off-hours window ending at it (exclusive).
func BudgetWindows(p *rota.Person, slo rota.HumanSLO, at time.Time) (week, offHours time.Time) {
	return WeekStart(at, p.Location), at.Add(-slo.OffhoursWindow)
}

// Burns returns the budgets p is over with an accounted item, given their
// interruptions of its week up to it and their off-hours incidents in the
// rolling window ending at it (as BudgetWindows bounds them): the weekly
// budget when the item's interruption is past pages_per_week, the
// off-hours budget when its off-hours incident is past
// offhours_incidents. Exactly at the budget is not a burn. A burn is
// recorded (and told) once per window: the first item past the budget
// records it, later ones find it recorded; an item past it with none
// recorded (a budget lowered by a reload, a withdrawn page) still does.
func Burns(p *rota.Person, team string, slo rota.HumanSLO, item rota.AccountItem, week, offHours []rota.Page) []Burn {
	var out []Burn
	ws, from := BudgetWindows(p, slo, item.At)
	if item.Interruption && len(week) > slo.PagesPerWeek {
		out = append(out, Burn{Person: p.Name, Team: team, Budget: BudgetWeekly, Window: ws, At: item.At, Limit: slo.PagesPerWeek, Pages: week})
	}
	if item.OffHours && len(offHours) > slo.OffhoursIncidents {
		out = append(out, Burn{Person: p.Name, Team: team, Budget: BudgetOffHours, Window: from, At: item.At, Limit: slo.OffhoursIncidents, Pages: offHours})
	}
	return out
}

// NextBusinessStart returns the first instant at or after t inside p's
// business hours: t itself if it is in them.
func NextBusinessStart(p *rota.Person, t time.Time) time.Time {
	if !OffHours(p, t) {
		return t
	}
	l := t.In(p.Location)
	for d := 0; d < 31; d++ {
		day := time.Date(l.Year(), l.Month(), l.Day()+d, 0, 0, 0, 0, p.Location)
		start := scheduler.Wallclock(day.Year(), day.Month(), day.Day(), p.Hours.Start.Hour(), p.Hours.Start.Minute(), p.Location)
		if start.After(t) && !OffHours(p, start) {
			return start
		}
	}
	// No business day in a month (every day a holiday): do not wait.
	return t
}

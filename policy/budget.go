package policy

import (
	"sort"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// Budgets.
const (
	BudgetWeekly   = "weekly"
	BudgetOffHours = "offhours"
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

// Counted reports whether a page counts against the budget: a bundled
// duplicate does not (the bundle's first alert counted the interruption).
func Counted(pg rota.Page) bool { return !pg.Bundled }

// BudgetState is a person's budgets at an instant.
type BudgetState struct {
	Person string
	// The ISO week holding now, in the person's zone.
	WeekStart    time.Time
	WeekPages    int
	WeekBudget   int
	OffHours     int // off-hours pages in the rolling window ending now
	OffBudget    int
	OffWindow    time.Duration
	SleepHours   int // of those, between 22:00 and 08:00
	WeekBurned   bool
	OffHoursBurn bool
}

// Account returns p's budget state at now from their pages (any order).
func Account(p *rota.Person, slo rota.HumanSLO, pages []rota.Page, now time.Time) BudgetState {
	st := BudgetState{Person: p.Name, WeekStart: WeekStart(now, p.Location), WeekBudget: slo.PagesPerWeek,
		OffBudget: slo.OffhoursIncidents, OffWindow: slo.OffhoursWindow}
	weekEnd := NextWeek(st.WeekStart, p.Location)
	for _, pg := range pages {
		if !Counted(pg) || pg.Person != p.Name || pg.At.After(now) {
			continue
		}
		if !pg.At.Before(st.WeekStart) && pg.At.Before(weekEnd) {
			st.WeekPages++
		}
		if pg.At.After(now.Add(-slo.OffhoursWindow)) && OffHours(p, pg.At) {
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
	// the rolling window the burning page closed.
	Window time.Time
	At     time.Time
	Limit  int
	// Pages are the counted pages in the window, oldest first: those
	// that burned it.
	Pages []rota.Page
}

// Burns returns the budgets page takes p over, given p's other pages: the
// weekly budget when it is one past pages_per_week in its ISO week, the
// off-hours budget when an off-hours page is one past offhours_incidents
// in the rolling window ending at it. Exactly at the budget is not a burn.
func Burns(p *rota.Person, team string, slo rota.HumanSLO, pages []rota.Page, page rota.Page) []Burn {
	if !Counted(page) {
		return nil
	}
	all := append([]rota.Page(nil), pages...)
	seen := false
	for _, pg := range all {
		if pg.IncidentID == page.IncidentID && pg.Person == page.Person {
			seen = true
		}
	}
	if !seen {
		all = append(all, page)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].At.Before(all[j].At) })
	var out []Burn
	ws := WeekStart(page.At, p.Location)
	var week []rota.Page
	for _, pg := range all {
		if Counted(pg) && !pg.At.Before(ws) && !pg.At.After(page.At) {
			week = append(week, pg)
		}
	}
	if len(week) == slo.PagesPerWeek+1 {
		out = append(out, Burn{Person: p.Name, Team: team, Budget: BudgetWeekly, Window: ws, At: page.At, Limit: slo.PagesPerWeek, Pages: week})
	}
	if OffHours(p, page.At) {
		from := page.At.Add(-slo.OffhoursWindow)
		var off []rota.Page
		for _, pg := range all {
			if Counted(pg) && pg.At.After(from) && !pg.At.After(page.At) && OffHours(p, pg.At) {
				off = append(off, pg)
			}
		}
		if len(off) == slo.OffhoursIncidents+1 {
			out = append(out, Burn{Person: p.Name, Team: team, Budget: BudgetOffHours, Window: from, At: page.At, Limit: slo.OffhoursIncidents, Pages: off})
		}
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

package scheduler

import (
	"time"

	"github.com/rotahq/rota"
)

// cycle computes a rotation's scheduled handoffs: handoff k falls on the
// local date anchor + k*days at the handoff's wall-clock time, and shift k
// (from handoff k to handoff k+1) belongs to member k mod len(members).
type cycle struct {
	members []string
	// away reports whether a member is on leave at any time in [start,
	// end); nil when nobody has leave.
	away   func(person string, start, end time.Time) bool
	days   int
	anchor time.Time // local midnight of the first handoff's date, as a UTC date
	clock  rota.Clock
	loc    *time.Location
	first  time.Time // handoff 0
	approx time.Duration
	// active restricts shifts to these local windows; none: always.
	active []rota.Window
}

func newCycle(r *rota.Rotation) cycle {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	start := r.Start.In(loc)
	d := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	for !r.Handoff.AnyDay && d.Weekday() != r.Handoff.Weekday {
		d = d.AddDate(0, 0, 1)
	}
	days := r.ShiftDays
	if days < 1 {
		days = 1
	}
	c := cycle{members: r.Members, days: days, anchor: d, clock: r.Handoff.Time, loc: loc, approx: time.Duration(days) * rota.Day, active: r.Active}
	c.first = c.handoff(0)
	return c
}

// handoff returns the instant of handoff k.
func (c *cycle) handoff(k int64) time.Time {
	d := c.anchor.AddDate(0, 0, int(k)*c.days)
	return Wallclock(d.Year(), d.Month(), d.Day(), c.clock.Hour(), c.clock.Minute(), c.loc).UTC()
}

// index returns the shift k whose window [start, end) holds t; ok is false
// before the first handoff.
func (c *cycle) index(t time.Time) (k int64, start, end time.Time, ok bool) {
	if t.Before(c.first) || len(c.members) == 0 {
		return 0, time.Time{}, time.Time{}, false
	}
	// Wall-clock days differ from 24 hours by at most an hour or two, so
	// the estimate is off by at most one shift.
	k = int64(t.Sub(c.first) / c.approx)
	start = c.handoff(k)
	for k > 0 && start.After(t) {
		k--
		end, start = start, c.handoff(k)
	}
	if end.IsZero() {
		end = c.handoff(k + 1)
	}
	for !end.After(t) {
		k++
		start, end = end, c.handoff(k+1)
	}
	return k, start, end, true
}

func (c *cycle) member(k int64) string { return c.members[k%int64(len(c.members))] }

// assign returns who takes shift k, [start, end): its member, or when they
// are on leave the next member in rotation order who is not, covering for
// them; nobody ("") when every member is away.
func (c *cycle) assign(k int64, start, end time.Time) (person, coveringFor string) {
	m := c.member(k)
	if c.away == nil || !c.away(m, start, end) {
		return m, ""
	}
	for i := int64(1); i < int64(len(c.members)); i++ {
		if n := c.member(k + i); n != m && !c.away(n, start, end) {
			return n, m
		}
	}
	return "", m
}

// base is one scheduled shift before overrides; on a schedule, the shift
// of the layer that has it.
type base struct {
	person      string
	coveringFor string
	start, end  time.Time
	layer       string
}

// shifts returns the scheduled shifts overlapping [from, to): with
// active windows, only their active pieces (a shift of a business-hours
// rotation is a piece a day).
func (c *cycle) shifts(from, to time.Time) []base {
	if !to.After(c.first) || len(c.members) == 0 {
		return nil
	}
	if from.Before(c.first) {
		from = c.first
	}
	k, start, _, _ := c.index(from)
	var out []base
	var spans []span
	if len(c.active) > 0 {
		spans = activeSpans(c.active, c.loc, from, to)
	}
	for start.Before(to) {
		end := c.handoff(k + 1)
		p, cov := c.assign(k, start, end)
		if len(c.active) == 0 {
			out = append(out, base{person: p, coveringFor: cov, start: start, end: end})
		} else {
			for _, s := range spans {
				if s.end.After(start) && s.start.Before(end) && s.end.After(from) && s.start.Before(to) {
					out = append(out, base{person: p, coveringFor: cov, start: later(s.start, start), end: earlier(s.end, end)})
				}
			}
		}
		start = end
		k++
	}
	return out
}

// at returns the scheduled shift holding t: with active windows, the
// piece of it in the window holding t; ok is false outside them.
func (c *cycle) at(t time.Time) (base, bool) {
	k, start, end, ok := c.index(t)
	if !ok {
		return base{}, false
	}
	if len(c.active) > 0 {
		s, ok := activeAt(c.active, c.loc, t, start, end)
		if !ok {
			return base{}, false
		}
		p, cov := c.assign(k, start, end)
		return base{person: p, coveringFor: cov, start: later(s.start, start), end: earlier(s.end, end)}, true
	}
	p, cov := c.assign(k, start, end)
	return base{person: p, coveringFor: cov, start: start, end: end}, true
}

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

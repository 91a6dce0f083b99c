package scheduler

import (
	"time"

	"github.com/rotahq/rota"
)

// span is an interval of time, [start, end).
type span struct{ start, end time.Time }

// windowsOn returns the instances of windows starting on the local date
// d (a UTC midnight standing for the date), in loc.
func windowsOn(ws []rota.Window, d time.Time, loc *time.Location, out []span) []span {
	for _, w := range ws {
		if !w.Days[d.Weekday()] {
			continue
		}
		start := Wallclock(d.Year(), d.Month(), d.Day(), w.Start.Hour(), w.Start.Minute(), loc)
		e := d
		if w.Overnight() || w.End == 24*60 {
			e = d.AddDate(0, 0, 1)
		}
		end := Wallclock(e.Year(), e.Month(), e.Day(), w.End.Hour()%24, w.End.Minute(), loc)
		if end.After(start) {
			out = append(out, span{start.UTC(), end.UTC()})
		}
	}
	return out
}

// localDate is t's date in loc, as a UTC midnight.
func localDate(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// activeSpans returns the restriction's active spans overlapping
// [from, to), overlapping and touching instances merged, in order; the
// first and last are whole (they may begin before from and end after
// to) as far as a day beyond the range.
func activeSpans(ws []rota.Window, loc *time.Location, from, to time.Time) []span {
	var all []span
	for d, last := localDate(from, loc).AddDate(0, 0, -1), localDate(to, loc).AddDate(0, 0, 1); !d.After(last); d = d.AddDate(0, 0, 1) {
		all = windowsOn(ws, d, loc, all)
	}
	sortSpans(all)
	var out []span
	for _, s := range all {
		if n := len(out); n > 0 && !s.start.After(out[n-1].end) {
			if s.end.After(out[n-1].end) {
				out[n-1].end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	k := 0
	for _, s := range out {
		if s.end.After(from) && s.start.Before(to) {
			out[k] = s
			k++
		}
	}
	return out[:k]
}

// activeAt returns the active span holding t, merged with those it
// touches, as far as lo and hi (what the caller will cut it to); ok is
// false when t is outside every window.
func activeAt(ws []rota.Window, loc *time.Location, t, lo, hi time.Time) (span, bool) {
	// Most spans are found among the instances of t's date and the day
	// before (an overnight window); the rest of the merge is needed
	// only when a span reaches a day's edge.
	spans := activeSpans(ws, loc, t, t.Add(1))
	if len(spans) == 0 || spans[0].start.After(t) {
		return span{}, false
	}
	s := spans[0]
	for s.end.Before(hi) {
		next := activeSpans(ws, loc, s.end, s.end.Add(1))
		if len(next) == 0 || next[0].start.After(s.end) || !next[0].end.After(s.end) {
			break
		}
		s.end = next[0].end
	}
	for s.start.After(lo) {
		prev := activeSpans(ws, loc, s.start.Add(-1), s.start)
		if len(prev) == 0 || !prev[0].start.Before(s.start) || prev[0].end.Before(s.start) {
			break
		}
		s.start = prev[0].start
	}
	return s, true
}

func sortSpans(s []span) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start.Before(s[j-1].start); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// WindowAt returns the span of windows (in loc) holding t, with those it
// touches merged, looking no further than a week either side; ok is
// false when t is outside every window.
func WindowAt(ws []rota.Window, loc *time.Location, t time.Time) (start, end time.Time, ok bool) {
	if len(ws) == 0 {
		return time.Time{}, time.Time{}, false
	}
	s, ok := activeAt(ws, loc, t, t.Add(-rota.Week), t.Add(rota.Week))
	return s.start, s.end, ok
}

package scheduler

import "time"

// Wallclock returns the instant at which the local wall clock in loc reads
// the given date and time.
//
// Go's time.Date leaves the answer unspecified for times that do not exist
// or exist twice, so this resolves them explicitly: a time skipped by a
// spring-forward change resolves to the first valid instant after it (the
// moment the clocks jump), and a time repeated by a fall-back change resolves
// to its first occurrence.
func Wallclock(year int, month time.Month, day, hour, min int, loc *time.Location) time.Time {
	guess := time.Date(year, month, day, hour, min, 0, 0, loc)
	// Far from any change of offset (by more than the largest change
	// there is, two hours), the wall-clock time is unique and Go's answer
	// is right: the common case, and one lookup.
	start, end := guess.ZoneBounds()
	if (start.IsZero() || guess.Sub(start) > 3*time.Hour) && (end.IsZero() || end.Sub(guess) > 3*time.Hour) {
		return guess
	}
	naive := time.Date(year, month, day, hour, min, 0, 0, time.UTC).Unix()

	// The candidates are the offsets of the zone period Go picked and of
	// its neighbours; a wall-clock time maps to an instant under offset o
	// only if o is in effect at that instant.
	var offsets [3]int
	_, offsets[0] = guess.Zone()
	n := 1
	if !start.IsZero() {
		_, offsets[n] = start.Add(-time.Second).Zone()
		n++
	}
	if !end.IsZero() {
		_, offsets[n] = end.Zone()
		n++
	}

	var best, latest time.Time
	for _, off := range offsets[:n] {
		c := time.Unix(naive-int64(off), 0).In(loc)
		if latest.IsZero() || c.After(latest) {
			latest = c
		}
		if _, o := c.Zone(); o == off && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if !best.IsZero() {
		return best
	}
	// The time was skipped. Read under the earlier offset it lands after
	// the jump, in the period that starts at the jump: that start is the
	// first valid instant after the skipped time.
	s, _ := latest.ZoneBounds()
	return s
}

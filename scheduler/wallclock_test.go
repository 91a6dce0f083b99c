package scheduler

import (
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

var dstZones = []string{"America/New_York", "Europe/Berlin", "Australia/Sydney"}

// naiveMinutes reads the local wall clock at t as minutes since the epoch,
// as if the local time were UTC: comparable with a requested wall time.
func naiveMinutes(t time.Time, loc *time.Location) int64 {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC).Unix() / 60
}

// referenceWallclock finds, minute by minute, the first instant whose wall
// clock reads the target or later: the first occurrence of a repeated time,
// and the moment of the jump for a skipped one.
func referenceWallclock(y int, m time.Month, d, hh, mm int, loc *time.Location) time.Time {
	target := time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
	want := target.Unix() / 60
	for t := target.Add(-16 * time.Hour); ; t = t.Add(time.Minute) {
		if naiveMinutes(t, loc) >= want {
			return t
		}
	}
}

func TestWallclockBruteForce(t *testing.T) {
	for _, zone := range dstZones {
		loc := mustLoad(t, zone)
		skipped, repeated := 0, 0
		for day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() == 2026; day = day.AddDate(0, 0, 1) {
			for min := 0; min < 24*60; min += 30 {
				hh, mm := min/60, min%60
				got := Wallclock(day.Year(), day.Month(), day.Day(), hh, mm, loc)
				want := referenceWallclock(day.Year(), day.Month(), day.Day(), hh, mm, loc)
				if !got.Equal(want) {
					t.Fatalf("%s %s %02d:%02d: got %s, want %s", zone, day.Format("2006-01-02"), hh, mm, got.In(loc), want.In(loc))
				}
				l := got.In(loc)
				if l.Hour() != hh || l.Minute() != mm {
					skipped++
				} else if l2 := got.Add(time.Hour).In(loc); l2.Hour() == hh && l2.Minute() == mm {
					repeated++
				}
			}
		}
		// One hour is skipped and one repeated each year: two half-hour
		// slots each.
		if skipped != 2 || repeated != 2 {
			t.Errorf("%s: %d skipped and %d repeated slots, want 2 and 2", zone, skipped, repeated)
		}
	}
}

func TestWallclockKnownTransitions(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	berlin := mustLoad(t, "Europe/Berlin")
	tests := []struct {
		name string
		loc  *time.Location
		in   [5]int
		want string // RFC 3339 in UTC
	}{
		{"ny skipped 02:30 goes to the jump", ny, [5]int{2026, 3, 8, 2, 30}, "2026-03-08T07:00:00Z"},
		{"ny repeated 01:30 is the first, EDT", ny, [5]int{2026, 11, 1, 1, 30}, "2026-11-01T05:30:00Z"},
		{"ny ordinary", ny, [5]int{2026, 6, 2, 10, 0}, "2026-06-02T14:00:00Z"},
		{"berlin skipped 02:00 goes to 03:00 CEST", berlin, [5]int{2026, 3, 29, 2, 0}, "2026-03-29T01:00:00Z"},
		{"berlin repeated 02:30 is the first, CEST", berlin, [5]int{2026, 10, 25, 2, 30}, "2026-10-25T00:30:00Z"},
		{"utc", time.UTC, [5]int{2026, 3, 8, 2, 30}, "2026-03-08T02:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Wallclock(tt.in[0], time.Month(tt.in[1]), tt.in[2], tt.in[3], tt.in[4], tt.loc)
			if s := got.UTC().Format(time.RFC3339); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}

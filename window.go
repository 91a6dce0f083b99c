package rota

import (
	"fmt"
	"strings"
	"time"
)

// Window is a recurring span of local time: on each of Days, from Start
// to End. An End at or before Start runs past midnight into the next
// day ("mon-fri 20:00-08:00" is five nights, the last ending Saturday
// 08:00); "24:00" is midnight at the day's end.
type Window struct {
	Days  [7]bool // by time.Weekday: the days a window starts on
	Start Clock
	End   Clock
}

// ParseWindow reads "mon-fri 08:00-20:00": days (a day, a range, or
// several joined by commas, as "sat,sun"; "daily" for every day) and a
// local time range.
func ParseWindow(s string) (Window, error) {
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return Window{}, fmt.Errorf("%q is not a window: want days and hours, as in \"mon-fri 08:00-20:00\"", s)
	}
	var w Window
	if strings.EqualFold(fields[0], "daily") {
		for d := range w.Days {
			w.Days[d] = true
		}
	} else {
		for _, part := range strings.Split(fields[0], ",") {
			if err := addWeekdays(&w.Days, part); err != nil {
				return Window{}, fmt.Errorf("window %q: %v", s, err)
			}
		}
	}
	from, to, ok := strings.Cut(fields[1], "-")
	if !ok {
		return Window{}, fmt.Errorf("window %q: %q is not a time range, as in \"08:00-20:00\"", s, fields[1])
	}
	var err error
	if w.Start, err = ParseClock(from); err != nil || w.Start >= 24*60 {
		return Window{}, fmt.Errorf("window %q: %q is not a start time between 00:00 and 23:59", s, from)
	}
	if w.End, err = ParseClock(to); err != nil {
		return Window{}, fmt.Errorf("window %q: %q is not an end time between 00:00 and 24:00", s, to)
	}
	if w.End == w.Start {
		return Window{}, fmt.Errorf("window %q is empty: its start and end are the same time (a whole day is 00:00-24:00)", s)
	}
	return w, nil
}

// addWeekdays sets a day or a range such as "mon-fri" (which may wrap,
// as "fri-mon").
func addWeekdays(days *[7]bool, s string) error {
	from, to, isRange := strings.Cut(s, "-")
	a, ok := ParseWeekday(from)
	if !ok {
		return fmt.Errorf("%q is not a weekday or a range such as \"mon-fri\"", s)
	}
	b := a
	if isRange {
		if b, ok = ParseWeekday(to); !ok {
			return fmt.Errorf("%q is not a weekday or a range such as \"mon-fri\"", s)
		}
	}
	for d := a; ; d = (d + 1) % 7 {
		days[d] = true
		if d == b {
			return nil
		}
	}
}

// String writes the window as ParseWindow reads it, days as ranges from
// Monday: "mon-fri 08:00-20:00", "sat,sun 00:00-24:00", "daily 20:00-08:00".
func (w Window) String() string {
	name := func(d int) string { return strings.ToLower(time.Weekday(d % 7).String()[:3]) }
	var parts []string
	all := true
	for d := 1; d <= 7; d++ {
		if !w.Days[d%7] {
			all = false
			continue
		}
		if d > 1 && w.Days[(d-1)%7] {
			continue // within a run
		}
		e := d
		for e+1 <= 7 && w.Days[(e+1)%7] {
			e++
		}
		switch {
		case e == d:
			parts = append(parts, name(d))
		case e == d+1:
			parts = append(parts, name(d), name(e))
		default:
			parts = append(parts, name(d)+"-"+name(e))
		}
	}
	days := strings.Join(parts, ",")
	if all {
		days = "daily"
	}
	return days + " " + w.Start.String() + "-" + w.End.String()
}

// Overnight reports whether the window runs past midnight.
func (w Window) Overnight() bool { return w.End <= w.Start }

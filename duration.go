package rota

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day and Week are the calendar-free lengths used by durations such as
// "182d" in configuration. Rotations never use them: a rotation's shift is a
// number of local calendar days, which may be 23 or 25 hours long.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// ParseDuration parses a duration as Go does ("1h30m", "90s"), and also
// accepts days and weeks: "1w", "182d", "2d12h".
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := in
	// Peel off leading week and day components, then hand the rest to Go.
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || (rest[i] != 'd' && rest[i] != 'w') {
			break
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		unit := Day
		if rest[i] == 'w' {
			unit = Week
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (use a number and a unit: s, m, h, d or w, as in \"5m\" or \"1w\")", s)
		}
		total += d
	}
	if total < 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", s)
	}
	return total, nil
}

// FormatDuration writes d in whole units ParseDuration reads back: weeks up
// to eight ("1w"), then days ("182d"), else Go's form trimmed ("1h30m").
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d%Week == 0 && d <= 8*Week {
		return strconv.FormatInt(int64(d/Week), 10) + "w"
	}
	if d%Day == 0 {
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	}
	// Go writes "2h0m0s" and "1h30m0s"; drop the zero trailing units.
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

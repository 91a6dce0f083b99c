package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

// refDaily is who a daily rotation handing off at local hh:00 has on
// call at t, computed with date arithmetic alone (not the cycle).
func refDaily(t time.Time, loc *time.Location, start time.Time, hh int, members []string) string {
	l := t.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	if l.Hour() < hh {
		day = day.AddDate(0, 0, -1)
	}
	k := int(day.Sub(start).Hours()+0.5) / 24
	return members[k%len(members)]
}

// refWeekly is who a weekly rotation handing off on wd at local hh:00
// has on call at t.
func refWeekly(t time.Time, loc *time.Location, first time.Time, wd time.Weekday, hh int, members []string) string {
	l := t.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	back := (int(l.Weekday()) - int(wd) + 7) % 7
	if back == 0 && l.Hour() < hh {
		back = 7
	}
	day = day.AddDate(0, 0, -back)
	k := int(day.Sub(first).Hours()+0.5) / (24 * 7)
	return members[k%len(members)]
}

// inHours reports whether t is, in loc, on one of days (all when nil)
// within [from, to) hours.
func inHours(t time.Time, loc *time.Location, days []time.Weekday, from, to int) bool {
	l := t.In(loc)
	if days != nil {
		ok := false
		for _, d := range days {
			ok = ok || l.Weekday() == d
		}
		if !ok {
			return false
		}
	}
	h := l.Hour()
	if from < to {
		return h >= from && h < to
	}
	return h >= from || h < to
}

func window(t *testing.T, s string) rota.Window {
	t.Helper()
	w, err := rota.ParseWindow(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestFollowTheSunYear: over a whole year in Berlin, New York and
// Sydney, each follow-the-sun schedule has exactly one person on call at
// every instant (no gap, no overlap) and that person is the reference's,
// minute by minute on every day a zone changes its clocks (and the days
// around), every 7 minutes on the others.
func TestFollowTheSunYear(t *testing.T) {
	berlin, ny, sydney := mustLoad(t, "Europe/Berlin"), mustLoad(t, "America/New_York"), mustLoad(t, "Australia/Sydney")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	eu := []string{"emma", "erik", "elin"}
	us := []string{"uma", "ulf"}
	au := []string{"ava", "ari", "abe", "amy"}
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	firstTue := time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)

	rot := func(name string, members []string, loc *time.Location, h rota.Handoff, days int, active ...rota.Window) *rota.Rotation {
		return &rota.Rotation{Name: name, Team: "t", Members: members, ShiftDays: days, Handoff: h, Location: loc,
			Start: time.Date(2026, 1, 1, 0, 0, 0, 0, loc), Active: active}
	}
	daily8 := rota.Handoff{Time: 8 * 60, AnyDay: true}
	tue9 := rota.Handoff{Weekday: time.Tuesday, Time: 9 * 60}
	for _, tt := range []struct {
		name   string
		layers []*rota.Rotation
		ref    func(time.Time) string
	}{
		{
			name: "EU 08-20 Berlin over US all day",
			layers: []*rota.Rotation{
				rot("us", us, ny, tue9, 7),
				rot("eu", eu, berlin, daily8, 1, window(t, "daily 08:00-20:00")),
			},
			ref: func(at time.Time) string {
				if inHours(at, berlin, nil, 8, 20) {
					return refDaily(at, berlin, start, 8, eu)
				}
				return refWeekly(at, ny, firstTue, time.Tuesday, 9, us)
			},
		},
		{
			name: "EU 08-20 and US 20-08, both in Berlin's hours",
			layers: []*rota.Rotation{
				rot("us", us, berlin, daily8, 1, window(t, "daily 20:00-08:00")),
				rot("eu", eu, berlin, daily8, 1, window(t, "daily 08:00-20:00")),
			},
			ref: func(at time.Time) string {
				if inHours(at, berlin, nil, 8, 20) {
					return refDaily(at, berlin, start, 8, eu)
				}
				return refDaily(at, berlin, start, 8, us)
			},
		},
		{
			name: "Sydney 08-16 over Berlin weekdays 08-16 over New York",
			layers: []*rota.Rotation{
				rot("us", us, ny, tue9, 7),
				rot("eu", eu, berlin, daily8, 1, window(t, "mon-fri 08:00-16:00")),
				rot("au", au, sydney, daily8, 1, window(t, "daily 08:00-16:00")),
			},
			ref: func(at time.Time) string {
				switch {
				case inHours(at, sydney, nil, 8, 16):
					return refDaily(at, sydney, start, 8, au)
				case inHours(at, berlin, weekdays, 8, 16):
					return refDaily(at, berlin, start, 8, eu)
				}
				return refWeekly(at, ny, firstTue, time.Tuesday, 9, us)
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			for _, l := range tt.layers {
				names = append(names, l.Name)
			}
			sched := &rota.Rotation{Name: "follow-the-sun", Team: "t", Layers: names, Location: berlin}
			org := rota.NewOrg(nil, nil, append(append([]*rota.Rotation{}, tt.layers...), sched), nil, nil)
			roster := NewRoster(org, nil)
			// From when every layer has begun (the weekly one's first
			// handoff is Tuesday 6 January), for a year.
			from := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
			to := from.AddDate(1, 0, 0)

			// Shifts: contiguous over the year, each the reference's.
			shifts := roster.Shifts("follow-the-sun", from, to)
			if len(shifts) == 0 || shifts[0].Start.After(from) || shifts[len(shifts)-1].End.Before(to) {
				t.Fatalf("shifts do not cover the year: %d", len(shifts))
			}
			for i, s := range shifts {
				if i > 0 && !s.Start.Equal(shifts[i-1].End) {
					t.Fatalf("gap or overlap between %v and %v", shifts[i-1], s)
				}
				if !s.End.After(s.Start) || s.Duration() > 7*rota.Day+time.Hour {
					t.Fatalf("shift %v", s)
				}
				for _, at := range []time.Time{s.Start, s.End.Add(-time.Minute)} {
					if at.Before(from) || !at.Before(to) {
						continue
					}
					if want := tt.ref(at); s.Person != want {
						t.Fatalf("shift %s %s-%s (%s): reference says %s at %s", s.Person, s.Start.In(berlin), s.End.In(berlin), s.Layer, want, at.In(berlin))
					}
				}
			}
			// At, minute by minute around clock changes, every 7 minutes
			// elsewhere.
			dst := map[string]bool{}
			for _, loc := range []*time.Location{berlin, ny, sydney} {
				for d := from; d.Before(to); d = d.Add(time.Hour) {
					_, off := d.Zone()
					_, off2 := d.In(loc).Add(time.Hour).Zone()
					_, off1 := d.In(loc).Zone()
					_ = off
					if off1 != off2 {
						for k := -1; k <= 1; k++ {
							dst[d.AddDate(0, 0, k).Format("2006-01-02")] = true
						}
					}
				}
			}
			if len(dst) < 18 {
				t.Fatalf("found %d days around clock changes, want 18 (six changes)", len(dst))
			}
			checked, i := 0, 0
			for at := from; at.Before(to); {
				sh, ok := roster.OnCall("follow-the-sun", at)
				want := tt.ref(at)
				if !ok || sh.Person != want || !sh.Contains(at) {
					t.Fatalf("%s (Berlin %s): on call %v %v, reference %s", at, at.In(berlin).Format("Mon 15:04 MST"), sh, ok, want)
				}
				for i < len(shifts) && !shifts[i].End.After(at) {
					i++
				}
				if s := shifts[i]; s.Person != sh.Person || !s.Start.Equal(sh.Start) || !s.End.Equal(sh.End) {
					t.Fatalf("%s: At says %v, Shifts %v", at, sh, s)
				}
				checked++
				if dst[at.Format("2006-01-02")] {
					at = at.Add(time.Minute)
				} else {
					at = at.Add(7 * time.Minute)
				}
			}
			t.Logf("%d shifts, %d instants checked", len(shifts), checked)
			// The schedule's calendar feed is its shifts.
			feed := roster.RotationFeed("follow-the-sun", from, from.Add(7*rota.Day), FeedOptions{})
			week := roster.Shifts("follow-the-sun", from, from.Add(7*rota.Day))
			if len(feed) != len(week) || len(feed) == 0 || feed[0].Person != week[0].Person || !feed[0].Start.Equal(week[0].Start) {
				t.Errorf("feed of %d events for %d shifts", len(feed), len(week))
			}
		})
	}
}

// TestRestrictedRotation: a business-hours rotation has someone on call
// only in its windows, a piece of each shift a day; overrides win
// outside them too.
func TestRestrictedRotation(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	r := &rota.Rotation{Name: "biz", Team: "t", Members: []string{"a", "b"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: berlin,
		Start: time.Date(2026, 1, 6, 0, 0, 0, 0, berlin), Active: []rota.Window{window(t, "mon-fri 09:00-17:00")}}
	org := rota.NewOrg(nil, nil, []*rota.Rotation{r}, nil, nil)
	roster := NewRoster(org, nil)
	at := func(s string) time.Time {
		x, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tt := range []struct {
		when, who, from, to string
	}{
		{"2026-03-09 12:00", "a", "2026-03-09 09:00", "2026-03-09 17:00"}, // Monday: a's week (from Tue 3 Mar, the 8th)
		{"2026-03-10 09:30", "a", "2026-03-10 09:00", "2026-03-10 10:00"}, // Tuesday before the 10:00 handoff
		{"2026-03-10 10:00", "b", "2026-03-10 10:00", "2026-03-10 17:00"},
		{"2026-03-10 18:00", "", "", ""},
		{"2026-03-14 12:00", "", "", ""}, // Saturday
	} {
		sh, ok := roster.OnCall("biz", at(tt.when))
		if tt.who == "" {
			if ok {
				t.Errorf("%s: %v, want nobody", tt.when, sh)
			}
			continue
		}
		if !ok || sh.Person != tt.who || !sh.Start.Equal(at(tt.from)) || !sh.End.Equal(at(tt.to)) {
			t.Errorf("%s: %v %v, want %s %s-%s", tt.when, sh, ok, tt.who, tt.from, tt.to)
		}
	}
	week := roster.Shifts("biz", at("2026-03-09 00:00"), at("2026-03-16 00:00"))
	var got []string
	for _, s := range week {
		got = append(got, fmt.Sprintf("%s %s-%s", s.Person, s.Start.In(berlin).Format("Mon 15:04"), s.End.In(berlin).Format("15:04")))
	}
	want := "a Mon 09:00-17:00|a Tue 09:00-10:00|b Tue 10:00-17:00|b Wed 09:00-17:00|b Thu 09:00-17:00|b Fri 09:00-17:00"
	if g := fmt.Sprint(got); g != fmt.Sprint(splitBar(want)) {
		t.Errorf("week:\n%s\nwant\n%s", g, want)
	}
	// An override on Saturday night puts c on call, restriction or not.
	roster = roster.WithOverride(rota.Override{ID: 1, Rotation: "biz", Person: "c", Start: at("2026-03-14 20:00"), End: at("2026-03-15 02:00")})
	if sh, ok := roster.OnCall("biz", at("2026-03-14 23:00")); !ok || sh.Person != "c" {
		t.Errorf("override outside the window: %v %v", sh, ok)
	}
}

func splitBar(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '|' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

package scheduler

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

func day(y int, m time.Month, d int, loc *time.Location) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func weekly(name string, loc *time.Location, members ...string) *rota.Rotation {
	return &rota.Rotation{
		Name: name, Members: members, ShiftDays: 7, Handoff: rota.DefaultHandoff,
		Location: loc, Start: day(2026, 1, 1, loc),
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCycleTable(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	tests := []struct {
		name       string
		rot        *rota.Rotation
		at         string
		person     string
		start, end string
		ok         bool
	}{
		{
			name: "before the first handoff nobody is on call",
			rot:  weekly("r", berlin, "a", "b", "c"),
			at:   "2026-01-06T08:59:59Z", ok: false,
		},
		{
			name: "first handoff is the first tuesday 10:00 on or after start",
			rot:  weekly("r", berlin, "a", "b", "c"),
			at:   "2026-01-06T09:00:00Z", ok: true, person: "a",
			start: "2026-01-06T09:00:00Z", end: "2026-01-13T09:00:00Z",
		},
		{
			name: "members take turns",
			rot:  weekly("r", berlin, "a", "b", "c"),
			at:   "2026-01-20T12:00:00Z", ok: true, person: "c",
			start: "2026-01-20T09:00:00Z", end: "2026-01-27T09:00:00Z",
		},
		{
			name: "and wrap around",
			rot:  weekly("r", berlin, "a", "b", "c"),
			at:   "2026-01-27T09:00:00Z", ok: true, person: "a",
			start: "2026-01-27T09:00:00Z", end: "2026-02-03T09:00:00Z",
		},
		{
			name: "spring-forward week is 167 hours",
			rot:  weekly("r", berlin, "a", "b", "c"),
			at:   "2026-03-28T00:00:00Z", ok: true, person: "c",
			start: "2026-03-24T09:00:00Z", end: "2026-03-31T08:00:00Z",
		},
		{
			name: "fall-back week is 169 hours",
			rot:  weekly("r", berlin, "a", "b", "c"),
			at:   "2026-10-25T12:00:00Z", ok: true, person: "c",
			start: "2026-10-20T08:00:00Z", end: "2026-10-27T09:00:00Z",
		},
		{
			name: "daily shifts",
			rot: &rota.Rotation{Name: "d", Members: []string{"a", "b"}, ShiftDays: 1,
				Handoff: rota.Handoff{Weekday: time.Monday, Time: rota.Clock(8 * 60)}, Location: time.UTC, Start: day(2026, 2, 1, time.UTC)},
			at: "2026-02-04T07:59:00Z", ok: true, person: "b",
			start: "2026-02-03T08:00:00Z", end: "2026-02-04T08:00:00Z",
		},
		{
			name: "three-day shifts",
			rot: &rota.Rotation{Name: "d", Members: []string{"a", "b"}, ShiftDays: 3,
				Handoff: rota.Handoff{Weekday: time.Monday, Time: rota.Clock(8 * 60)}, Location: time.UTC, Start: day(2026, 2, 1, time.UTC)},
			at: "2026-02-05T08:00:00Z", ok: true, person: "b",
			start: "2026-02-05T08:00:00Z", end: "2026-02-08T08:00:00Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := NewTimeline(tt.rot, nil)
			s, ok := tl.At(utc(tt.at))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if s.Person != tt.person || !s.Start.Equal(utc(tt.start)) || !s.End.Equal(utc(tt.end)) {
				t.Errorf("got %s %s–%s, want %s %s–%s", s.Person, s.Start.UTC().Format(time.RFC3339), s.End.UTC().Format(time.RFC3339), tt.person, tt.start, tt.end)
			}
		})
	}
}

// TestShiftsTileAcrossDSTBruteForce checks, for every handoff weekday and a
// spread of handoff times including those skipped or repeated by DST, that a
// year of shifts tiles time with no gap or overlap, that every handoff is at
// the requested local wall-clock time (or the first instant after it when
// skipped), and that members take turns.
func TestShiftsTileAcrossDSTBruteForce(t *testing.T) {
	clocks := []rota.Clock{0, 60, 90, 120, 150, 180, 600, 23*60 + 59}
	for _, zone := range dstZones {
		loc := mustLoad(t, zone)
		for _, days := range []int{1, 2, 3, 7} {
			for wd := time.Sunday; wd <= time.Saturday; wd++ {
				for _, c := range clocks {
					rot := &rota.Rotation{Name: "r", Members: []string{"a", "b", "c"}, ShiftDays: days,
						Handoff: rota.Handoff{Weekday: wd, Time: c}, Location: loc, Start: day(2025, 12, 1, loc)}
					checkYear(t, fmt.Sprintf("%s/%dd/%s %s", zone, days, wd, c), rot)
				}
			}
		}
	}
}

func checkYear(t *testing.T, name string, rot *rota.Rotation) {
	t.Helper()
	loc := rot.Location
	from, to := day(2026, 1, 1, loc), day(2027, 1, 1, loc)
	tl := NewTimeline(rot, nil)
	shifts := tl.Shifts(from, to)
	if len(shifts) == 0 || shifts[0].Start.After(from) || shifts[len(shifts)-1].End.Before(to) {
		t.Fatalf("%s: shifts do not cover the year", name)
	}
	short, long := 0, 0
	for i, s := range shifts {
		if i > 0 {
			prev := shifts[i-1]
			if !prev.End.Equal(s.Start) {
				t.Fatalf("%s: gap or overlap between %v and %v", name, prev.End, s.Start)
			}
			if next := map[string]string{"a": "b", "b": "c", "c": "a"}[prev.Person]; s.Person != next {
				t.Fatalf("%s: %s followed %s", name, s.Person, prev.Person)
			}
		}
		// The handoff's wall clock is the requested one, or the clocks
		// jumped over it and this is the first instant after.
		l := s.Start.In(loc)
		want := rot.Handoff.Time
		if got := rota.Clock(l.Hour()*60 + l.Minute()); got != want {
			before := s.Start.Add(-time.Second).In(loc)
			if before.Hour()*60+before.Minute() >= int(want) || got < want {
				t.Fatalf("%s: handoff at %s local, want %s or the first instant after it", name, l, want)
			}
		} else if e := s.Start.Add(-time.Hour).In(loc); e.Day() == l.Day() && e.Hour() == l.Hour() && e.Minute() == l.Minute() {
			t.Fatalf("%s: handoff at %s is the second occurrence of a repeated time", name, l)
		}
		nominal := time.Duration(rot.ShiftDays) * 24 * time.Hour
		switch d := s.Duration(); {
		case d == nominal:
		case d > nominal-2*time.Hour && d < nominal:
			short++
		case d < nominal+2*time.Hour && d > nominal:
			long++
		default:
			t.Fatalf("%s: shift of %s", name, d)
		}
		// At agrees with Shifts at the start, the middle and the last second.
		for _, at := range []time.Time{s.Start, s.Start.Add(s.Duration() / 2), s.End.Add(-time.Second)} {
			got, ok := tl.At(at)
			if !ok || got != s {
				t.Fatalf("%s: At(%s) = %+v, want %+v", name, at, got, s)
			}
		}
	}
	if short == 0 || long == 0 {
		t.Fatalf("%s: no shorter and longer shift in a year with DST (short %d, long %d)", name, short, long)
	}
}

func TestWeeklyShiftLengthsInDSTWeeks(t *testing.T) {
	for _, zone := range dstZones {
		loc := mustLoad(t, zone)
		tl := NewTimeline(weekly("r", loc, "a", "b"), nil)
		hours := map[float64]int{}
		for _, s := range tl.Shifts(day(2026, 1, 1, loc), day(2027, 1, 1, loc)) {
			hours[s.Duration().Hours()]++
		}
		if hours[167] != 1 || hours[169] != 1 || len(hours) != 3 {
			t.Errorf("%s: shift lengths in 2026: %v, want one 167 h, one 169 h, the rest 168 h", zone, hours)
		}
	}
}

func ov(id int64, person, start, end string) rota.Override {
	return rota.Override{ID: id, Rotation: "r", Person: person, Start: utc(start), End: utc(end)}
}

func TestOverrides(t *testing.T) {
	// a: Jan 6-13, b: Jan 13-20, c: Jan 20-27 (UTC, Tuesdays 10:00).
	rot := weekly("r", time.UTC, "a", "b", "c")
	type piece struct {
		person     string
		start, end string
		override   int64
	}
	tests := []struct {
		name string
		ovs  []rota.Override
		want []piece
	}{
		{
			name: "partial overlap cuts the shift in three",
			ovs:  []rota.Override{ov(1, "x", "2026-01-08T00:00:00Z", "2026-01-09T00:00:00Z")},
			want: []piece{
				{"a", "2026-01-06T10:00:00Z", "2026-01-08T00:00:00Z", 0},
				{"x", "2026-01-08T00:00:00Z", "2026-01-09T00:00:00Z", 1},
				{"a", "2026-01-09T00:00:00Z", "2026-01-13T10:00:00Z", 0},
				{"b", "2026-01-13T10:00:00Z", "2026-01-20T10:00:00Z", 0},
			},
		},
		{
			name: "an override spanning two shifts is one piece",
			ovs:  []rota.Override{ov(1, "x", "2026-01-12T00:00:00Z", "2026-01-14T00:00:00Z")},
			want: []piece{
				{"a", "2026-01-06T10:00:00Z", "2026-01-12T00:00:00Z", 0},
				{"x", "2026-01-12T00:00:00Z", "2026-01-14T00:00:00Z", 1},
				{"b", "2026-01-14T00:00:00Z", "2026-01-20T10:00:00Z", 0},
			},
		},
		{
			name: "a later override nests inside an earlier one",
			ovs: []rota.Override{
				ov(1, "x", "2026-01-07T00:00:00Z", "2026-01-12T00:00:00Z"),
				ov(2, "y", "2026-01-08T00:00:00Z", "2026-01-09T00:00:00Z"),
			},
			want: []piece{
				{"a", "2026-01-06T10:00:00Z", "2026-01-07T00:00:00Z", 0},
				{"x", "2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z", 1},
				{"y", "2026-01-08T00:00:00Z", "2026-01-09T00:00:00Z", 2},
				{"x", "2026-01-09T00:00:00Z", "2026-01-12T00:00:00Z", 1},
				{"a", "2026-01-12T00:00:00Z", "2026-01-13T10:00:00Z", 0},
				{"b", "2026-01-13T10:00:00Z", "2026-01-20T10:00:00Z", 0},
			},
		},
		{
			name: "an earlier override inside a later one is hidden",
			ovs: []rota.Override{
				ov(1, "y", "2026-01-08T00:00:00Z", "2026-01-09T00:00:00Z"),
				ov(2, "x", "2026-01-07T00:00:00Z", "2026-01-12T00:00:00Z"),
			},
			want: []piece{
				{"a", "2026-01-06T10:00:00Z", "2026-01-07T00:00:00Z", 0},
				{"x", "2026-01-07T00:00:00Z", "2026-01-12T00:00:00Z", 2},
				{"a", "2026-01-12T00:00:00Z", "2026-01-13T10:00:00Z", 0},
				{"b", "2026-01-13T10:00:00Z", "2026-01-20T10:00:00Z", 0},
			},
		},
		{
			name: "an override covering a whole shift exactly replaces it",
			ovs:  []rota.Override{ov(7, "x", "2026-01-13T10:00:00Z", "2026-01-20T10:00:00Z")},
			want: []piece{
				{"a", "2026-01-06T10:00:00Z", "2026-01-13T10:00:00Z", 0},
				{"x", "2026-01-13T10:00:00Z", "2026-01-20T10:00:00Z", 7},
			},
		},
		{
			name: "an override before the rotation starts fills the gap",
			ovs:  []rota.Override{ov(3, "x", "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z")},
			want: []piece{
				{"x", "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z", 3},
				{"a", "2026-01-07T00:00:00Z", "2026-01-13T10:00:00Z", 0},
				{"b", "2026-01-13T10:00:00Z", "2026-01-20T10:00:00Z", 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := NewTimeline(rot, tt.ovs)
			got := tl.Shifts(utc("2026-01-01T00:00:00Z"), utc("2026-01-15T00:00:00Z"))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d shifts, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Person != w.person || !g.Start.Equal(utc(w.start)) || !g.End.Equal(utc(w.end)) || g.OverrideID != w.override {
					t.Errorf("shift %d: got %s %s–%s (override %d), want %s %s–%s (override %d)", i,
						g.Person, g.Start.Format(time.RFC3339), g.End.Format(time.RFC3339), g.OverrideID,
						w.person, w.start, w.end, w.override)
				}
				for _, at := range []time.Time{g.Start, g.End.Add(-time.Nanosecond)} {
					if s, ok := tl.At(at); !ok || s != g {
						t.Errorf("At(%s) = %+v, want %+v", at, s, g)
					}
				}
			}
		})
	}
}

// TestOverridesAgainstReference lays random overlapping overrides on a
// rotation and checks At and Shifts, minute by minute, against the plain
// definition: the highest-ID override holding t wins, else the schedule.
func TestOverridesAgainstReference(t *testing.T) {
	loc := mustLoad(t, "America/New_York")
	rot := weekly("r", loc, "a", "b", "c")
	rng := rand.New(rand.NewSource(1))
	base := day(2026, 3, 1, loc)
	for round := 0; round < 40; round++ {
		var ovs []rota.Override
		for i := 0; i < 1+rng.Intn(12); i++ {
			start := base.Add(time.Duration(rng.Intn(40*24)) * time.Hour)
			ovs = append(ovs, rota.Override{
				ID: int64(rng.Intn(1000) + 1), Rotation: "r", Person: fmt.Sprintf("p%d", i),
				Start: start, End: start.Add(time.Duration(1+rng.Intn(10*24)) * time.Hour),
			})
		}
		seen := map[int64]bool{}
		for i := range ovs {
			for seen[ovs[i].ID] {
				ovs[i].ID++
			}
			seen[ovs[i].ID] = true
		}
		tl := NewTimeline(rot, ovs)
		plain := NewTimeline(rot, nil)
		from, to := base, base.Add(60*24*time.Hour)
		shifts := tl.Shifts(from, to)
		for i := 1; i < len(shifts); i++ {
			if !shifts[i-1].End.Equal(shifts[i].Start) {
				t.Fatalf("round %d: gap or overlap at %s", round, shifts[i].Start)
			}
		}
		j := 0
		for at := from; at.Before(to); at = at.Add(17 * time.Minute) {
			var want *rota.Override
			for k := range ovs {
				o := &ovs[k]
				if !at.Before(o.Start) && at.Before(o.End) && (want == nil || o.ID > want.ID) {
					want = o
				}
			}
			got, ok := tl.At(at)
			if !ok {
				t.Fatalf("round %d: nobody on call at %s", round, at)
			}
			if want != nil && (got.Person != want.Person || got.OverrideID != want.ID) {
				t.Fatalf("round %d at %s: got %s/%d, want override %s/%d", round, at, got.Person, got.OverrideID, want.Person, want.ID)
			}
			if want == nil {
				p, _ := plain.At(at)
				if got.Person != p.Person || got.OverrideID != 0 {
					t.Fatalf("round %d at %s: got %s/%d, want scheduled %s", round, at, got.Person, got.OverrideID, p.Person)
				}
			}
			for j < len(shifts) && !shifts[j].Contains(at) {
				j++
			}
			if j == len(shifts) || shifts[j] != got {
				t.Fatalf("round %d at %s: At gives %+v, not in Shifts", round, at, got)
			}
		}
	}
}

func TestRosterWithOrgKeepsOverrides(t *testing.T) {
	rot := weekly("r", time.UTC, "a", "b")
	org := rota.NewOrg(nil, nil, []*rota.Rotation{rot}, nil, nil)
	o := ov(1, "x", "2026-01-08T00:00:00Z", "2026-01-09T00:00:00Z")
	r := NewRoster(org, []rota.Override{o})
	at := utc("2026-01-08T12:00:00Z")
	if s, _ := r.OnCall("r", at); s.Person != "x" {
		t.Fatalf("got %s, want x", s.Person)
	}
	// A reload that drops the rotation and one that brings it back.
	r2 := r.WithOrg(rota.NewOrg(nil, nil, nil, nil, nil))
	if _, ok := r2.OnCall("r", at); ok {
		t.Fatal("removed rotation still answers")
	}
	rot2 := weekly("r", time.UTC, "b", "a")
	r3 := r2.WithOrg(rota.NewOrg(nil, nil, []*rota.Rotation{rot2}, nil, nil))
	if s, _ := r3.OnCall("r", at); s.Person != "x" {
		t.Fatalf("re-added rotation lost its override: %s", s.Person)
	}
	if s, _ := r3.OnCall("r", utc("2026-01-07T12:00:00Z")); s.Person != "b" {
		t.Fatalf("reloaded members not used: %s", s.Person)
	}
	r4 := r3.WithOverrides("r", nil)
	if s, _ := r4.OnCall("r", at); s.Person != "b" {
		t.Fatalf("cleared override still applies: %s", s.Person)
	}
	if s, _ := r3.OnCall("r", at); s.Person != "x" {
		t.Fatal("WithOverrides changed the old roster")
	}
}

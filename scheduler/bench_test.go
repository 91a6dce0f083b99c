package scheduler

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

// thousandOverrides spreads 1,000 overlapping overrides of 1 to 48 hours
// over the year 2026.
func thousandOverrides(loc *time.Location) []rota.Override {
	rng := rand.New(rand.NewSource(42))
	start := day(2026, 1, 1, loc)
	ovs := make([]rota.Override, 1000)
	for i := range ovs {
		s := start.Add(time.Duration(rng.Intn(365*24*60)) * time.Minute)
		ovs[i] = rota.Override{ID: int64(i + 1), Rotation: "r", Person: fmt.Sprintf("p%d", i%20),
			Start: s, End: s.Add(time.Duration(1+rng.Intn(48)) * time.Hour)}
	}
	return ovs
}

// benchRotation starts before the benchmarks' year so that someone is
// always on call.
func benchRotation(loc *time.Location) *rota.Rotation {
	r := weekly("r", loc, "a", "b", "c", "d", "e")
	r.Start = day(2025, 12, 1, loc)
	return r
}

func BenchmarkOnCall1000Overrides(b *testing.B) {
	benchAt(b, thousandOverrides(mustLoad(b, "Europe/Berlin")))
}

// BenchmarkOnCallNoOverrides measures the scheduled path: the handoffs
// around t computed from the rotation's wall-clock rule.
func BenchmarkOnCallNoOverrides(b *testing.B) { benchAt(b, nil) }

// benchAt asks who is on call at random instants of 2026.
func benchAt(b *testing.B, ovs []rota.Override) {
	loc := mustLoad(b, "Europe/Berlin")
	tl := NewTimeline(benchRotation(loc), ovs)
	at := make([]time.Time, 1024)
	rng := rand.New(rand.NewSource(7))
	for i := range at {
		at[i] = day(2026, 1, 1, loc).Add(time.Duration(rng.Intn(365*24*3600)) * time.Second)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := tl.At(at[i%len(at)]); !ok {
			b.Fatal("nobody on call")
		}
	}
}

func BenchmarkShiftsYear1000Overrides(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	tl := NewTimeline(benchRotation(loc), thousandOverrides(loc))
	from, to := day(2026, 1, 1, loc), day(2027, 1, 1, loc)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(tl.Shifts(from, to)) < 500 {
			b.Fatal("too few shifts")
		}
	}
}

func BenchmarkBuildTimeline1000Overrides(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	rot := benchRotation(loc)
	ovs := thousandOverrides(loc)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NewTimeline(rot, ovs)
	}
}

// BenchmarkScheduleOnCall3Layers1000Overrides asks who is on call on a
// three-layer follow-the-sun schedule (New York all week, Berlin weekdays
// 08:00-16:00 above it, Sydney 08:00-16:00 on top) with 1,000 overrides on
// the schedule itself, at random instants of 2026.
func BenchmarkScheduleOnCall3Layers1000Overrides(b *testing.B) {
	berlin, ny, sydney := mustLoad(b, "Europe/Berlin"), mustLoad(b, "America/New_York"), mustLoad(b, "Australia/Sydney")
	mk := func(name string, loc *time.Location, h rota.Handoff, days int, active string, members ...string) *rota.Rotation {
		r := &rota.Rotation{Name: name, Team: "t", Members: members, ShiftDays: days, Handoff: h, Location: loc, Start: day(2025, 12, 1, loc)}
		if active != "" {
			w, err := rota.ParseWindow(active)
			if err != nil {
				b.Fatal(err)
			}
			r.Active = []rota.Window{w}
		}
		return r
	}
	daily := rota.Handoff{Time: 8 * 60, AnyDay: true}
	layers := []*rota.Rotation{
		mk("us", ny, rota.Handoff{Weekday: time.Tuesday, Time: 9 * 60}, 7, "", "u1", "u2", "u3"),
		mk("eu", berlin, daily, 1, "mon-fri 08:00-16:00", "e1", "e2", "e3"),
		mk("au", sydney, daily, 1, "daily 08:00-16:00", "a1", "a2", "a3", "a4"),
	}
	sched := &rota.Rotation{Name: "r", Team: "t", Layers: []string{"us", "eu", "au"}, Location: berlin}
	roster := NewRoster(rota.NewOrg(nil, nil, append(layers, sched), nil, nil), thousandOverrides(berlin))
	at := make([]time.Time, 1024)
	rng := rand.New(rand.NewSource(7))
	for i := range at {
		at[i] = day(2026, 1, 1, berlin).Add(time.Duration(rng.Intn(365*24*3600)) * time.Second)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := roster.OnCall("r", at[i%len(at)]); !ok {
			b.Fatal("nobody on call")
		}
	}
}

package policy

import (
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// TestFairness: on-call, off-hours and covering hours per member from
// the final shifts; the balance index; who should cover next.
func TestFairness(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	person := func(n string) *rota.Person {
		return &rota.Person{Name: n, Location: berlin, Hours: rota.DefaultBusinessHours()}
	}
	team := &rota.Team{Name: "t", Members: []string{"a", "b", "c"}, Location: berlin}
	rot := &rota.Rotation{Name: "r", Team: "t", Members: []string{"a", "b"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: berlin,
		Start: time.Date(2026, 1, 6, 0, 0, 0, 0, berlin)}
	org := rota.NewOrg([]*rota.Person{person("a"), person("b"), person("c")}, []*rota.Team{team}, []*rota.Rotation{rot}, nil, nil)
	from := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC) // a handoff: Tue 10:00 Berlin
	to := from.Add(14 * 24 * time.Hour)
	// c covers a whole day of the first week for its member.
	ovs := []rota.Override{{ID: 1, Rotation: "r", Person: "c", Start: from.Add(24 * time.Hour), End: from.Add(48 * time.Hour)}}
	roster := scheduler.NewRoster(org, ovs)
	f := FairnessOf(team, roster, from, to, map[string][]rota.Page{"a": {{Person: "a"}}, "b": {{Person: "b"}, {Person: "b"}}})
	by := map[string]FairShare{}
	for _, p := range f.People {
		by[p.Person] = p
	}
	first, _ := roster.OnCall("r", from)
	other := map[string]string{"a": "b", "b": "a"}[first.Person]
	if got := by[first.Person].OnCallHours; got != 6*24 {
		t.Errorf("%s (the first week, a day covered): %.1f hours", first.Person, got)
	}
	if got := by[other].OnCallHours; got != 7*24 {
		t.Errorf("%s: %.1f hours", other, got)
	}
	if c := by["c"]; c.OnCallHours != 24 || c.CoveringHours != 24 || c.OffHoursHours != 16 {
		t.Errorf("c: %+v (a weekday: 8 business hours, 16 off)", c)
	}
	if w := by[other]; w.OffHoursHours != 7*24-5*8 {
		t.Errorf("%s's off-hours hours: %.1f, want %d", other, w.OffHoursHours, 7*24-5*8)
	}
	if f.CoverNext[0] != "c" || f.Balance <= 0 || f.Balance >= 1 {
		t.Errorf("cover next %v, balance %.2f", f.CoverNext, f.Balance)
	}
	if len(f.GapHours) != 0 && f.GapHours["r"] != 0 {
		t.Errorf("gaps: %v", f.GapHours)
	}
	if g := gini([]float64{1, 1, 1}); g != 0 {
		t.Errorf("gini of equals: %f", g)
	}
}

// TestCoverageGaps: a rotation that starts next week has nobody on call
// until then; a week whose only member is away for part of it is skipped
// with nobody to take it: a gap of that week; a business-hours rotation
// is off at night by design and never a gap.
func TestCoverageGaps(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC) // a Tuesday handoff
	to := from.Add(14 * 24 * time.Hour)
	person := func(n string) *rota.Person {
		return &rota.Person{Name: n, Location: berlin, Hours: rota.DefaultBusinessHours()}
	}
	team := &rota.Team{Name: "t", Members: []string{"a", "b"}, Location: berlin}
	later := &rota.Rotation{Name: "later", Team: "t", Members: []string{"a", "b"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: berlin,
		Start: from.Add(7 * 24 * time.Hour)}
	alone := &rota.Rotation{Name: "alone", Team: "t", Members: []string{"b"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: berlin,
		Start: time.Date(2026, 1, 6, 0, 0, 0, 0, berlin)}
	days := &rota.Rotation{Name: "days", Team: "t", Members: []string{"a"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: berlin,
		Start: time.Date(2026, 1, 6, 0, 0, 0, 0, berlin), Active: []rota.Window{mustWindow(t, "mon-fri 09:00-17:00")}}
	org := rota.NewOrg([]*rota.Person{person("a"), person("b")}, []*rota.Team{team}, []*rota.Rotation{later, alone, days}, nil, nil)
	leave := rota.Leave{Start: from.Add(5 * 24 * time.Hour), End: from.Add(7 * 24 * time.Hour)}
	roster := scheduler.NewRoster(org, nil).WithLeave("b", []rota.Leave{leave})
	got := map[string][]Gap{}
	for _, g := range CoverageGaps(team, roster, from, to) {
		got[g.Rotation] = append(got[g.Rotation], g)
	}
	if g := got["later"]; len(g) != 1 || !g[0].Start.Equal(from) || !g[0].End.Equal(later.Start) {
		t.Errorf("later: %+v, want one gap until it starts", g)
	}
	if g := got["alone"]; len(g) != 1 || !g[0].Start.Equal(from) || !g[0].End.Equal(from.Add(7*24*time.Hour)) {
		t.Errorf("alone: %+v, want the week b is away in", g)
	}
	if g := got["days"]; len(g) != 0 {
		t.Errorf("days (business hours): %+v", g)
	}
}

func mustWindow(t *testing.T, s string) rota.Window {
	t.Helper()
	w, err := rota.ParseWindow(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

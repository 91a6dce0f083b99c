package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

// TestFeedNamesWhoAndHandsOverToOthers: a rotation's calendar names whose
// shift each event is; a shift followed by the same person's next (a
// rotation of one) hands over to nobody, and links the rotation's page.
func TestFeedNamesWhoAndHandsOverToOthers(t *testing.T) {
	utc := time.UTC
	people := []*rota.Person{{Name: "alice", Location: utc}}
	rot := &rota.Rotation{Name: "solo", Members: []string{"alice"}, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: utc,
		Start: time.Date(2026, 1, 6, 0, 0, 0, 0, utc)}
	r := NewRoster(rota.NewOrg(people, nil, []*rota.Rotation{rot}, nil, nil), nil)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, utc)
	events := r.RotationFeed("solo", from, from.Add(3*rota.Week), FeedOptions{BaseURL: "https://rota.example.com"})
	if len(events) < 2 {
		t.Fatalf("%d events", len(events))
	}
	for _, e := range events {
		if e.Summary != "alice on call: solo" || strings.Contains(e.Description, "Hands over to") || strings.Contains(e.Description, "Takes over from") ||
			e.URL != "https://rota.example.com/rotations/solo" {
			t.Errorf("event: %q %q\n%s", e.Summary, e.URL, e.Description)
		}
	}
	// Her own calendar does not repeat her name.
	if mine := r.PersonFeed("alice", from, from.Add(rota.Week), FeedOptions{}); len(mine) == 0 || mine[0].Summary != "On call: solo" {
		t.Errorf("her calendar: %+v", mine)
	}
}

// TestPersonFeedHoldsWhatPages: a person's calendar holds the shifts that
// page them: a schedule a policy pages, not its layers, nor a schedule no
// policy pages; a plain rotation stays.
func TestPersonFeedHoldsWhatPages(t *testing.T) {
	utc := time.UTC
	start := time.Date(2026, 1, 6, 0, 0, 0, 0, utc)
	weekly := func(name string, members ...string) *rota.Rotation {
		return &rota.Rotation{Name: name, Members: members, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: utc, Start: start}
	}
	layer, other := weekly("days", "alice"), weekly("nights", "alice")
	paged := &rota.Rotation{Name: "final", Layers: []string{"days"}, ShiftDays: rota.MaxShiftDays, Handoff: rota.DefaultHandoff, Location: utc, Start: start}
	unused := &rota.Rotation{Name: "draft", Layers: []string{"days"}, ShiftDays: rota.MaxShiftDays, Handoff: rota.DefaultHandoff, Location: utc, Start: start}
	policy := &rota.EscalationPolicy{Name: "p", Steps: []rota.EscalationStep{{Targets: []rota.Target{{Kind: rota.TargetRotation, Name: "final"}}}}}
	org := rota.NewOrg([]*rota.Person{{Name: "alice", Location: utc}}, nil, []*rota.Rotation{layer, other, paged, unused}, nil, []*rota.EscalationPolicy{policy})
	r := NewRoster(org, nil)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, utc)
	seen := map[string]bool{}
	for _, e := range r.PersonFeed("alice", from, from.Add(2*rota.Week), FeedOptions{}) {
		seen[e.Rotation] = true
	}
	if !seen["final"] || !seen["nights"] || seen["days"] || seen["draft"] {
		t.Errorf("alice's calendar holds %v: want final and nights, not the layer days nor the unused schedule draft", seen)
	}
}

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

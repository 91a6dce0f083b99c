package replay_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/replay"
)

// bigOrg is 50 people in five teams of ten, each team with a service,
// a primary and a secondary weekly rotation and a two-step policy.
func bigOrg(b testing.TB) (*rota.Org, []replay.YearService) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	var people []*rota.Person
	var teams []*rota.Team
	var rotations []*rota.Rotation
	var services []*rota.Service
	var policies []*rota.EscalationPolicy
	var ys []replay.YearService
	for t := 0; t < 5; t++ {
		team := &rota.Team{Name: fmt.Sprintf("team%d", t), Location: berlin, Hours: rota.DefaultBusinessHours(),
			SLO: rota.HumanSLO{PagesPerWeek: 2, OffhoursIncidents: 1, OffhoursWindow: 182 * rota.Day, InterruptionGap: 10 * time.Minute}}
		var devs []string
		for i := 0; i < 10; i++ {
			name := fmt.Sprintf("p%d_%d", t, i)
			people = append(people, &rota.Person{Name: name, Location: berlin, Hours: rota.DefaultBusinessHours(), GitHub: []string{name},
				Contacts: []rota.ContactMethod{{Type: rota.ContactSMS, Address: "+4915112345000"}}})
			team.Members = append(team.Members, name)
			devs = append(devs, name)
		}
		teams = append(teams, team)
		start := time.Date(2025, 12, 2, 0, 0, 0, 0, berlin)
		primary := &rota.Rotation{Name: team.Name + "-primary", Team: team.Name, Members: team.Members, ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: berlin, Start: start}
		secondary := &rota.Rotation{Name: team.Name + "-secondary", Team: team.Name, Members: append(append([]string{}, team.Members[5:]...), team.Members[:5]...),
			ShiftDays: 7, Handoff: rota.DefaultHandoff, Location: berlin, Start: start}
		rotations = append(rotations, primary, secondary)
		pol := &rota.EscalationPolicy{Name: team.Name, Steps: []rota.EscalationStep{
			{Targets: []rota.Target{{Kind: rota.TargetDeployAuthor}, {Kind: rota.TargetRotation, Name: primary.Name}}, Delay: 5 * time.Minute},
			{Targets: []rota.Target{{Kind: rota.TargetRotation, Name: secondary.Name}}, Delay: 10 * time.Minute}}}
		policies = append(policies, pol)
		svc := &rota.Service{Name: team.Name + "-api", Team: team.Name, EscalationPolicy: pol.Name, Location: berlin, DeployRouting: rota.DeployAuthorFirst,
			DeployWindow: time.Hour, Group: rota.Grouping{Window: 5 * time.Minute}, LowUrgency: []string{rota.SeverityWarning, rota.SeverityInfo}}
		services = append(services, svc)
		ys = append(ys, replay.YearService{Name: svc.Name, Developers: devs, Zone: berlin})
	}
	return rota.NewOrg(people, teams, rotations, services, policies), ys
}

// BenchmarkReplayYear10kAlerts50People replays a generated year of about
// 10,000 alerts (and their deploys) for 50 people in five teams through
// the engine over a scratch database; the page-everything baseline is not
// included: one configuration.
func BenchmarkReplayYear10kAlerts50People(b *testing.B) {
	org, services := bigOrg(b)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	in := replay.Year(replay.YearOptions{Seed: 1, Start: start, Services: services, Scale: 4.7})
	b.ReportMetric(float64(len(in.Alerts)), "alerts")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := replay.Run(context.Background(), org, in, replay.Options{From: start, To: start.AddDate(1, 0, 0), Scratch: scratch(b)})
		if err != nil {
			b.Fatal(err)
		}
		if res.Alerts < 10000 {
			b.Fatalf("%d alerts replayed", res.Alerts)
		}
	}
}

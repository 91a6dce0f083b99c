package policy

import (
	"sort"
	"time"

	"github.com/rotahq/rota"
)

// ReportInput is what a team's human-SLO report is computed from.
type ReportInput struct {
	Team     *rota.Team
	Org      *rota.Org
	From, To time.Time
	// Pages of the team's members from From minus the off-hours window
	// to To; Alerts of the team's services created in [From, To) and of
	// every page; Burns of the team in [From, To); Avoided are the quiet
	// hours notes in [From, To).
	Pages   []rota.Page
	Alerts  map[int64]rota.Incident
	Burns   []rota.BurnRecord
	Avoided []rota.IncidentEvent
}

// Report is a team's human-SLO report.
type Report struct {
	Team      string          `json:"team"`
	From      time.Time       `json:"from"`
	To        time.Time       `json:"to"`
	SLO       SLOJSON         `json:"slo"`
	Weeks     []time.Time     `json:"weeks"`
	People    []PersonReport  `json:"people"`
	Services  []Count         `json:"noisy_services"`
	Alerts    []Count         `json:"noisy_alerts"`
	MTTA      Seconds         `json:"mtta_seconds"`
	MTTR      Seconds         `json:"mttr_seconds"`
	Acked     int             `json:"alerts_acknowledged"`
	Resolved  int             `json:"alerts_resolved"`
	AlertsIn  int             `json:"alerts"`
	Burns     []BurnSummary   `json:"burns"`
	Avoided   int             `json:"offhours_pages_avoided"`
	TeamWeeks []TeamWeekCount `json:"team_weeks"`
}

// SLOJSON is the team's SLO as reported.
type SLOJSON struct {
	PagesPerWeek      int    `json:"pages_per_week"`
	OffhoursIncidents int    `json:"offhours_incidents"`
	OffhoursWindow    string `json:"offhours_window"`
}

// Seconds is a duration reported in seconds.
type Seconds float64

// PersonReport is one member's budgets over the report.
type PersonReport struct {
	Person          string      `json:"person"`
	Weeks           []WeekCount `json:"weeks"`
	Pages           int         `json:"pages"`
	OffHours        int         `json:"offhours_pages"`
	Sleep           int         `json:"sleep_hours_pages"`
	OffHoursWindow  int         `json:"offhours_in_window"` // rolling window ending at To
	WeeksOverBudget int         `json:"weeks_over_budget"`
	Avoided         int         `json:"offhours_pages_avoided"`
}

// WeekCount is a person's pages in one ISO week (their zone).
type WeekCount struct {
	Start  time.Time `json:"start"`
	Pages  int       `json:"pages"`
	Budget int       `json:"budget"`
	Over   bool      `json:"over_budget"`
}

// TeamWeekCount is the team's pages in one week (the team's zone).
type TeamWeekCount struct {
	Start  time.Time `json:"start"`
	Pages  int       `json:"pages"`
	Budget int       `json:"budget"`
}

// Count is how many pages a service or an alert caused.
type Count struct {
	Name    string `json:"name"`
	Service string `json:"service,omitempty"`
	Pages   int    `json:"pages"`
}

// BurnSummary is one burn in the report.
type BurnSummary struct {
	At     time.Time `json:"at"`
	Person string    `json:"person,omitempty"`
	Budget string    `json:"budget"`
	Pages  int       `json:"pages"`
}

// BuildReport computes a team's report over [From, To).
func BuildReport(in ReportInput) Report {
	t := in.Team
	r := Report{Team: t.Name, From: in.From, To: in.To, SLO: SLOJSON{PagesPerWeek: t.SLO.PagesPerWeek, OffhoursIncidents: t.SLO.OffhoursIncidents,
		OffhoursWindow: rota.FormatDuration(t.SLO.OffhoursWindow)}, Weeks: []time.Time{}, People: []PersonReport{},
		Services: []Count{}, Alerts: []Count{}, Burns: []BurnSummary{}, TeamWeeks: []TeamWeekCount{}}
	teamWeek := map[time.Time]int{}
	for w := WeekStart(in.From, t.Location); w.Before(in.To); w = NextWeek(w, t.Location) {
		teamWeek[w] = len(r.TeamWeeks)
		r.Weeks = append(r.Weeks, w)
		r.TeamWeeks = append(r.TeamWeeks, TeamWeekCount{Start: w, Budget: t.SLO.PagesPerWeek * len(t.Members)})
	}
	byPerson := map[string][]rota.Page{}
	for _, pg := range in.Pages {
		if Counted(pg) {
			byPerson[pg.Person] = append(byPerson[pg.Person], pg)
		}
	}
	type avoidedKey struct {
		person string
		alert  int64
	}
	avoided := map[string]int{}
	seenAvoided := map[avoidedKey]bool{}
	for _, e := range in.Avoided {
		k := avoidedKey{e.Actor, e.IncidentID}
		if !seenAvoided[k] {
			seenAvoided[k] = true
			avoided[e.Actor]++
			r.Avoided++
		}
	}
	// Noisy alerts are counted by service and summary: a recurring
	// problem is a new alert each time it resolves and fires again.
	type alertKey struct{ service, summary string }
	services, alerts := map[string]int{}, map[alertKey]int{}
	for _, m := range t.Members {
		p := in.Org.Person(m)
		if p == nil {
			continue
		}
		pr := PersonReport{Person: m, Avoided: avoided[m]}
		weeks := map[time.Time]int{}
		windowStart := in.To.Add(-t.SLO.OffhoursWindow)
		for _, pg := range byPerson[m] {
			off := OffHours(p, pg.At)
			if off && pg.At.After(windowStart) && !pg.At.After(in.To) {
				pr.OffHoursWindow++
			}
			if pg.At.Before(in.From) || !pg.At.Before(in.To) {
				continue
			}
			pr.Pages++
			weeks[WeekStart(pg.At, p.Location)]++
			if off {
				pr.OffHours++
				if SleepHours(p, pg.At) {
					pr.Sleep++
				}
			}
			if a, ok := in.Alerts[pg.IncidentID]; ok {
				services[a.Service]++
				alerts[alertKey{a.Service, a.Summary}]++
			}
			if i, ok := teamWeek[WeekStart(pg.At, t.Location)]; ok {
				r.TeamWeeks[i].Pages++
			}
		}
		for w := WeekStart(in.From, p.Location); w.Before(in.To); w = NextWeek(w, p.Location) {
			wc := WeekCount{Start: w, Pages: weeks[w], Budget: t.SLO.PagesPerWeek}
			wc.Over = wc.Pages > wc.Budget
			if wc.Over {
				pr.WeeksOverBudget++
			}
			pr.Weeks = append(pr.Weeks, wc)
		}
		r.People = append(r.People, pr)
	}
	for s, n := range services {
		r.Services = append(r.Services, Count{Name: s, Pages: n})
	}
	for k, n := range alerts {
		r.Alerts = append(r.Alerts, Count{Name: k.summary, Service: k.service, Pages: n})
	}
	sortCounts(r.Services)
	sortCounts(r.Alerts)
	if len(r.Alerts) > 10 {
		r.Alerts = r.Alerts[:10]
	}
	var ack, res time.Duration
	for _, a := range in.Alerts {
		if a.CreatedAt.Before(in.From) || !a.CreatedAt.Before(in.To) || !teamService(in.Org, t.Name, a.Service) {
			continue
		}
		r.AlertsIn++
		if !a.AckedAt.IsZero() {
			r.Acked++
			ack += a.AckedAt.Sub(a.CreatedAt)
		}
		if !a.ResolvedAt.IsZero() {
			r.Resolved++
			res += a.ResolvedAt.Sub(a.CreatedAt)
		}
	}
	if r.Acked > 0 {
		r.MTTA = Seconds((ack / time.Duration(r.Acked)).Seconds())
	}
	if r.Resolved > 0 {
		r.MTTR = Seconds((res / time.Duration(r.Resolved)).Seconds())
	}
	for _, b := range in.Burns {
		r.Burns = append(r.Burns, BurnSummary{At: b.At, Person: b.Person, Budget: b.Budget, Pages: len(b.Pages)})
	}
	sort.Slice(r.Burns, func(i, j int) bool { return r.Burns[i].At.Before(r.Burns[j].At) })
	return r
}

func teamService(org *rota.Org, team, service string) bool {
	s := org.Service(service)
	return s != nil && s.Team == team
}

func sortCounts(cs []Count) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Pages != cs[j].Pages {
			return cs[i].Pages > cs[j].Pages
		}
		if cs[i].Name != cs[j].Name {
			return cs[i].Name < cs[j].Name
		}
		return cs[i].Service < cs[j].Service
	})
}

package policy

import (
	"fmt"
	"sort"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// ReportInput is what a team's human-SLO report is computed from: the
// team over [From, To), and what the store read for it.
type ReportInput struct {
	Team     *rota.Team
	Org      *rota.Org
	From, To time.Time
	Data     rota.ReportData
	// Roster, when set, adds how evenly the team carried on-call.
	Roster *scheduler.Roster
}

// Report is a team's human-SLO report. Alerts, incidents and pages are
// told apart: alerts are signals, incidents what people responded to,
// pages (interruptions) what the weekly budget counts.
type Report struct {
	Team          string         `json:"team"`
	From          time.Time      `json:"from"`
	To            time.Time      `json:"to"`
	SLO           SLOJSON        `json:"slo"`
	Weeks         []time.Time    `json:"weeks"`
	People        []PersonReport `json:"people"`
	Services      []Count        `json:"noisy_services"`
	Alerts        []Count        `json:"noisy_alerts"`
	MTTA          Seconds        `json:"mtta_seconds"`
	MTTR          Seconds        `json:"mttr_seconds"`
	Acked         int            `json:"incidents_acknowledged"`
	Resolved      int            `json:"incidents_resolved"`
	AlertsIn      int            `json:"alerts"`
	IncidentsIn   int            `json:"incidents"`
	Interruptions int            `json:"pages"`
	Burns         []BurnSummary  `json:"burns"`
	Avoided       int            `json:"offhours_pages_avoided"`
	// Maintenance counts the incidents that opened in a maintenance
	// window and never paged anyone (resolved before it ended): pages
	// avoided by planned work.
	Maintenance int             `json:"maintenance_pages_avoided"`
	TeamWeeks   []TeamWeekCount `json:"team_weeks"`
	// Fairness is how evenly the team carried on-call, when the roster
	// was given.
	Fairness *Fairness `json:"fairness,omitempty"`
}

// SLOJSON is the team's SLO as reported.
type SLOJSON struct {
	PagesPerWeek      int    `json:"pages_per_week"`
	OffhoursIncidents int    `json:"offhours_incidents"`
	OffhoursWindow    string `json:"offhours_window"`
	InterruptionGap   string `json:"interruption_gap"`
}

// Seconds is a duration reported in seconds.
type Seconds float64

// PersonReport is one member's budgets over the report.
type PersonReport struct {
	Person string `json:"person"`
	// Name is the person's full name, for people to read; Zone their time
	// zone, which their weeks follow.
	Name  string      `json:"name"`
	Zone  string      `json:"timezone"`
	Weeks []WeekCount `json:"weeks"`
	// Pages counts interruptions; Incidents the incidents that reached
	// them; OffHours those that reached them outside business hours
	// (Sleep, of those, between 22:00 and 08:00).
	Pages           int `json:"pages"`
	Incidents       int `json:"incidents"`
	OffHours        int `json:"offhours_incidents"`
	Sleep           int `json:"sleep_hours_incidents"`
	OffHoursWindow  int `json:"offhours_incidents_in_window"` // rolling window ending at To
	WeeksOverBudget int `json:"weeks_over_budget"`
	Avoided         int `json:"offhours_pages_avoided"`
}

// WeekCount is a person's pages (interruptions) in one ISO week of their
// zone.
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

// Count is how noisy a service, or an alert of one, was: its incidents,
// its alerts and the pages they caused.
type Count struct {
	Name      string `json:"name"`
	Service   string `json:"service,omitempty"`
	Incidents int    `json:"incidents"`
	Alerts    int    `json:"alerts"`
	Pages     int    `json:"pages"`
	// Maintenance counts a service's incidents opened in maintenance.
	Maintenance int `json:"maintenance,omitempty"`
}

// BurnSummary is one burn in the report, with what caused it.
type BurnSummary struct {
	At     time.Time `json:"at"`
	Person string    `json:"person,omitempty"`
	Name   string    `json:"name,omitempty"`
	Budget string    `json:"budget"`
	// Text says the budget in words.
	Text      string         `json:"budget_text"`
	Pages     int            `json:"pages"`
	Incidents []IncidentLine `json:"incidents"`
}

// IncidentLine names an incident that caused a burn.
type IncidentLine struct {
	ID      int64  `json:"id"`
	Service string `json:"service"`
	Summary string `json:"summary"`
	Alerts  int    `json:"alerts"`
}

// BudgetText says a budget in words, for people to read.
func BudgetText(budget string, slo rota.HumanSLO) string {
	switch budget {
	case BudgetWeekly:
		return fmt.Sprintf("more than %d pages in a week", slo.PagesPerWeek)
	case BudgetOffHours:
		return fmt.Sprintf("more than %d off-hours incident(s) in %s", slo.OffhoursIncidents, rota.FormatDuration(slo.OffhoursWindow))
	case BudgetTeamWarning:
		return "the team used 80% of its pages for the week"
	}
	return budget
}

// BuildReport computes a team's report over [From, To).
func BuildReport(in ReportInput) Report {
	r := buildReport(in)
	if in.Roster != nil {
		f := FairnessOf(in.Team, in.Roster, in.From, in.To, in.Data.Interruptions)
		r.Fairness = &f
	}
	return r
}

func buildReport(in ReportInput) Report {
	t, d := in.Team, in.Data
	r := Report{Team: t.Name, From: in.From, To: in.To, SLO: SLOJSON{PagesPerWeek: t.SLO.PagesPerWeek, OffhoursIncidents: t.SLO.OffhoursIncidents,
		OffhoursWindow: rota.FormatDuration(t.SLO.OffhoursWindow), InterruptionGap: rota.FormatDuration(t.SLO.InterruptionGap)},
		Weeks: []time.Time{}, People: []PersonReport{}, Services: []Count{}, Alerts: []Count{}, Burns: []BurnSummary{}, TeamWeeks: []TeamWeekCount{}}
	teamWeek := map[time.Time]int{}
	for w := WeekStart(in.From, t.Location); w.Before(in.To); w = NextWeek(w, t.Location) {
		teamWeek[w] = len(r.TeamWeeks)
		r.Weeks = append(r.Weeks, w)
		r.TeamWeeks = append(r.TeamWeeks, TeamWeekCount{Start: w, Budget: t.SLO.PagesPerWeek * len(t.Members)})
	}
	inRange := func(at time.Time) bool { return !at.Before(in.From) && at.Before(in.To) }
	type avoidedKey struct {
		person   string
		incident int64
	}
	avoided := map[string]int{}
	seenAvoided := map[avoidedKey]bool{}
	for _, e := range d.Avoided {
		k := avoidedKey{e.Actor, e.IncidentID}
		if !seenAvoided[k] {
			seenAvoided[k] = true
			avoided[e.Actor]++
			r.Avoided++
		}
	}
	// Noisy services and alerts: by incidents and alerts raised, and the
	// pages they caused. A recurring problem is a new incident each time
	// it resolves and fires again, so alerts count by service and summary.
	services := map[string]*Count{}
	service := func(name string) *Count {
		if services[name] == nil {
			services[name] = &Count{Name: name}
		}
		return services[name]
	}
	type alertKey struct{ service, summary string }
	alerts := map[alertKey]*Count{}
	for _, c := range d.Alerts {
		service(c.Service).Alerts += c.Alerts
		alerts[alertKey{c.Service, c.Summary}] = &Count{Name: c.Summary, Service: c.Service, Alerts: c.Alerts}
		r.AlertsIn += c.Alerts
	}
	for _, m := range t.Members {
		p := in.Org.Person(m)
		if p == nil {
			continue
		}
		pr := PersonReport{Person: m, Name: p.Display(), Zone: p.Location.String(), Avoided: avoided[m], OffHoursWindow: d.OffHoursInWindow[m]}
		weeks := map[time.Time]int{}
		// The person's and the team's week of each page, stepped forward
		// as the pages go (oldest first), not computed for each.
		var pw, pwEnd, tw, twEnd time.Time
		for _, pg := range d.Interruptions[m] {
			if !inRange(pg.At) {
				continue
			}
			if pg.At.Before(pw) || !pg.At.Before(pwEnd) {
				pw = WeekStart(pg.At, p.Location)
				pwEnd = NextWeek(pw, p.Location)
			}
			if pg.At.Before(tw) || !pg.At.Before(twEnd) {
				tw = WeekStart(pg.At, t.Location)
				twEnd = NextWeek(tw, t.Location)
			}
			pr.Pages++
			weeks[pw]++
			if i, ok := teamWeek[tw]; ok {
				r.TeamWeeks[i].Pages++
			}
			if a, ok := d.Incidents[pg.IncidentID]; ok {
				service(a.Service).Pages++
				if c := alerts[alertKey{a.Service, a.Summary}]; c != nil {
					c.Pages++
				}
			}
		}
		r.Interruptions += pr.Pages
		reached := d.Reached[m]
		pr.Incidents, pr.OffHours = reached.Incidents, reached.OffHours
		for _, at := range reached.OffHoursAt {
			if SleepHours(p, at) {
				pr.Sleep++
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
	var ack, res time.Duration
	for _, a := range d.Incidents {
		if !inRange(a.CreatedAt) || !teamService(in.Org, t.Name, a.Service) {
			continue
		}
		r.IncidentsIn++
		service(a.Service).Incidents++
		if a.InMaintenance {
			r.Maintenance++
			service(a.Service).Maintenance++
		}
		if c := alerts[alertKey{a.Service, a.Summary}]; c != nil {
			c.Incidents++
		}
		if !a.AckedAt.IsZero() {
			r.Acked++
			ack += a.AckedAt.Sub(a.CreatedAt)
		}
		if !a.ResolvedAt.IsZero() {
			r.Resolved++
			res += a.ResolvedAt.Sub(a.CreatedAt)
		}
	}
	for _, c := range services {
		r.Services = append(r.Services, *c)
	}
	for _, c := range alerts {
		r.Alerts = append(r.Alerts, *c)
	}
	sortCounts(r.Services)
	sortCounts(r.Alerts)
	if len(r.Alerts) > 10 {
		r.Alerts = r.Alerts[:10]
	}
	if r.Acked > 0 {
		r.MTTA = Seconds((ack / time.Duration(r.Acked)).Seconds())
	}
	if r.Resolved > 0 {
		r.MTTR = Seconds((res / time.Duration(r.Resolved)).Seconds())
	}
	for _, b := range d.Burns {
		bs := BurnSummary{At: b.At, Person: b.Person, Budget: b.Budget, Text: BudgetText(b.Budget, t.SLO), Pages: len(b.Pages), Incidents: []IncidentLine{}}
		if p := in.Org.Person(b.Person); p != nil {
			bs.Name = p.Display()
		}
		seen := map[int64]bool{}
		for _, pg := range b.Pages {
			if pg.IncidentID == 0 || seen[pg.IncidentID] {
				continue
			}
			seen[pg.IncidentID] = true
			line := IncidentLine{ID: pg.IncidentID}
			if a, ok := d.Incidents[pg.IncidentID]; ok {
				line.Service, line.Summary, line.Alerts = a.Service, a.Summary, a.AlertCount
			}
			bs.Incidents = append(bs.Incidents, line)
		}
		r.Burns = append(r.Burns, bs)
	}
	sort.Slice(r.Burns, func(i, j int) bool { return r.Burns[i].At.Before(r.Burns[j].At) })
	return r
}

func teamService(org *rota.Org, team, service string) bool {
	s := org.Service(service)
	return s != nil && s.Team == team
}

// sortCounts orders the noisiest first: by incidents, then alerts, then
// pages.
func sortCounts(cs []Count) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Incidents != cs[j].Incidents {
			return cs[i].Incidents > cs[j].Incidents
		}
		if cs[i].Alerts != cs[j].Alerts {
			return cs[i].Alerts > cs[j].Alerts
		}
		if cs[i].Pages != cs[j].Pages {
			return cs[i].Pages > cs[j].Pages
		}
		if cs[i].Name != cs[j].Name {
			return cs[i].Name < cs[j].Name
		}
		return cs[i].Service < cs[j].Service
	})
}

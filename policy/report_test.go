package policy

import (
	"testing"
	"time"

	"github.com/rotahq/rota"
)

// TestReportWeeksAcrossDST: a 12-week report spanning Sydney's (4 Oct),
// Berlin's (25 Oct) and New York's (1 Nov) changes has, for each person,
// weeks that start at their local Monday midnight, and every page in the
// week it fell in; the team's weeks start at the team's.
func TestReportWeeksAcrossDST(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	berlin, ny, sydney := zone("Europe/Berlin"), zone("America/New_York"), zone("Australia/Sydney")
	hours := rota.DefaultBusinessHours()
	people := []*rota.Person{{Name: "anna", Location: berlin, Hours: hours}, {Name: "ned", Location: ny, Hours: hours}, {Name: "sia", Location: sydney, Hours: hours}}
	team := &rota.Team{Name: "payments", Members: []string{"anna", "ned", "sia"}, Location: berlin, SLO: rota.DefaultHumanSLO()}
	org := rota.NewOrg(people, []*rota.Team{team}, nil, nil, nil)
	at := func(loc *time.Location, s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	var pages []rota.Page
	add := func(person string, loc *time.Location, times ...string) {
		for _, s := range times {
			pages = append(pages, rota.Page{IncidentID: int64(len(pages) + 1), Person: person, At: at(loc, s)})
		}
	}
	// anna: three pages in the week after Berlin's change (Mon 26 Oct),
	// the first at 00:30 on the Monday, which a UTC week would put in the
	// week before.
	add("anna", berlin, "2026-10-26 00:30", "2026-10-28 14:00", "2026-11-01 23:30")
	// ned: one on Monday 2 Nov 00:15 in New York, just after its change.
	add("ned", ny, "2026-11-02 00:15")
	// sia: Monday 5 Oct 00:10 in Sydney, the day after its change.
	add("sia", sydney, "2026-10-05 00:10")
	r := BuildReport(ReportInput{Team: team, Org: org, From: at(berlin, "2026-09-28 00:00"), To: at(berlin, "2026-12-21 00:00"), Data: rota.ReportData{Interruptions: byPerson(pages)}})

	if len(r.Weeks) != 12 || len(r.TeamWeeks) != 12 {
		t.Fatalf("%d team weeks, want 12", len(r.Weeks))
	}
	for i, w := range r.TeamWeeks {
		l := w.Start.In(berlin)
		if l.Weekday() != time.Monday || l.Hour() != 0 || l.Minute() != 0 {
			t.Errorf("team week %d starts %s", i, l)
		}
	}
	people2 := map[string]PersonReport{}
	for _, p := range r.People {
		people2[p.Person] = p
	}
	for _, tt := range []struct {
		person string
		loc    *time.Location
		week   string // local Monday with the pages
		pages  int
	}{{"anna", berlin, "2026-10-26", 3}, {"ned", ny, "2026-11-02", 1}, {"sia", sydney, "2026-10-05", 1}} {
		p := people2[tt.person]
		total := 0
		for _, w := range p.Weeks {
			l := w.Start.In(tt.loc)
			if l.Weekday() != time.Monday || l.Hour() != 0 || l.Minute() != 0 {
				t.Errorf("%s: a week starts %s", tt.person, l)
			}
			total += w.Pages
			if l.Format("2006-01-02") == tt.week && w.Pages != tt.pages {
				t.Errorf("%s: week of %s has %d pages, want %d", tt.person, tt.week, w.Pages, tt.pages)
			}
		}
		if total != tt.pages || p.Pages != tt.pages {
			t.Errorf("%s: %d pages in weeks, %d in all, want %d", tt.person, total, p.Pages, tt.pages)
		}
	}
	if a := people2["anna"]; a.WeeksOverBudget != 1 {
		t.Errorf("anna: %d weeks over budget, want 1", a.WeeksOverBudget)
	}
	teamPages := 0
	for _, w := range r.TeamWeeks {
		teamPages += w.Pages
	}
	if teamPages != 5 {
		t.Errorf("team weeks hold %d pages, want 5", teamPages)
	}
}

func TestNextWeek(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	w := WeekStart(time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC), berlin)
	next := NextWeek(w, berlin)
	if got := next.Sub(w); got != 169*time.Hour {
		t.Errorf("the week of Berlin's fall-back lasts %s, want 169h", got)
	}
	if l := next.In(berlin); l.Format("Mon 2006-01-02 15:04") != "Mon 2026-10-26 00:00" {
		t.Errorf("next week starts %s", l)
	}
}

func byPerson(pages []rota.Page) map[string][]rota.Page {
	out := map[string][]rota.Page{}
	for _, pg := range pages {
		out[pg.Person] = append(out[pg.Person], pg)
	}
	return out
}

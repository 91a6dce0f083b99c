package api

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

//go:embed templates/report.html
var templates embed.FS

var reportTemplate = template.Must(template.ParseFS(templates, "templates/report.html"))

// Chart geometry, in SVG user units (the SVGs scale to the page): a
// weekly chart's bars stand on BarBase, with room for their numbers above
// and the weeks' labels below.
const (
	chartW  = 600
	chartH  = 100
	barBase = 80
)

type barView struct {
	X, Y, W, H   float64
	MidX, LabelY float64
	Over         bool
	Pages        int
	Label, Week  string
	ShowWeek     bool
	// Alt is every other week label shown: a phone, whose labels are
	// drawn larger, hides them.
	Alt bool
	// WeekX and Anchor place the week's label: centred on its bar, but
	// inside the chart at its two ends.
	WeekX  float64
	Anchor string
}

type personView struct {
	ID, Name           string
	Pages, Incidents   int
	Over               int
	Bars               []barView
	BudgetY            float64
	Desc, Summary      string
	OffHours, InWindow int
}

type hbarView struct {
	Name        string
	Y, TextY, W float64
	End         float64
	Over        bool
	Pages       int
	Label       string
}

type burnView struct {
	X     float64
	Label string
}

type burnRow struct {
	When, Who, Budget, Cause string
}

type serviceRow struct {
	Name                     string
	Incidents, Alerts, Pages int
}

type reportView struct {
	R                                          policy.Report
	From, To, Zone, Generated                  string
	TotalPages, OverWeeks, OffHours, Incidents int
	MTTA, MTTR                                 string
	W, H, Base, OffH, SvcH                     float64
	OffBudgetX                                 float64
	People                                     []personView
	WeekLabels                                 []string
	Off                                        []hbarView
	OffDesc                                    string
	Services                                   []hbarView
	ServiceRows                                []serviceRow
	Burns                                      []burnView
	BurnRows                                   []burnRow
	WeeklyBudget, OffBudget                    string
	JSONURL, CSVURL                            string
}

// reportPage serves GET /reports/teams/{team}: the human-SLO report as a
// page for managers, charts in SVG, no script.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.reportAuth(r, r.PathValue("team")); err != nil {
		return err
	}
	from, to, err := s.reportRange(r)
	if err != nil {
		return err
	}
	org := s.book.Roster().Org()
	team := org.Team(r.PathValue("team"))
	if team == nil {
		return rota.Errorf(rota.ENOTFOUND, "no team named %q", r.PathValue("team"))
	}
	rep, err := HumanReport(r.Context(), s.reports, s.book.Roster(), team.Name, from, to)
	if err != nil {
		return err
	}
	v := buildReportView(rep, team, s.now())
	q := url.Values{"team": {team.Name}, "from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	if tok := r.URL.Query().Get("token"); tok != "" {
		q.Set("token", tok)
	}
	v.JSONURL = "/api/v1/reports/human?" + q.Encode()
	q.Set("format", "csv")
	v.CSVURL = "/api/v1/reports/human?" + q.Encode()
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, v); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(buf.Bytes())
	return nil
}

func duration(sec policy.Seconds) string {
	if sec == 0 {
		return "-"
	}
	d := time.Duration(float64(sec) * float64(time.Second)).Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

func buildReportView(rep policy.Report, team *rota.Team, now time.Time) reportView {
	loc := team.Location
	v := reportView{R: rep, From: rep.From.In(loc).Format("Mon 2 Jan 2006"), To: rep.To.In(loc).Format("Mon 2 Jan 2006"),
		Zone: loc.String(), Generated: now.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), MTTA: duration(rep.MTTA), MTTR: duration(rep.MTTR),
		W: chartW, H: chartH, Base: barBase, Incidents: rep.IncidentsIn,
		WeeklyBudget: fmt.Sprintf("%d pages per person per week", rep.SLO.PagesPerWeek),
		OffBudget:    fmt.Sprintf("%d off-hours incident(s) per person in %s", rep.SLO.OffhoursIncidents, rep.SLO.OffhoursWindow)}
	for _, wk := range rep.Weeks {
		v.WeekLabels = append(v.WeekLabels, wk.In(loc).Format("2 Jan"))
	}
	// One scale for every person, so that bars compare across people.
	maxPages := rep.SLO.PagesPerWeek + 1
	for _, p := range rep.People {
		for _, wk := range p.Weeks {
			maxPages = max(maxPages, wk.Pages)
		}
	}
	scale := func(n int) float64 { return float64(n) * (barBase - 14) / float64(maxPages) }
	for i, p := range rep.People {
		pv := personView{ID: fmt.Sprintf("p%d", i), Name: p.Name, Pages: p.Pages, Incidents: p.Incidents, Over: p.WeeksOverBudget,
			BudgetY: barBase - scale(rep.SLO.PagesPerWeek), OffHours: p.OffHours, InWindow: p.OffHoursWindow}
		v.TotalPages += p.Pages
		v.OverWeeks += p.WeeksOverBudget
		v.OffHours += p.OffHours
		n := max(len(p.Weeks), 1)
		slot := float64(chartW) / float64(n)
		// Label every week when they fit, else every other or fourth.
		every := 1
		for slot*float64(every) < 44 {
			every *= 2
		}
		zone, err := time.LoadLocation(p.Zone)
		if err != nil {
			zone = loc
		}
		var desc []string
		for i, wk := range p.Weeks {
			h := scale(wk.Pages)
			week := wk.Start.In(zone).Format("2 Jan")
			label := fmt.Sprintf("week of %s: %d %s", week, wk.Pages, plural(wk.Pages, "page", "pages"))
			x := float64(i)*slot + 1
			b := barView{X: x, Y: barBase - h, W: slot - 2, H: h, MidX: x + (slot-2)/2, LabelY: barBase - h - 3,
				Over: wk.Over, Pages: wk.Pages, Label: label, Week: week, ShowWeek: i%every == 0, Alt: i%every == 0 && (i/every)%2 == 1}
			b.WeekX, b.Anchor = b.MidX, "middle"
			switch {
			case i == 0:
				b.WeekX, b.Anchor = x, "start"
			case i == n-1:
				b.WeekX, b.Anchor = x+slot-2, "end"
			}
			pv.Bars = append(pv.Bars, b)
			desc = append(desc, label)
		}
		pv.Desc = strings.Join(desc, "; ")
		pv.Summary = fmt.Sprintf("%d %s, %d %s, %d week(s) over budget", p.Pages, plural(p.Pages, "page", "pages"),
			p.Incidents, plural(p.Incidents, "incident", "incidents"), p.WeeksOverBudget)
		v.People = append(v.People, pv)
	}
	maxOff := rep.SLO.OffhoursIncidents + 1
	for _, p := range rep.People {
		maxOff = max(maxOff, p.OffHoursWindow)
	}
	offScale := func(n int) float64 { return float64(n) * (chartW - 170) / float64(maxOff) }
	var offDesc []string
	for i, p := range rep.People {
		y := float64(i) * 20
		label := fmt.Sprintf("%s: %d off-hours %s", p.Name, p.OffHoursWindow, plural(p.OffHoursWindow, "incident", "incidents"))
		w := offScale(p.OffHoursWindow)
		v.Off = append(v.Off, hbarView{Name: p.Name, Y: y + 3, TextY: y + 14, W: w, End: 140 + w, Over: p.OffHoursWindow > rep.SLO.OffhoursIncidents, Pages: p.OffHoursWindow, Label: label})
		offDesc = append(offDesc, label)
	}
	v.OffDesc = strings.Join(offDesc, "; ")
	v.OffH = float64(max(len(rep.People), 1)) * 20
	v.OffBudgetX = 140 + offScale(rep.SLO.OffhoursIncidents)
	maxSvc := 1
	for _, s := range rep.Services {
		maxSvc = max(maxSvc, s.Incidents)
	}
	for i, s := range rep.Services {
		if i == 8 {
			break
		}
		y := float64(i) * 20
		w := float64(s.Incidents) * (chartW - 200) / float64(maxSvc)
		v.Services = append(v.Services, hbarView{Name: s.Name, Y: y + 3, TextY: y + 14, W: w, End: 160 + w, Pages: s.Incidents,
			Label: fmt.Sprintf("%s: %d incidents from %d alerts, %d pages", s.Name, s.Incidents, s.Alerts, s.Pages)})
		v.ServiceRows = append(v.ServiceRows, serviceRow{Name: s.Name, Incidents: s.Incidents, Alerts: s.Alerts, Pages: s.Pages})
	}
	v.SvcH = float64(max(len(v.Services), 1)) * 20
	span := rep.To.Sub(rep.From).Seconds()
	for _, b := range rep.Burns {
		who := b.Name
		if b.Person == "" {
			who = "the team"
		}
		x := 6 + (chartW-12)*b.At.Sub(rep.From).Seconds()/span
		v.Burns = append(v.Burns, burnView{X: x, Label: fmt.Sprintf("%s: %s, %s", b.At.In(loc).Format("Mon 2 Jan 15:04"), who, b.Text)})
		unit := plural(b.Pages, "page", "pages")
		if b.Budget == policy.BudgetOffHours {
			unit = plural(b.Pages, "off-hours incident", "off-hours incidents")
		}
		var lines []string
		for _, inc := range b.Incidents {
			line := fmt.Sprintf("#%d %s: %s", inc.ID, inc.Service, inc.Summary)
			if inc.Alerts > 1 {
				line += fmt.Sprintf(" (%d alerts)", inc.Alerts)
			}
			lines = append(lines, line)
		}
		cause := fmt.Sprintf("%d %s", b.Pages, unit)
		if len(lines) > 0 {
			cause += ": " + strings.Join(lines, "; ")
		}
		v.BurnRows = append(v.BurnRows, burnRow{When: b.At.In(loc).Format("Mon 2 Jan 15:04"), Who: who, Budget: b.Text, Cause: cause})
	}
	return v
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

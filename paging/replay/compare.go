package replay

import (
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// Totals are a run's figures for everyone.
type Totals struct {
	Column        string `json:"column"`
	Incidents     int    `json:"incidents"`
	Interruptions int    `json:"interruptions"`
	OffHours      int    `json:"offhours_incidents"`
	// OffHoursInterruptions are interruptions outside business hours.
	OffHoursInterruptions int `json:"offhours_interruptions"`
	Sleep                 int `json:"sleep_hour_pages"`
	Burns                 int `json:"burns"`
	// AuthorFirst is the share of incidents suspecting a deploy whose
	// first page went to its author or merger.
	AuthorFirst float64 `json:"deploy_incidents_author_first"`
	AuthorPages int     `json:"pages_to_deploy_authors"`
}

// PersonCell is one person's figures in one run; Known false where the
// run does not say (burns of what was recorded).
type PersonCell struct {
	Interruptions         int  `json:"interruptions"`
	Incidents             int  `json:"incidents"`
	OffHours              int  `json:"offhours_incidents"`
	OffHoursInterruptions int  `json:"offhours_interruptions"`
	Sleep                 int  `json:"sleep_hour_pages"`
	Burns                 int  `json:"burns"`
	AuthorPages           int  `json:"pages_as_deploy_author"`
	Known                 bool `json:"-"`
}

// PersonRow is a person's figures, column by column.
type PersonRow struct {
	Person string       `json:"person"`
	Cells  []PersonCell `json:"runs"`
}

// TeamRow is a team's figures, column by column: its members' sums, and
// its burns.
type TeamRow struct {
	Team  string       `json:"team"`
	Cells []PersonCell `json:"runs"`
}

// Comparison puts runs side by side: what happened (when recorded), the
// proposed configuration, and the page-everything-at-once baseline.
type Comparison struct {
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"`
	Columns []string    `json:"columns"`
	Totals  []Totals    `json:"totals"`
	People  []PersonRow `json:"people"`
	// Teams sum their members' rows (someone in two teams counts in
	// both).
	Teams []TeamRow `json:"teams"`
	// Burns of the proposed configuration: who, which budget, and when
	// the managers would have been told.
	Burns []Burn `json:"burns"`
	// CriticalIncidents, and those the proposed configuration paged
	// later than the baseline would have (more than a minute later).
	CriticalIncidents int `json:"critical_incidents"`
	CriticalDelayed   int `json:"critical_delayed"`
}

// Compare builds the comparison; recorded may be nil.
func Compare(org *rota.Org, recorded *Recorded, proposed, baseline *Result) Comparison {
	c := Comparison{From: proposed.From, To: proposed.To}
	type run struct {
		name  string
		cells map[string]PersonCell
		tot   Totals
	}
	var runs []run
	if recorded != nil {
		r := run{name: "recorded", cells: map[string]PersonCell{}}
		incidents := map[int64]bool{}
		for _, p := range recorded.Pages {
			if p.At.Before(c.From) || !p.At.Before(c.To) {
				continue
			}
			cell := r.cells[p.Person]
			cell.Known = true
			cell.Incidents++
			incidents[p.IncidentID] = true
			if p.OffHours {
				cell.OffHours++
				r.tot.OffHours++
				if person := org.Person(p.Person); person != nil && policy.SleepHours(person, p.At) {
					cell.Sleep++
					r.tot.Sleep++
				}
			}
			r.cells[p.Person] = cell
		}
		for _, i := range recorded.Interruptions {
			if i.At.Before(c.From) || !i.At.Before(c.To) {
				continue
			}
			cell := r.cells[i.Person]
			cell.Known = true
			cell.Interruptions++
			r.tot.Interruptions++
			if person := org.Person(i.Person); person != nil && policy.OffHours(person, i.At) {
				cell.OffHoursInterruptions++
				r.tot.OffHoursInterruptions++
			}
			r.cells[i.Person] = cell
		}
		r.tot.Incidents = len(incidents)
		r.tot.Burns = -1
		runs = append(runs, r)
	}
	for _, x := range []struct {
		name string
		res  *Result
	}{{"proposed", proposed}, {"baseline", baseline}} {
		r := run{name: x.name, cells: map[string]PersonCell{}, tot: Totals{Incidents: x.res.Incidents, Burns: len(x.res.Burns)}}
		for name, p := range x.res.People {
			r.cells[name] = PersonCell{Interruptions: p.Interruptions, Incidents: p.Incidents, OffHours: p.OffHours, OffHoursInterruptions: p.OffHoursInterruptions,
				Sleep: p.Sleep, Burns: p.Burns, AuthorPages: p.AuthorPages, Known: true}
			r.tot.Interruptions += p.Interruptions
			r.tot.OffHours += p.OffHours
			r.tot.OffHoursInterruptions += p.OffHoursInterruptions
			r.tot.Sleep += p.Sleep
			r.tot.AuthorPages += p.AuthorPages
		}
		if x.res.DeployIncidents > 0 {
			r.tot.AuthorFirst = float64(x.res.AuthorFirst) / float64(x.res.DeployIncidents)
		}
		runs = append(runs, r)
	}
	names := map[string]bool{}
	for _, r := range runs {
		c.Columns = append(c.Columns, r.name)
		r.tot.Column = r.name
		c.Totals = append(c.Totals, r.tot)
		for n, cell := range r.cells {
			if cell.Incidents > 0 || cell.Interruptions > 0 {
				names[n] = true
			}
		}
	}
	var people []string
	for n := range names {
		people = append(people, n)
	}
	sort.Strings(people)
	for _, n := range people {
		row := PersonRow{Person: n}
		for _, r := range runs {
			row.Cells = append(row.Cells, r.cells[n])
		}
		c.People = append(c.People, row)
	}
	for _, t := range org.Teams {
		row := TeamRow{Team: t.Name, Cells: make([]PersonCell, len(runs))}
		for i, r := range runs {
			for _, m := range t.Members {
				cell := r.cells[m]
				sum := &row.Cells[i]
				sum.Interruptions += cell.Interruptions
				sum.Incidents += cell.Incidents
				sum.OffHours += cell.OffHours
				sum.OffHoursInterruptions += cell.OffHoursInterruptions
				sum.Sleep += cell.Sleep
				sum.Burns += cell.Burns
				sum.AuthorPages += cell.AuthorPages
			}
		}
		c.Teams = append(c.Teams, row)
	}
	c.Burns = proposed.Burns
	for k, d := range proposed.CriticalFirstPage {
		c.CriticalIncidents++
		if b, ok := baseline.CriticalFirstPage[k]; ok && d > b+time.Minute {
			c.CriticalDelayed++
		}
	}
	return c
}

// WriteTable writes the comparison for a terminal.
func (c Comparison) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Replay %s to %s\n", c.From.Format("2006-01-02 15:04 MST"), c.To.Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(w, "recorded: what happened; proposed: this configuration; baseline: paging everything at once (no grouping, quiet hours or deploy routing).")
	fmt.Fprintln(w, "Incidents reaching someone count once per person; recorded burns are not shown (-).")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t\n", strings.Join(c.Columns, "\t"))
	row := func(label string, f func(Totals) string) {
		cells := []string{label}
		for _, t := range c.Totals {
			cells = append(cells, f(t))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	num := func(n int) string {
		if n < 0 {
			return "-"
		}
		return fmt.Sprint(n)
	}
	row("incidents", func(t Totals) string { return num(t.Incidents) })
	row("interruptions (pages)", func(t Totals) string { return num(t.Interruptions) })
	row("off-hours interruptions", func(t Totals) string { return num(t.OffHoursInterruptions) })
	row("off-hours incidents", func(t Totals) string { return num(t.OffHours) })
	row("incidents reaching someone 22-08", func(t Totals) string { return num(t.Sleep) })
	row("budgets burned", func(t Totals) string { return num(t.Burns) })
	row("deploy incidents paging the author first", func(t Totals) string {
		if t.Column == "recorded" {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*t.AuthorFirst)
	})
	tw.Flush()
	fmt.Fprintf(w, "\nCritical incidents: %d; paged later than the baseline would have: %d\n\n", c.CriticalIncidents, c.CriticalDelayed)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := []string{"person or team"}
	for _, col := range c.Columns {
		head = append(head, col+" pages", "off-hours", "22-08", "as author", "burns")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	line := func(name string, cells []PersonCell) {
		out := []string{name}
		for i, cell := range cells {
			burns := fmt.Sprint(cell.Burns)
			if c.Columns[i] == "recorded" {
				burns = "-"
			}
			out = append(out, fmt.Sprint(cell.Interruptions), fmt.Sprint(cell.OffHoursInterruptions), fmt.Sprint(cell.Sleep), fmt.Sprint(cell.AuthorPages), burns)
		}
		fmt.Fprintln(tw, strings.Join(out, "\t")+"\t")
	}
	for _, p := range c.People {
		line(p.Person, p.Cells)
	}
	for _, t := range c.Teams {
		line("team "+t.Team, t.Cells)
	}
	tw.Flush()
	if len(c.Burns) > 0 {
		fmt.Fprintf(w, "\nBurns with the proposed configuration (managers told then):\n")
		for _, b := range c.Burns {
			fmt.Fprintf(w, "  %s  %s (team %s): %s budget\n", b.At.UTC().Format("2006-01-02 15:04 MST"), b.Person, b.Team, b.Budget)
		}
	}
	return nil
}

var page = template.Must(template.New("replay").Funcs(template.FuncMap{
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"day": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Replay {{.From.Format "2006-01-02"}} to {{.To.Format "2006-01-02"}} · rota</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;margin:1rem 0}th,td{padding:.3rem .7rem;border-bottom:1px solid #d0d7de;text-align:right}
th:first-child,td:first-child{text-align:left}.better{color:#116329;font-weight:600}</style></head><body>
<h1>Replay {{.From.Format "2006-01-02"}} to {{.To.Format "2006-01-02"}}</h1>
<p>The same alerts through each configuration: what was recorded (if known), the proposed configuration, and a baseline that pages everything at once.</p>
<table><thead><tr><th scope="col"></th>{{range .Columns}}<th scope="col">{{.}}</th>{{end}}</tr></thead><tbody>
<tr><td>incidents</td>{{range .Totals}}<td>{{.Incidents}}</td>{{end}}</tr>
<tr><td>interruptions (pages)</td>{{range .Totals}}<td>{{.Interruptions}}</td>{{end}}</tr>
<tr><td>off-hours interruptions</td>{{range .Totals}}<td>{{.OffHoursInterruptions}}</td>{{end}}</tr>
<tr><td>off-hours incidents</td>{{range .Totals}}<td>{{.OffHours}}</td>{{end}}</tr>
<tr><td>incidents reaching someone 22-08</td>{{range .Totals}}<td>{{.Sleep}}</td>{{end}}</tr>
<tr><td>budgets burned</td>{{range .Totals}}<td>{{if lt .Burns 0}}–{{else}}{{.Burns}}{{end}}</td>{{end}}</tr>
<tr><td>deploy incidents paging the author first</td>{{range .Totals}}<td>{{pct .AuthorFirst}}</td>{{end}}</tr>
</tbody></table>
<p>{{.CriticalIncidents}} critical incidents; {{.CriticalDelayed}} paged later than the baseline would have.</p>
<h2>People</h2>
<p>Pages are interruptions; off-hours, those outside the person's business hours; 22–08, incidents reaching them between 22:00 and 08:00 their time; as author, pages as a deploy's author or merger.</p>
<table><thead><tr><th scope="col">person</th>{{range .Columns}}<th scope="col">{{.}}: pages</th><th scope="col">off-hours</th><th scope="col">22–08</th><th scope="col">as author</th><th scope="col">burns</th>{{end}}</tr></thead><tbody>
{{range .People}}<tr><td>{{.Person}}</td>{{range .Cells}}<td>{{.Interruptions}}</td><td>{{.OffHoursInterruptions}}</td><td>{{.Sleep}}</td><td>{{.AuthorPages}}</td><td>{{.Burns}}</td>{{end}}</tr>{{end}}
{{range .Teams}}<tr><td><b>team {{.Team}}</b></td>{{range .Cells}}<td>{{.Interruptions}}</td><td>{{.OffHoursInterruptions}}</td><td>{{.Sleep}}</td><td>{{.AuthorPages}}</td><td>{{.Burns}}</td>{{end}}</tr>{{end}}
</tbody></table>
{{if .Burns}}<h2>Burns with the proposed configuration</h2><ul>{{range .Burns}}<li>{{day .At}}: {{.Person}} (team {{.Team}}), {{.Budget}} budget: managers told</li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML writes the comparison as a page.
func (c Comparison) WriteHTML(w io.Writer) error { return page.Execute(w, c) }

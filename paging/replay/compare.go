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
	Column string `json:"column"`
	// Opened counts the incidents opened; Incidents those that reached
	// someone.
	Opened        int `json:"incidents_opened"`
	Incidents     int `json:"incidents"`
	Interruptions int `json:"interruptions"`
	OffHours      int `json:"offhours_incidents"`
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
	// Differences are the figures on which the proposed configuration's
	// replay differs from what was recorded, one line each (none when
	// nothing was recorded).
	Differences []string `json:"differences"`
	// Assumed is what the replay could not know and assumed.
	Assumed []string `json:"assumed"`
}

// Recorded is what a database holds of a range: pages (first reach of an
// incident per person, with whether as a deploy's author), interruptions,
// burns, and the incidents opened. A replay's Result holds the same, as
// its engine recorded it.
type Recorded struct {
	Pages         []rota.Page `json:"-"`
	Interruptions []rota.Page `json:"-"`
	Burns         []Burn      `json:"-"`
	Opened        []Incident  `json:"-"`
}

// Incident is an incident opened in the range, as far as the figures need
// it.
type Incident struct {
	ID       int64
	At       time.Time
	Service  string
	Severity string
	// Deploy is the deploy it suspected, if any.
	Deploy *rota.Deploy
	// DedupKey and Summary are its first alert's: with Service and At
	// they name the same incident across runs (Key).
	DedupKey, Summary string
}

// Key names the incident by its first alert (service, dedup key, when it
// arrived), the same in every run that opened an incident with it.
func (i Incident) Key() string {
	return i.Service + "\x00" + i.DedupKey + "\x00" + i.At.UTC().Format(time.RFC3339Nano)
}

// Tally reads the figures of rec over [from, to) the one way every column
// is read: per person their incidents, off-hours incidents, sleep-hour
// incidents, pages as a deploy's author, interruptions (and those off
// hours) and burns; and the totals.
func Tally(org *rota.Org, rec *Recorded, from, to time.Time) (map[string]*Person, Totals) {
	people := map[string]*Person{}
	var tot Totals
	person := func(name string) *Person {
		p := people[name]
		if p == nil {
			p = &Person{Name: name}
			people[name] = p
		}
		return p
	}
	for _, p := range org.People {
		person(p.Name)
	}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	incidents := map[int64]bool{}
	for _, pg := range rec.Pages {
		if !in(pg.At) {
			continue
		}
		p := person(pg.Person)
		p.Incidents++
		incidents[pg.IncidentID] = true
		if pg.AsAuthor {
			p.AuthorPages++
			tot.AuthorPages++
		}
		if pg.OffHours {
			p.OffHours++
			tot.OffHours++
			if conf := org.Person(pg.Person); conf != nil && policy.SleepHours(conf, pg.At) {
				p.Sleep++
				tot.Sleep++
			}
		}
	}
	for _, i := range rec.Interruptions {
		if !in(i.At) {
			continue
		}
		p := person(i.Person)
		p.Interruptions++
		tot.Interruptions++
		if i.OffHours {
			p.OffHoursInterruptions++
			tot.OffHoursInterruptions++
		}
	}
	for _, b := range rec.Burns {
		if in(b.At) {
			person(b.Person).Burns++
			tot.Burns++
		}
	}
	tot.Incidents = len(incidents)
	for _, inc := range rec.Opened {
		if in(inc.At) {
			tot.Opened++
		}
	}
	// The share of deploy-suspecting incidents whose first pages went to
	// the deploy's author or merger (as such, or on call anyway): among
	// those within a second of its first page, as one step's deliveries
	// land milliseconds apart.
	first := firstPages(rec.Pages)
	byIncident := map[int64][]rota.Page{}
	for _, pg := range rec.Pages {
		byIncident[pg.IncidentID] = append(byIncident[pg.IncidentID], pg)
	}
	deployIncidents, authorFirst := 0, 0
	for _, inc := range rec.Opened {
		if inc.Deploy == nil || !in(inc.At) {
			continue
		}
		f, ok := first[inc.ID]
		if !ok {
			continue
		}
		deployIncidents++
		for _, pg := range byIncident[inc.ID] {
			if pg.At.Sub(f.At) <= time.Second && (pg.AsAuthor || deployer(org, inc.Deploy, pg.Person)) {
				authorFirst++
				break
			}
		}
	}
	if deployIncidents > 0 {
		tot.AuthorFirst = float64(authorFirst) / float64(deployIncidents)
	}
	return people, tot
}

// deployer reports whether person wrote or merged d.
func deployer(org *rota.Org, d *rota.Deploy, person string) bool {
	for _, id := range []string{d.Author, d.MergedBy} {
		if p := org.PersonByIdentity(id); id != "" && p != nil && p.Name == person {
			return true
		}
	}
	return false
}

// Compare builds the comparison; recorded may be nil.
func Compare(org *rota.Org, recorded *Recorded, proposed, baseline *Result) Comparison {
	c := Comparison{From: proposed.From, To: proposed.To, Assumed: proposed.Assumed}
	type run struct {
		name  string
		cells map[string]PersonCell
		tot   Totals
	}
	cellsOf := func(people map[string]*Person) map[string]PersonCell {
		out := map[string]PersonCell{}
		for name, p := range people {
			out[name] = PersonCell{Interruptions: p.Interruptions, Incidents: p.Incidents, OffHours: p.OffHours, OffHoursInterruptions: p.OffHoursInterruptions,
				Sleep: p.Sleep, Burns: p.Burns, AuthorPages: p.AuthorPages, Known: true}
		}
		return out
	}
	var runs []run
	if recorded != nil {
		people, tot := Tally(org, recorded, c.From, c.To)
		runs = append(runs, run{name: "recorded", cells: cellsOf(people), tot: tot})
	}
	runs = append(runs, run{name: "proposed", cells: cellsOf(proposed.People), tot: proposed.Totals},
		run{name: "baseline", cells: cellsOf(baseline.People), tot: baseline.Totals})
	names := map[string]bool{}
	for _, r := range runs {
		c.Columns = append(c.Columns, r.name)
		r.tot.Column = r.name
		c.Totals = append(c.Totals, r.tot)
		for n, cell := range r.cells {
			if cell.Incidents > 0 || cell.Interruptions > 0 || cell.Burns > 0 {
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
	if recorded != nil {
		if c.Differences = differences(c); len(c.Differences) > 0 {
			c.Differences = append(c.Differences, pageDifferences(recorded, proposed, c.From, c.To)...)
		}
	}
	return c
}

// differences lists, line by line, every figure on which the proposed
// run differs from the recorded one: totals, then each person and team.
func differences(c Comparison) []string {
	var out []string
	rec, prop := c.Totals[0], c.Totals[1]
	total := func(what string, r, p int) {
		if r != p {
			out = append(out, fmt.Sprintf("%s: recorded %d, replayed %d", what, r, p))
		}
	}
	total("incidents opened", rec.Opened, prop.Opened)
	total("incidents reaching someone", rec.Incidents, prop.Incidents)
	total("interruptions", rec.Interruptions, prop.Interruptions)
	total("off-hours interruptions", rec.OffHoursInterruptions, prop.OffHoursInterruptions)
	total("off-hours incidents", rec.OffHours, prop.OffHours)
	total("incidents reaching someone 22-08", rec.Sleep, prop.Sleep)
	total("pages as a deploy's author", rec.AuthorPages, prop.AuthorPages)
	total("budgets burned", rec.Burns, prop.Burns)
	if rec.AuthorFirst != prop.AuthorFirst {
		out = append(out, fmt.Sprintf("deploy incidents paging the author first: recorded %.0f%%, replayed %.0f%%", 100*rec.AuthorFirst, 100*prop.AuthorFirst))
	}
	cell := func(who string, r, p PersonCell) {
		for _, f := range []struct {
			what string
			r, p int
		}{{"incidents", r.Incidents, p.Incidents}, {"interruptions", r.Interruptions, p.Interruptions},
			{"off-hours interruptions", r.OffHoursInterruptions, p.OffHoursInterruptions}, {"off-hours incidents", r.OffHours, p.OffHours},
			{"incidents 22-08", r.Sleep, p.Sleep}, {"pages as a deploy's author", r.AuthorPages, p.AuthorPages}, {"burns", r.Burns, p.Burns}} {
			if f.r != f.p {
				out = append(out, fmt.Sprintf("%s, %s: recorded %d, replayed %d", who, f.what, f.r, f.p))
			}
		}
	}
	for _, row := range c.People {
		cell(row.Person, row.Cells[0], row.Cells[1])
	}
	for _, row := range c.Teams {
		cell("team "+row.Team, row.Cells[0], row.Cells[1])
	}
	return out
}

// pageDifferences explains differing figures page by page: each incident
// (named by its first alert) that reached a person in one run and not in
// the other, or reached them differently (off hours, as a deploy's
// author, interrupting).
func pageDifferences(rec *Recorded, prop *Result, from, to time.Time) []string {
	type seen struct {
		page         rota.Page
		name         string
		interruption bool
	}
	index := func(r *Recorded) map[string]seen {
		byID := map[int64]Incident{}
		for _, inc := range r.Opened {
			byID[inc.ID] = inc
		}
		interrupted := map[[2]any]bool{}
		for _, i := range r.Interruptions {
			interrupted[[2]any{i.IncidentID, i.Person}] = true
		}
		out := map[string]seen{}
		for _, p := range r.Pages {
			if p.At.Before(from) || !p.At.Before(to) {
				continue
			}
			inc, ok := byID[p.IncidentID]
			key, name := fmt.Sprintf("incident %d", p.IncidentID), fmt.Sprintf("incident %d", p.IncidentID)
			if ok {
				key = inc.Key()
				name = fmt.Sprintf("%s %q (%s, %s)", inc.Service, inc.Summary, inc.DedupKey, inc.At.UTC().Format("15:04:05.000"))
			}
			out[p.Person+"\x00"+key] = seen{page: p, name: name, interruption: interrupted[[2]any{p.IncidentID, p.Person}]}
		}
		return out
	}
	a, b := index(rec), index(&prop.Recorded)
	var out []string
	describe := func(s seen) string {
		var what []string
		if s.page.OffHours {
			what = append(what, "off hours")
		}
		if s.page.AsAuthor {
			what = append(what, "as a deploy's author")
		}
		if s.interruption {
			what = append(what, "interrupting")
		}
		w := ""
		if len(what) > 0 {
			w = ", " + strings.Join(what, ", ")
		}
		return fmt.Sprintf("at %s by %s%s", s.page.At.UTC().Format("15:04:05.000"), s.page.Channel, w)
	}
	for k, r := range a {
		p, ok := b[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s was paged for %s %s as recorded; the replay did not page them for it", r.page.Person, r.name, describe(r)))
		case r.page.OffHours != p.page.OffHours || r.page.AsAuthor != p.page.AsAuthor || r.interruption != p.interruption:
			out = append(out, fmt.Sprintf("%s was paged for %s %s as recorded, %s in the replay", r.page.Person, r.name, describe(r), describe(p)))
		}
	}
	for k, p := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s was paged for %s %s in the replay; not as recorded", p.page.Person, p.name, describe(p)))
		}
	}
	// Interruptions, by person and the incident their message was about
	// (a message may interrupt for an incident that reached them before).
	interruptions := func(r *Recorded) map[string][]time.Time {
		byID := map[int64]Incident{}
		for _, inc := range r.Opened {
			byID[inc.ID] = inc
		}
		out := map[string][]time.Time{}
		for _, i := range r.Interruptions {
			if i.At.Before(from) || !i.At.Before(to) {
				continue
			}
			name := fmt.Sprintf("incident %d", i.IncidentID)
			if inc, ok := byID[i.IncidentID]; ok {
				name = fmt.Sprintf("%s %q (%s, %s)", inc.Service, inc.Summary, inc.DedupKey, inc.At.UTC().Format("15:04:05.000"))
			}
			k := i.Person + " was interrupted for " + name
			out[k] = append(out[k], i.At)
		}
		return out
	}
	ia, ib := interruptions(rec), interruptions(&prop.Recorded)
	times := func(ts []time.Time) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.UTC().Format("15:04:05.000"))
		}
		if len(s) == 0 {
			return "never"
		}
		return "at " + strings.Join(s, ", ")
	}
	for k := range ia {
		if len(ia[k]) != len(ib[k]) {
			out = append(out, fmt.Sprintf("%s %s as recorded, %s in the replay", k, times(ia[k]), times(ib[k])))
		}
	}
	for k := range ib {
		if _, ok := ia[k]; !ok {
			out = append(out, fmt.Sprintf("%s %s as recorded, %s in the replay", k, times(nil), times(ib[k])))
		}
	}
	sort.Strings(out)
	return out
}

// WriteTable writes the comparison for a terminal.
func (c Comparison) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Replay %s to %s\n", c.From.Format("2006-01-02 15:04 MST"), c.To.Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(w, "recorded: what happened; proposed: this configuration; baseline: paging everything at once (no grouping, quiet hours or deploy routing).")
	fmt.Fprintln(w, "Incidents reaching someone count once per person.")
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
	row("incidents opened", func(t Totals) string { return num(t.Opened) })
	row("incidents reaching someone", func(t Totals) string { return num(t.Incidents) })
	row("interruptions (pages)", func(t Totals) string { return num(t.Interruptions) })
	row("off-hours interruptions", func(t Totals) string { return num(t.OffHoursInterruptions) })
	row("off-hours incidents", func(t Totals) string { return num(t.OffHours) })
	row("incidents reaching someone 22-08", func(t Totals) string { return num(t.Sleep) })
	row("budgets burned", func(t Totals) string { return num(t.Burns) })
	row("pages as a deploy's author", func(t Totals) string { return num(t.AuthorPages) })
	row("deploy incidents paging the author first", func(t Totals) string { return fmt.Sprintf("%.0f%%", 100*t.AuthorFirst) })
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
		for _, cell := range cells {
			out = append(out, fmt.Sprint(cell.Interruptions), fmt.Sprint(cell.OffHoursInterruptions), fmt.Sprint(cell.Sleep), fmt.Sprint(cell.AuthorPages), fmt.Sprint(cell.Burns))
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
	if len(c.Columns) > 0 && c.Columns[0] == "recorded" {
		if len(c.Differences) == 0 {
			fmt.Fprintln(w, "\nThe proposed configuration's replay agrees with what was recorded on every figure.")
		} else {
			fmt.Fprintf(w, "\nWhere the proposed configuration's replay differs from what was recorded (%d):\n", len(c.Differences))
			for _, d := range c.Differences {
				fmt.Fprintf(w, "  %s\n", d)
			}
		}
	}
	if len(c.Assumed) > 0 {
		fmt.Fprintln(w, "\nAssumed:")
		for _, a := range c.Assumed {
			fmt.Fprintf(w, "  %s\n", a)
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
<tr><td>incidents opened</td>{{range .Totals}}<td>{{.Opened}}</td>{{end}}</tr>
<tr><td>incidents reaching someone</td>{{range .Totals}}<td>{{.Incidents}}</td>{{end}}</tr>
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
{{if .Differences}}<h2>Where the replay differs from what was recorded</h2><ul>{{range .Differences}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Assumed}}<h2>Assumed</h2><ul>{{range .Assumed}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML writes the comparison as a page.
func (c Comparison) WriteHTML(w io.Writer) error { return page.Execute(w, c) }

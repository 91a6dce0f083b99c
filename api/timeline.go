package api

import (
	"fmt"
	"slices"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// A timeline draws a rotation's days across: its final shifts on top, a
// schedule's layers below, overrides and cover for leave marked, gaps red,
// and a line at now. It is an SVG (attributes, not inline styles: the
// pages' CSP allows no inline style); each bar carries its shift's
// person, start and end as data attributes, and the shifts are listed in a
// table below it for those who do not see it.
const (
	tlWidth  = 1000.0
	tlLabel  = 130.0 // the rows' names
	tlTop    = 34.0  // the days' labels
	tlRowH   = 34.0
	tlBarH   = 26.0
	tlMaxDay = 28
)

type timelineView struct {
	From, To   string
	Days       int
	W, H, BarH float64
	// ID names the SVG; Title and Desc say what it shows; Rotation is
	// the rotation's (for the earlier and later links), if any.
	ID, Title, Desc string
	Rotation        string
	DayTicks        []tlTick
	Rows            []tlRow
	Now             *float64
	NowLabel        string
	Prev, Next      string // ?from= of the range before and after
}

type tlTick struct {
	X       float64
	Label   string
	Weekend bool
}

type tlRow struct {
	Name     string
	Y, TextY float64
	Final    bool
	Bars     []tlBar
}

type tlBar struct {
	X, W, TextX, Y, TextY          float64
	Person, Name, Start, End, Kind string
	Class, Text, Title             string
}

// tlSource is one row to draw: its name, its shifts, and whether it is
// the line of who is on call (Final), whose holes are drawn as gaps from
// GapsFrom (a rotation is missing nobody before it begins).
type tlSource struct {
	Name     string
	Shifts   []rota.Shift
	Final    bool
	GapsFrom time.Time
}

// timeline builds rot's timeline over days days from from (a midnight in
// loc): who is on call on top, a schedule's layers below.
func (s *Server) timeline(roster *scheduler.Roster, rot *rota.Rotation, from time.Time, days int, now time.Time, loc *time.Location, me string) timelineView {
	to := from.AddDate(0, 0, days)
	gapsFrom := from
	if rot.Start.After(gapsFrom) {
		gapsFrom = rot.Start
	}
	if rot.Start.After(to) {
		gapsFrom = time.Time{}
	}
	sources := []tlSource{{Name: "final", Shifts: roster.Shifts(rot.Name, from, to), Final: true, GapsFrom: gapsFrom}}
	for _, l := range rot.Layers {
		sources = append(sources, tlSource{Name: l, Shifts: roster.Shifts(l, from, to)})
	}
	v := s.drawTimeline(roster.Org(), sources, from, days, now, loc, me)
	v.ID, v.Rotation = "timeline", rot.Name
	v.Title = fmt.Sprintf("Who is on call on %s, %s to %s", rot.Name, v.From, v.To)
	v.Desc = "The first line is who is paged; a schedule's layers are below it. The shifts are listed in the table after the timeline."
	return v
}

// personTimeline is person's shifts over days days from from, a row for
// each rotation that pages them (as their calendar holds it).
func (s *Server) personTimeline(roster *scheduler.Roster, person string, from time.Time, days int, now time.Time, loc *time.Location) timelineView {
	to := from.AddDate(0, 0, days)
	var sources []tlSource
	for _, rot := range roster.Org().Rotations {
		if rot.ShadowOf != "" && !slices.Contains(rot.Members, person) || !roster.Pages(rot.Name) {
			continue
		}
		var mine []rota.Shift
		for _, sh := range roster.Shifts(rot.Name, from, to) {
			if sh.Person == person {
				mine = append(mine, sh)
			}
		}
		if len(mine) > 0 {
			sources = append(sources, tlSource{Name: rot.Name, Shifts: mine})
		}
	}
	v := s.drawTimeline(roster.Org(), sources, from, days, now, loc, person)
	v.ID = "my-timeline"
	v.Title = fmt.Sprintf("My shifts, %s to %s", v.From, v.To)
	v.Desc = "A line for each rotation that pages me; my next shifts are listed in the table after it."
	return v
}

// drawTimeline lays sources out as rows over days days from from.
func (s *Server) drawTimeline(org *rota.Org, sources []tlSource, from time.Time, days int, now time.Time, loc *time.Location, me string) timelineView {
	to := from.AddDate(0, 0, days)
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		if t.Before(from) {
			t = from
		}
		if t.After(to) {
			t = to
		}
		return tlLabel + (tlWidth-tlLabel)*t.Sub(from).Seconds()/span
	}
	v := timelineView{From: from.In(loc).Format("Mon 2 Jan 2006"), To: to.Add(-time.Second).In(loc).Format("Mon 2 Jan 2006"), Days: days, W: tlWidth, BarH: tlBarH,
		Prev: from.AddDate(0, 0, -days).Format("2006-01-02"), Next: to.Format("2006-01-02")}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		label := d.In(loc).Format("Mon 2")
		if days > 14 {
			label = d.In(loc).Format("2")
		}
		wd := d.In(loc).Weekday()
		v.DayTicks = append(v.DayTicks, tlTick{X: x(d), Label: label, Weekend: wd == time.Saturday || wd == time.Sunday})
	}
	for _, src := range sources {
		r := tlRow{Name: src.Name, Final: src.Final}
		cursor := src.GapsFrom
		gap := func(a, b time.Time) {
			if src.Final && !src.GapsFrom.IsZero() && b.After(a) {
				r.Bars = append(r.Bars, s.tlBar(rota.Shift{Start: a, End: b}, x, "gap", loc, org, me))
			}
		}
		for _, sh := range src.Shifts {
			if sh.Start.After(cursor) {
				gap(cursor, sh.Start)
			}
			kind := "shift"
			switch {
			case sh.IsOverride():
				kind = "override"
			case sh.CoveringFor != "":
				kind = "covering"
			}
			r.Bars = append(r.Bars, s.tlBar(sh, x, kind, loc, org, me))
			if sh.End.After(cursor) {
				cursor = sh.End
			}
		}
		if cursor.Before(to) {
			gap(cursor, to)
		}
		v.Rows = append(v.Rows, r)
	}
	for i := range v.Rows {
		y := tlTop + float64(i)*tlRowH
		v.Rows[i].Y, v.Rows[i].TextY = y, y+tlBarH/2+5
		for j := range v.Rows[i].Bars {
			v.Rows[i].Bars[j].Y, v.Rows[i].Bars[j].TextY = y, y+tlBarH/2+5
		}
	}
	v.H = tlTop + float64(len(v.Rows))*tlRowH + 4
	if !now.Before(from) && now.Before(to) {
		nx := x(now)
		v.Now, v.NowLabel = &nx, "now, "+now.In(loc).Format("Mon 2 Jan 15:04 MST")
	}
	return v
}

// tlBar is a shift (or, kind gap, nobody) as a bar.
func (s *Server) tlBar(sh rota.Shift, x func(time.Time) float64, kind string, loc *time.Location, org *rota.Org, me string) tlBar {
	b := tlBar{X: x(sh.Start), Person: sh.Person, Name: sh.Person, Start: sh.Start.UTC().Format(time.RFC3339), End: sh.End.UTC().Format(time.RFC3339), Kind: kind}
	b.W = max(x(sh.End)-b.X, 0.5)
	if p := org.Person(sh.Person); p != nil {
		b.Name = p.Display()
	}
	span := when(sh.Start, loc) + " to " + when(sh.End, loc)
	switch kind {
	case "gap":
		b.Class, b.Text, b.Title = "tl-gap", "nobody", "nobody on call: "+span
	default:
		b.Class = fmt.Sprintf("tl-p%d", paletteOf(org, sh.Person))
		b.Text, b.Title = b.Name, b.Name+": "+span
		switch kind {
		case "override":
			b.Class += " tl-override"
			b.Title += " (override)"
		case "covering":
			b.Class += " tl-covering"
			b.Title += " (covering " + sh.CoveringFor + ", on leave)"
		}
		if sh.Person == me {
			b.Class += " tl-mine"
		}
	}
	if b.W < 7*float64(len(b.Text))+8 {
		b.Text = "" // too narrow for the name: the title and the table say it
	}
	b.TextX = b.X + 4
	return b
}

// paletteOf gives each person one of the timeline's six fills by their
// place in the configuration: the same on every page, and neighbours in
// a rotation's list apart.
func paletteOf(org *rota.Org, person string) int {
	for i, p := range org.People {
		if p.Name == person {
			return i % 6
		}
	}
	return 0
}

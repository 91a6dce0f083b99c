package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/policy"
	"github.com/rotahq/rota/scheduler"
)

// BudgetReader reads what a person's budgets are counted from.
type BudgetReader interface {
	// BudgetFacts returns person's interruptions since weekFrom and the
	// off-hours incidents that reached them since offFrom, up to at.
	BudgetFacts(ctx context.Context, person string, weekFrom, offFrom, at time.Time) (week, offHours []rota.Page, err error)
}

// shiftView is a shift as pages show it, in the viewer's zone.
type shiftView struct {
	Rotation, Person, Name, Start, End, Covering string
	Override                                     bool
	OverrideID                                   int64
	Mine                                         bool
	StartRFC                                     string
}

func (s *Server) shiftView(sh rota.Shift, loc *time.Location, me string) shiftView {
	v := shiftView{Rotation: sh.Rotation, Person: sh.Person, Name: sh.Person, Start: when(sh.Start, loc), End: when(sh.End, loc),
		Covering: sh.CoveringFor, Override: sh.IsOverride(), OverrideID: sh.OverrideID, Mine: sh.Person == me, StartRFC: sh.Start.UTC().Format(time.RFC3339)}
	if p := s.book.Roster().Org().Person(sh.Person); p != nil {
		v.Name = p.Display()
	}
	return v
}

// nowPage serves GET /: who is on call on each rotation now and next, my
// next shifts, my budgets, and my calendar.
func (s *Server) nowPage(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	loc := s.zoneOf(r)
	me := actorOf(r).Person
	roster := s.book.Roster()
	org := roster.Org()
	type rotationNow struct {
		Name, Team   string
		Current      *shiftView
		Next         *shiftView
		ShadowOf     string
		MyTeam       bool
		NobodyOnCall bool
	}
	type budget struct {
		Team                                    string
		WeekPages, WeekBudget, OffHours, OffMax int
		OffDays                                 int
		WeekBurned, OffBurned                   bool
		Incidents                               []int64
	}
	data := struct {
		Now       string
		Deaf      []string
		Open      []openIncident
		MoreOpen  int
		Rotations []rotationNow
		MyShifts  []shiftView
		Budgets   []budget
		Calendar  string
		Person    bool
		// Teams are the teams the viewer manages, at a glance.
		Teams []teamHealth
		// MyTimeline draws my next two weeks across my rotations.
		MyTimeline timelineView
	}{Now: when(now, loc), Person: me != ""}
	myTeams := org.TeamsOf(me)
	open, more, err := s.openIncidents(r, myTeams, now, loc)
	if err != nil {
		return err
	}
	data.Open, data.MoreOpen = open, more
	for _, rot := range org.Rotations {
		rn := rotationNow{Name: rot.Name, Team: rot.Team, ShadowOf: rot.ShadowOf, MyTeam: slices.Contains(myTeams, rot.Team)}
		if sh, ok := roster.OnCall(rot.Name, now); ok {
			v := s.shiftView(sh, loc, me)
			rn.Current = &v
			if nx, ok := roster.OnCall(rot.Name, sh.End); ok {
				nv := s.shiftView(nx, loc, me)
				rn.Next = &nv
			}
		} else {
			rn.NobodyOnCall = true
			if shs := roster.Shifts(rot.Name, now, now.Add(4*rota.Week)); len(shs) > 0 {
				nv := s.shiftView(shs[0], loc, me)
				rn.Next = &nv
			}
		}
		data.Rotations = append(data.Rotations, rn)
	}
	// Mine first, then my teams', then the rest.
	slices.SortStableFunc(data.Rotations, func(a, b rotationNow) int {
		rank := func(x rotationNow) int {
			switch {
			case x.Current != nil && x.Current.Mine:
				return 0
			case x.MyTeam:
				return 1
			}
			return 2
		}
		return rank(a) - rank(b)
	})
	if me != "" {
		for _, rot := range org.Rotations {
			if rot.ShadowOf != "" && !slices.Contains(rot.Members, me) || !roster.Pages(rot.Name) {
				continue
			}
			for _, sh := range roster.Shifts(rot.Name, now, now.Add(8*rota.Week)) {
				if sh.Person == me {
					data.MyShifts = append(data.MyShifts, s.shiftView(sh, loc, me))
				}
			}
		}
		slices.SortFunc(data.MyShifts, func(a, b shiftView) int { return strings.Compare(a.StartRFC, b.StartRFC) })
		y, m, d := now.In(loc).Date()
		data.MyTimeline = s.personTimeline(roster, me, time.Date(y, m, d, 0, 0, 0, 0, loc), 14, now, loc)
		if len(data.MyShifts) > 6 {
			data.MyShifts = data.MyShifts[:6]
		}
		if p := org.Person(me); p != nil && s.budgets != nil {
			for _, t := range org.Teams {
				if !slices.Contains(t.Members, me) {
					continue
				}
				weekFrom, offFrom := policy.BudgetWindows(p, t.SLO, now)
				week, off, err := s.budgets.BudgetFacts(r.Context(), me, weekFrom, offFrom, now)
				if err != nil {
					return err
				}
				st := policy.Account(p, t.SLO, week, off, now)
				b := budget{Team: t.Name, WeekPages: st.WeekPages, WeekBudget: st.WeekBudget, OffHours: st.OffHours, OffMax: st.OffBudget,
					OffDays: int(st.OffWindow / rota.Day), WeekBurned: st.WeekBurned, OffBurned: st.OffHoursBurn}
				for _, pg := range off {
					if pg.OffHours && !slices.Contains(b.Incidents, pg.IncidentID) {
						b.Incidents = append(b.Incidents, pg.IncidentID)
					}
				}
				data.Budgets = append(data.Budgets, b)
			}
		}
		data.Calendar = r.URL.Query().Get("calendar")
	}
	data.Deaf = deafServices(org)
	if me != "" {
		var err error
		if data.Teams, err = s.teamHealth(r, org.ManagedTeams(me), now, loc); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "now", "Now", "now", data)
}

// memberHealth is one member's budgets this week, as a manager's Now
// shows them.
type memberHealth struct {
	Person, Name                            string
	WeekPages, WeekBudget, OffHours, OffMax int
	OffDays                                 int
	// State says it in words; Rank orders the worst first.
	State string
	Rank  int
}

// teamHealth is a managed team at a glance: who is over or at budget,
// what is open on its services, and when its rotations have nobody on
// call in the next 14 days.
type teamHealth struct {
	Team             string
	Members          []memberHealth
	Over, AtBudget   int
	Triggered, Acked int
	Gaps             []string
	LookaheadDay     int
}

// gapLookahead is how far ahead a manager's Now looks for coverage gaps.
const gapLookahead = 14 * rota.Day

// teamHealth computes the health of the teams a manager manages.
func (s *Server) teamHealth(r *http.Request, teams []string, now time.Time, loc *time.Location) ([]teamHealth, error) {
	if len(teams) == 0 {
		return nil, nil
	}
	roster := s.book.Roster()
	org := roster.Org()
	var out []teamHealth
	for _, name := range teams {
		t := org.Team(name)
		if t == nil {
			continue
		}
		h := teamHealth{Team: t.Name, LookaheadDay: int(gapLookahead / rota.Day)}
		if s.budgets != nil {
			for _, m := range t.Members {
				p := org.Person(m)
				if p == nil {
					continue
				}
				weekFrom, offFrom := policy.BudgetWindows(p, t.SLO, now)
				week, off, err := s.budgets.BudgetFacts(r.Context(), m, weekFrom, offFrom, now)
				if err != nil {
					return nil, err
				}
				st := policy.Account(p, t.SLO, week, off, now)
				mh := memberHealth{Person: m, Name: p.Display(), WeekPages: st.WeekPages, WeekBudget: st.WeekBudget, OffHours: st.OffHours,
					OffMax: st.OffBudget, OffDays: int(st.OffWindow / rota.Day), State: "within budget", Rank: 2}
				switch {
				case st.WeekBurned || st.OffHoursBurn:
					mh.State, mh.Rank = "over budget", 0
					h.Over++
				case st.WeekBudget > 0 && st.WeekPages >= st.WeekBudget, st.OffBudget > 0 && st.OffHours >= st.OffBudget:
					mh.State, mh.Rank = "at budget: the next one burns it", 1
					h.AtBudget++
				}
				h.Members = append(h.Members, mh)
			}
			slices.SortStableFunc(h.Members, func(a, b memberHealth) int {
				if a.Rank != b.Rank {
					return a.Rank - b.Rank
				}
				return (b.WeekPages + b.OffHours) - (a.WeekPages + a.OffHours)
			})
		}
		var services []string
		for _, svc := range org.Services {
			if svc.Team == t.Name {
				services = append(services, svc.Name)
			}
		}
		if len(services) > 0 {
			incs, err := s.alerts.Incidents(r.Context(), rota.IncidentFilter{Status: "open", Services: services, Limit: 500})
			if err != nil {
				return nil, err
			}
			for _, inc := range incs {
				if inc.Status == rota.StatusTriggered {
					h.Triggered++
				} else {
					h.Acked++
				}
			}
		}
		for _, g := range policy.CoverageGaps(t, roster, now, now.Add(gapLookahead)) {
			h.Gaps = append(h.Gaps, fmt.Sprintf("%s: nobody on call from %s to %s", g.Rotation, when(g.Start, loc), when(g.End, loc)))
		}
		out = append(out, h)
	}
	return out, nil
}

// issueMyCalendar serves POST /calendar: a new calendar URL for the
// caller (the old one stops working), shown once.
func (s *Server) issueMyCalendar(w http.ResponseWriter, r *http.Request) error {
	a := actorOf(r)
	if a.Person == "" || s.feeds == nil {
		return rota.Errorf(rota.EINVALID, "calendars are for people: sign in as one")
	}
	token, err := s.feeds.IssueFeedToken(r.Context(), "person", a.Person)
	if err != nil {
		return err
	}
	s.audit(r.Context(), a, "calendar.issue", "calendar of "+a.Person, "", "")
	https, _ := FeedURLs(s.settings.Load().PublicURL, "person", a.Person, token)
	if !strings.HasPrefix(https, "http") {
		https = "http://" + r.Host + https
	}
	// Both forms: webcal:// opens the calendar application that
	// subscribes; the http(s) one is for those that take a URL (Google
	// Calendar's "From URL").
	webcal := "webcal://" + strings.TrimPrefix(strings.TrimPrefix(https, "https://"), "http://")
	return s.render(w, r, http.StatusOK, "calendar", "Your calendar", "now", struct{ URL, Webcal string }{https, webcal})
}

// rotationsPage serves GET /rotations: every rotation, who is on call.
func (s *Server) rotationsPage(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	loc := s.zoneOf(r)
	roster := s.book.Roster()
	type row struct {
		Name, Team, Description string
		Current                 *shiftView
	}
	var rows []row
	for _, rot := range roster.Org().Rotations {
		rw := row{Name: rot.Name, Team: rot.Team, Description: rot.Description}
		if sh, ok := roster.OnCall(rot.Name, now); ok {
			v := s.shiftView(sh, loc, actorOf(r).Person)
			rw.Current = &v
		}
		rows = append(rows, rw)
	}
	return s.render(w, r, http.StatusOK, "rotations", "Rotations", "rotations", rows)
}

// rotationPage serves GET /rotations/{name}?from=&days=&weeks=: a
// timeline of days days (14 by default, at most 28) from the day from (a
// date in the rotation's zone; today by default), the shifts of weeks
// weeks from then listed once each with their gaps, overrides, and a form
// to create an override.
func (s *Server) rotationPage(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.rotation(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	weeks, days := 8, 14
	if v := q.Get("weeks"); v != "" {
		if weeks, err = strconv.Atoi(v); err != nil || weeks < 1 || weeks > 52 {
			return rota.FieldError("weeks", "must be 1 to 52, not %q", v)
		}
	}
	if v := q.Get("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil || days < 1 || days > tlMaxDay {
			return rota.FieldError("days", "must be 1 to %d, not %q", tlMaxDay, v)
		}
	}
	now := s.now()
	loc := rot.Location
	a := actorOf(r)
	roster := s.book.Roster()
	org := roster.Org()
	y, m, d := now.In(loc).Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if v := q.Get("from"); v != "" {
		day, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return rota.FieldError("from", "%q is not a date (2026-03-01)", v)
		}
		from = day
	}
	type listed struct {
		shiftView
		Gap bool
	}
	to := from.AddDate(0, 0, 7*weeks)
	var list []listed
	cursor := from
	if rot.Start.After(cursor) {
		cursor = rot.Start // nobody is missing before the rotation begins
	}
	for _, sh := range roster.Shifts(rot.Name, from, to) {
		if sh.Start.After(cursor) {
			list = append(list, listed{shiftView: shiftView{Start: when(cursor, loc), End: when(sh.Start, loc)}, Gap: true})
		}
		list = append(list, listed{shiftView: s.shiftView(sh, loc, a.Person)})
		if sh.End.After(cursor) {
			cursor = sh.End
		}
	}
	if cursor.Before(to) && !rot.Start.After(to) {
		list = append(list, listed{shiftView: shiftView{Start: when(cursor, loc), End: when(to, loc)}, Gap: true})
	}
	tl := s.timeline(roster, rot, from, days, now, loc, a.Person)
	manager := s.canManage(a, rot.Team) == nil
	var people []string
	if manager {
		for _, p := range org.People {
			people = append(people, p.Name)
		}
	} else if a.Person != "" {
		people = []string{a.Person}
	}
	var ovs []overrideView
	for _, o := range roster.Overrides(rot.Name) {
		if o.End.After(now) {
			ovs = append(ovs, overrideView{ID: o.ID, Person: o.Person, Start: when(o.Start, loc), End: when(o.End, loc), Reason: o.Reason, By: o.CreatedBy,
				Deletable: manager || o.Person == a.Person && strings.HasPrefix(o.CreatedBy, a.Person+" (")})
		}
	}
	data := struct {
		Rotation         *rota.Rotation
		Zone             string
		Timeline         timelineView
		Shifts           []listed
		ListFrom, ListTo string
		Overrides        []overrideView
		People           []string
		Me               string
		Manager          bool
		Start            string
		End              string
	}{rot, loc.String(), tl, list, from.Format("Mon 2 Jan 2006"), to.Add(-time.Second).Format("Mon 2 Jan 2006"), ovs, people, a.Person, manager,
		now.In(loc).Truncate(time.Hour).Add(time.Hour).Format("2006-01-02T15:04"), now.In(loc).Truncate(time.Hour).Add(25 * time.Hour).Format("2006-01-02T15:04")}
	return s.render(w, r, http.StatusOK, "rotation", "Rotation "+rot.Name, "rotations", data)
}

type overrideView struct {
	ID                         int64
	Person, Start, End, Reason string
	By                         string
	Deletable                  bool
}

// overrideForm serves POST /rotations/{name}/overrides: start and end are
// local times in the rotation's zone (a datetime-local input).
func (s *Server) overrideForm(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.rotation(r)
	if err != nil {
		return err
	}
	o := rota.Override{Rotation: rot.Name, Person: r.PostFormValue("person"), Reason: r.PostFormValue("reason")}
	if o.Start, err = localTime("start", r.PostFormValue("start"), rot.Location); err != nil {
		return err
	}
	if o.End, err = localTime("end", r.PostFormValue("end"), rot.Location); err != nil {
		return err
	}
	if err := rota.CheckText("reason", o.Reason); err != nil {
		return err
	}
	if err := s.addOverride(r, rot, &o); err != nil {
		return err
	}
	return backTo(w, r, "/rotations/"+rot.Name, fmt.Sprintf("Override %d: %s is on call %s to %s.", o.ID, o.Person, when(o.Start, rot.Location), when(o.End, rot.Location)))
}

// deleteOverrideForm serves POST /overrides/{id}/delete.
func (s *Server) deleteOverrideForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	o, err := s.removeOverride(r, id)
	if err != nil {
		return err
	}
	return backTo(w, r, "/rotations/"+o.Rotation, fmt.Sprintf("Override %d deleted.", o.ID))
}

// localTime reads a datetime-local value ("2026-03-10T09:00") in loc. A
// wall time that does not exist (a spring-forward gap) is refused; one
// that happens twice takes its first occurrence.
func localTime(field, v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, rota.FieldError(field, "is required")
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, loc)
	if err != nil {
		return time.Time{}, rota.FieldError(field, "%q is not a date and time such as 2026-03-10T09:00", v)
	}
	if t.Format("2006-01-02T15:04") != v {
		return time.Time{}, rota.FieldError(field, "%s does not exist in %s (the clocks skip it)", v, loc)
	}
	return t, rota.CheckTime(field, t)
}

// incidentsPage serves GET /incidents?status=&team=&service=&paged=: open
// and recent incidents; team=mine is the viewer's teams', paged=me those
// that paged the viewer.
func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	org := s.book.Roster().Org()
	f, err := s.incidentFilter(r)
	if err != nil {
		return err
	}
	team := q.Get("team")
	if team != "" {
		teams := []string{team}
		if team == "mine" {
			teams = org.TeamsOf(actorOf(r).Person)
		} else if org.Team(team) == nil {
			return rota.FieldError("team", "no team named %q", team)
		}
		f.Services = []string{}
		for _, svc := range org.Services {
			if slices.Contains(teams, svc.Team) {
				f.Services = append(f.Services, svc.Name)
			}
		}
	}
	incs, err := s.alerts.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	loc := s.zoneOf(r)
	type row struct {
		ID                                   int64
		Service, Team, Summary, Severity, At string
		Status                               rota.Status
		Alerts                               int
		AckedBy, ResolvedBy                  string
	}
	rows := make([]row, len(incs))
	for i, inc := range incs {
		rows[i] = row{ID: inc.ID, Service: inc.Service, Summary: inc.Summary, Severity: inc.Severity, At: when(inc.CreatedAt, loc), Status: inc.Status,
			Alerts: inc.AlertCount, AckedBy: inc.AckedBy, ResolvedBy: inc.ResolvedBy}
		if svc := org.Service(inc.Service); svc != nil {
			rows[i].Team = svc.Team
		}
	}
	var teams, services []string
	for _, t := range org.Teams {
		teams = append(teams, t.Name)
	}
	for _, svc := range org.Services {
		services = append(services, svc.Name)
	}
	data := struct {
		Rows                  []row
		Teams, Services       []string
		Status, Team, Service string
		PagedMe               bool
		More                  int64
		StatusChoices         []string
	}{Rows: rows, Teams: teams, Services: services, Status: f.Status, Team: team, Service: f.Service, PagedMe: f.PagedTo != "",
		StatusChoices: []string{"open", "triggered", "acknowledged", "resolved"}}
	if len(incs) == f.Limit {
		data.More = incs[len(incs)-1].ID
	}
	return s.render(w, r, http.StatusOK, "incidents", "Incidents", "incidents", data)
}

// openIncident is an open incident as Now lists it.
type openIncident struct {
	ID                              int64
	Service, Summary, Severity, Age string
	Status                          rota.Status
	Next                            string
	Mine                            bool
}

// openIncidents lists the open incidents for Now: triggered before
// acknowledged, those of the viewer's teams first, oldest first within
// (the longest wait at the top), each with its age and what happens next;
// at most openOnNow of them, and how many more there are.
func (s *Server) openIncidents(r *http.Request, myTeams []string, now time.Time, loc *time.Location) ([]openIncident, int, error) {
	incs, err := s.alerts.Incidents(r.Context(), rota.IncidentFilter{Status: "open", Limit: 500})
	if err != nil {
		return nil, 0, err
	}
	org := s.book.Roster().Org()
	var out []openIncident
	for _, inc := range incs {
		o := openIncident{ID: inc.ID, Service: inc.Service, Summary: inc.Summary, Severity: inc.Severity, Status: inc.Status,
			Age: rota.FormatDuration(now.Sub(inc.CreatedAt).Truncate(time.Minute))}
		if now.Sub(inc.CreatedAt) < time.Minute {
			o.Age = "just now"
		}
		if svc := org.Service(inc.Service); svc != nil {
			o.Mine = slices.Contains(myTeams, svc.Team)
		}
		switch {
		case inc.Status == rota.StatusAcknowledged:
			o.Next = "acknowledged by " + inc.AckedBy
		case !inc.Escalation.DueAt.IsZero():
			o.Next = fmt.Sprintf("step %d at %s", inc.Escalation.Step+1, whenSeconds(inc.Escalation.DueAt, loc))
		case inc.Escalation.State == rota.EscalationExhausted:
			o.Next = "policy run out: nobody acknowledged"
		}
		out = append(out, o)
	}
	slices.SortStableFunc(out, func(a, b openIncident) int {
		rank := func(o openIncident) int {
			r := 0
			if o.Status != rota.StatusTriggered {
				r += 2
			}
			if !o.Mine {
				r++
			}
			return r
		}
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return int(a.ID - b.ID)
	})
	more := 0
	if len(out) > openOnNow {
		more, out = len(out)-openOnNow, out[:openOnNow]
	}
	return out, more, nil
}

// openOnNow bounds the open incidents Now lists (the incidents page has
// them all).
const openOnNow = 20

// incidentPage serves GET /incidents/{id}: the incident, its alerts, its
// timeline, who was notified how, and what the caller may do.
func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	d, err := s.incidentDetail(r, id)
	if err != nil {
		return err
	}
	loc := s.zoneOf(r)
	type line struct{ At, Kind, Actor, Message string }
	type note struct{ Person, Channel, Status, Sent, Error, Reason string }
	type alert struct {
		ID                          int64
		Summary, Status, Source, At string
	}
	data := struct {
		Incident        incidentDetailJSON
		Team, Created   string
		Timeline        []line
		Notes           []note
		Alerts          []alert
		CanRespond      bool
		CanEscalate     bool
		Acked, Resolved string
		// AssignedTo and Next: who has it, and what happens next when.
		AssignedTo, Next, Zone string
	}{Incident: d, Created: when(d.CreatedAt, loc), Acked: when(d.AckedAt, loc), Resolved: when(d.ResolvedAt, loc),
		AssignedTo: strings.Join(d.AssignedTo, ", "), Zone: loc.String()}
	if e := d.Escalation; d.Status == rota.StatusTriggered && !e.DueAt.IsZero() {
		data.Next = fmt.Sprintf("step %d of policy %s (round %d) at %s", e.NextStep, e.Policy, e.Round, whenSeconds(e.DueAt, loc))
	} else if d.Status == rota.StatusTriggered && e.State == rota.EscalationExhausted {
		data.Next = fmt.Sprintf("nothing: policy %s has run every step (escalate to start it again)", e.Policy)
	}
	if svc := s.book.Roster().Org().Service(d.Service); svc != nil {
		data.Team = svc.Team
	}
	data.CanRespond = d.Status != rota.StatusResolved && s.mayAct(r, id)
	data.CanEscalate = data.CanRespond && d.Escalation.State != rota.EscalationExhausted
	for _, e := range d.Timeline {
		actor := e.Actor
		if strings.Contains(e.Message, actor) {
			actor = "" // the message names them already
		}
		data.Timeline = append(data.Timeline, line{whenSeconds(e.At, loc), e.Kind, actor, e.Message})
	}
	for _, n := range d.Notifications {
		status := n.Status
		if n.Logged {
			status = "logged (no provider configured)"
		}
		data.Notes = append(data.Notes, note{n.Person, string(n.Channel), status, whenSeconds(n.SentAt, loc), n.LastError, n.Reason})
	}
	for _, a := range d.AlertList {
		data.Alerts = append(data.Alerts, alert{a.ID, a.Summary, string(a.Status), a.Source, when(a.CreatedAt, loc)})
	}
	return s.render(w, r, http.StatusOK, "incident", fmt.Sprintf("Incident %d", id), "incidents", data)
}

// incidentForm serves POST /incidents/{id}/ack and /resolve.
func (s *Server) incidentForm(action rota.Action) pageFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := idParam(r, "id")
		if err != nil {
			return err
		}
		res, err := s.pager.Act(r.Context(), paging.Act{Actor: actorOf(r), Action: action, Incident: id})
		if err != nil {
			return err
		}
		return backTo(w, r, fmt.Sprintf("/incidents/%d", id), actedNote(res, action))
	}
}

// actedNote says what an act did, for the page the browser goes back to.
func actedNote(res paging.Acted, action rota.Action) string {
	inc := res.Incident
	switch {
	case !res.Changed:
		return fmt.Sprintf("Incident %d was already %s (by %s): nothing changed.", inc.ID, inc.Status, inc.AckedBy)
	case action == rota.ActionAcknowledge:
		return fmt.Sprintf("Incident %d acknowledged: its escalation stopped and its pending pages are cancelled.", inc.ID)
	case action == rota.ActionEscalate:
		return fmt.Sprintf("Incident %d escalated: step %d of policy %s runs now; the timeline below says whom it pages.", inc.ID, inc.Escalation.Step+1, inc.Policy.Name)
	}
	return fmt.Sprintf("Incident %d resolved, with its alerts: its pending pages are cancelled.", inc.ID)
}

// mayAct says whether the caller may act on incident id (the page offers
// its buttons then).
func (s *Server) mayAct(r *http.Request, id int64) bool {
	inc, err := s.alerts.Incident(r.Context(), id)
	if err != nil {
		return false
	}
	_, err = s.pager.MayAct(r.Context(), actorOf(r), inc)
	return err == nil
}

// swapsPage serves GET /swaps: my proposals sent and received (and, for
// managers, their teams'), with the form to propose one.
func (s *Server) swapsPage(w http.ResponseWriter, r *http.Request) error {
	a := actorOf(r)
	srs, err := s.swapsFor(r.Context(), a, a.Role >= rota.RoleManager)
	if err != nil {
		return err
	}
	loc := s.zoneOf(r)
	org := s.book.Roster().Org()
	type row struct {
		ID                                   int64
		Rotation, Proposer, Partner, Reason  string
		ProposerShift, PartnerShift, Decided string
		Status                               rota.SwapStatus
		CanAccept, CanDecline, CanCancel     bool
	}
	var rows []row
	for _, sr := range srs {
		manager := false
		if rot := org.Rotation(sr.Rotation); rot != nil {
			manager = s.canManage(a, rot.Team) == nil
		}
		open := sr.Status == rota.SwapProposed
		rw := row{ID: sr.ID, Rotation: sr.Rotation, Proposer: sr.Proposer, Partner: sr.Partner, Reason: sr.Reason, Status: sr.Status,
			ProposerShift: when(sr.ProposerShift.Start, loc) + " to " + when(sr.ProposerShift.End, loc),
			PartnerShift:  when(sr.PartnerShift.Start, loc) + " to " + when(sr.PartnerShift.End, loc),
			CanAccept:     open && a.Person == sr.Partner, CanDecline: open && (a.Person == sr.Partner || manager),
			CanCancel: open && (a.Person == sr.Proposer || manager)}
		if sr.DecidedAt != nil {
			rw.Decided = when(*sr.DecidedAt, loc) + " by " + sr.DecidedBy
		}
		rows = append(rows, rw)
	}
	// The shifts one can offer and ask for: my next real ones (on a
	// rotation that pages, or a layer of a schedule that does), and the
	// chosen partner's on the same rotations.
	type option struct{ Value, Label string }
	now := s.now()
	roster := s.book.Roster()
	var shared []*rota.Rotation
	partners := map[string]bool{}
	for _, rot := range org.Rotations {
		if rot.ShadowOf != "" || rot.IsSchedule() || !slices.Contains(rot.Members, a.Person) || !tradable(roster, rot) {
			continue
		}
		shared = append(shared, rot)
		for _, m := range rot.Members {
			if m != a.Person {
				partners[m] = true
			}
		}
	}
	var people []string
	for p := range partners {
		people = append(people, p)
	}
	slices.Sort(people)
	partner := r.URL.Query().Get("partner")
	if partner == "" && len(people) == 1 {
		partner = people[0]
	}
	if partner != "" && !partners[partner] {
		return rota.FieldError("partner", "%q shares no rotation with you", partner)
	}
	const offered = 10
	var mine, theirs []option
	if partner != "" {
		for _, rot := range shared {
			if !slices.Contains(rot.Members, partner) {
				continue
			}
			for _, sh := range roster.Shifts(rot.Name, now, now.Add(12*rota.Week)) {
				if !sh.Start.After(now) || sh.IsOverride() {
					continue // under way, or an override: not the rotation's to trade
				}
				label := rot.Name + ": " + when(sh.Start, loc) + " to " + when(sh.End, loc)
				value := rot.Name + "|" + sh.Person + "|" + sh.Start.UTC().Format(time.RFC3339)
				switch sh.Person {
				case a.Person:
					mine = append(mine, option{value, label})
				case partner:
					theirs = append(theirs, option{value, label})
				}
			}
		}
		// Soonest first across rotations ("rotation|person|start").
		byStart := func(x, y option) int {
			return strings.Compare(x.Value[strings.LastIndex(x.Value, "|"):], y.Value[strings.LastIndex(y.Value, "|"):])
		}
		slices.SortStableFunc(mine, byStart)
		slices.SortStableFunc(theirs, byStart)
		mine, theirs = mine[:min(len(mine), offered)], theirs[:min(len(theirs), offered)]
	}
	data := struct {
		Rows         []row
		Partners     []string
		Partner      string
		Mine, Theirs []option
	}{rows, people, partner, mine, theirs}
	return s.render(w, r, http.StatusOK, "swaps", "Swaps", "swaps", data)
}

// tradable reports whether rot's shifts page someone: a policy pages it,
// or it is a layer of a schedule a policy pages.
func tradable(roster *scheduler.Roster, rot *rota.Rotation) bool {
	if roster.Pages(rot.Name) {
		return true
	}
	for _, sched := range roster.Org().Rotations {
		if sched.IsSchedule() && slices.Contains(sched.Layers, rot.Name) && roster.Pages(sched.Name) {
			return true
		}
	}
	return false
}

// proposeSwapForm serves POST /swaps: mine and theirs are shifts as the
// swaps page offers them ("rotation|person|start").
func (s *Server) proposeSwapForm(w http.ResponseWriter, r *http.Request) error {
	parse := func(field string) (rot, person, start string, err error) {
		parts := strings.Split(r.PostFormValue(field), "|")
		if len(parts) != 3 {
			return "", "", "", rota.FieldError(field, "choose a shift")
		}
		return parts[0], parts[1], parts[2], nil
	}
	rot, _, myStart, err := parse("mine")
	if err != nil {
		return err
	}
	rot2, partner, theirStart, err := parse("theirs")
	if err != nil {
		return err
	}
	if rot != rot2 {
		return rota.FieldError("theirs", "is on rotation %s, and your shift is on %s: a swap trades shifts of one rotation", rot2, rot)
	}
	sr, _, err := s.propose(r, proposeSwapRequest{Rotation: rot, Partner: partner, MyShiftStart: myStart, TheirShiftStart: theirStart, Reason: r.PostFormValue("reason")})
	if err != nil {
		return err
	}
	return backTo(w, r, "/swaps", fmt.Sprintf("Swap %d proposed to %s.", sr.ID, partner))
}

// decideSwapForm serves POST /swaps/{id}/{decision}: accept, decline or
// cancel.
func (s *Server) decideSwapForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	status, ok := map[string]rota.SwapStatus{"accept": rota.SwapAccepted, "decline": rota.SwapDeclined, "cancel": rota.SwapCancelled}[r.PathValue("decision")]
	if !ok {
		return rota.Errorf(rota.ENOTFOUND, "a swap is accepted, declined or cancelled, not %q", r.PathValue("decision"))
	}
	sr, _, err := s.decide(r, id, status)
	if err != nil {
		return err
	}
	return backTo(w, r, "/swaps", fmt.Sprintf("Swap %d %s.", sr.ID, sr.Status))
}

// tokensPage serves GET /tokens: my API tokens and my calendar.
func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) error {
	a := actorOf(r)
	if a.Person == "" {
		return rota.Errorf(rota.EINVALID, "tokens belong to people: sign in as one")
	}
	ts, err := s.identity.APITokens(r.Context(), a.Person)
	if err != nil {
		return err
	}
	loc := s.zoneOf(r)
	type row struct {
		ID                           int64
		Name, Created, Used, Revoked string
	}
	var rows []row
	for _, t := range ts {
		rw := row{ID: t.ID, Name: t.Name, Created: when(t.CreatedAt, loc)}
		if t.LastUsed != nil {
			rw.Used = when(*t.LastUsed, loc)
		}
		if t.RevokedAt != nil {
			rw.Revoked = when(*t.RevokedAt, loc)
		}
		rows = append(rows, rw)
	}
	hasCal := false
	if s.feeds != nil {
		if hasCal, err = s.feeds.HasFeedToken(r.Context(), "person", a.Person); err != nil {
			return err
		}
	}
	data := struct {
		Tokens   []row
		Secret   string
		Calendar bool
	}{rows, "", hasCal}
	return s.render(w, r, http.StatusOK, "tokens", "Tokens", "tokens", data)
}

// createTokenForm serves POST /tokens: the new token is shown once, on
// the answer's page (never in a URL).
func (s *Server) createTokenForm(w http.ResponseWriter, r *http.Request) error {
	a := actorOf(r)
	if a.Person == "" {
		return rota.Errorf(rota.EINVALID, "tokens belong to people: sign in as one")
	}
	secret, t, err := s.createTokenFor(r, a.Person, r.PostFormValue("name"))
	if err != nil {
		return err
	}
	data := struct {
		Name, Secret string
		ID           int64
	}{t.Name, secret, t.ID}
	return s.render(w, r, http.StatusCreated, "token", "New token", "tokens", data)
}

// revokeTokenForm serves POST /tokens/{id}/revoke.
func (s *Server) revokeTokenForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	t, err := s.revokeTokenFor(r, id)
	if err != nil {
		return err
	}
	return backTo(w, r, "/tokens", fmt.Sprintf("Token %q revoked.", t.Name))
}

// auditPage serves GET /audit?before=: the audit log the caller may read.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	q, err := s.auditQuery(r)
	if err != nil {
		return err
	}
	es, err := s.identity.AuditLog(r.Context(), q)
	if err != nil {
		return err
	}
	loc := s.zoneOf(r)
	type row struct{ At, Actor, Action, Subject, Team, Detail string }
	var rows []row
	for _, e := range es {
		rows = append(rows, row{when(e.At, loc), e.Actor, e.Action, e.Subject, e.Team, e.Detail})
	}
	data := struct {
		Rows []row
		More int64
	}{Rows: rows}
	if len(es) == q.Limit {
		data.More = es[len(es)-1].ID
	}
	return s.render(w, r, http.StatusOK, "audit", "Audit log", "audit", data)
}

package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
	"github.com/rotahq/rota/scheduler"
)

// ReportStore reads what human-SLO reports need.
type ReportStore interface {
	ReportData(ctx context.Context, q rota.ReportQuery) (rota.ReportData, error)
}

// maxReportRange bounds a report.
const maxReportRange = 400 * rota.Day

// HumanReport computes team's human-SLO report over [from, to), with how
// evenly it carried on-call by roster.
func HumanReport(ctx context.Context, rs ReportStore, roster *scheduler.Roster, team string, from, to time.Time) (policy.Report, error) {
	org := roster.Org()
	t := org.Team(team)
	if t == nil {
		return policy.Report{}, rota.FieldError("team", "no team named %q", team)
	}
	var services []string
	for _, s := range org.Services {
		if s.Team == t.Name {
			services = append(services, s.Name)
		}
	}
	data, err := rs.ReportData(ctx, rota.ReportQuery{Team: t.Name, People: t.Members, Services: services, From: from, To: to, OffHoursWindow: t.SLO.OffhoursWindow})
	if err != nil {
		return policy.Report{}, err
	}
	return policy.BuildReport(policy.ReportInput{Team: t, Org: org, From: from, To: to, Data: data, Roster: roster}), nil
}

// reportRange reads ?from= and ?to=: the last twelve weeks by default.
func (s *Server) reportRange(r *http.Request) (time.Time, time.Time, error) {
	to, err := timeParam(r, "to", s.now())
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	from, err := timeParam(r, "from", to.Add(-12*rota.Week))
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	switch {
	case !to.After(from):
		return time.Time{}, time.Time{}, rota.FieldError("to", "must be after from")
	case to.Sub(from) > maxReportRange:
		return time.Time{}, time.Time{}, rota.FieldError("from", "a report spans at most %s", rota.FormatDuration(maxReportRange))
	}
	return from.UTC(), to.UTC(), nil
}

// reportAuth admits a team's report to its managers and admins, and to
// holders of the team's report token (?token=), which a manager can hand
// to whoever needs the page without signing in.
func (s *Server) reportAuth(r *http.Request, team string) error {
	if tok := r.URL.Query().Get("token"); tok != "" && s.feeds != nil {
		ok, err := s.feeds.CheckFeedToken(r.Context(), "team", team, tok)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		return rota.Errorf(rota.EUNAUTHORIZED, "the report token is not valid for team %s", team)
	}
	if c := callerOf(r); c.actor.Anonymous() && c.problem != nil {
		return c.problem
	}
	return s.canManage(actorOf(r), team)
}

// humanReport serves GET /api/v1/reports/human?team=&from=&to=&format=.
func (s *Server) humanReport(w http.ResponseWriter, r *http.Request) error {
	team := r.URL.Query().Get("team")
	if c := callerOf(r); team == "" && c.actor.Anonymous() {
		return errSignIn
	}
	if team == "" {
		return rota.FieldError("team", "is required")
	}
	if err := s.reportAuth(r, team); err != nil {
		return err
	}
	from, to, err := s.reportRange(r)
	if err != nil {
		return err
	}
	rep, err := HumanReport(r.Context(), s.reports, s.book.Roster(), team, from, to)
	if err != nil {
		return err
	}
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		writeJSON(w, http.StatusOK, rep)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="rota-%s-%s.csv"`, team, to.Format("2006-01-02")))
		WriteReportCSV(w, rep)
	default:
		return rota.FieldError("format", "must be json or csv, not %q", f)
	}
	return nil
}

// WriteReportCSV writes one row per person and week: the week's pages
// (interruptions) against the budget, then the person's figures over the
// whole report.
func WriteReportCSV(w http.ResponseWriter, rep policy.Report) {
	cw := csv.NewWriter(w)
	cw.Write([]string{"team", "person", "name", "week_start", "pages", "budget", "over_budget", "pages_in_report", "incidents_in_report",
		"offhours_incidents", "sleep_hours_incidents", "offhours_incidents_in_window", "offhours_budget", "offhours_pages_avoided"})
	for _, p := range rep.People {
		for _, wk := range p.Weeks {
			cw.Write([]string{rep.Team, p.Person, p.Name, wk.Start.Format(time.RFC3339), strconv.Itoa(wk.Pages), strconv.Itoa(wk.Budget), strconv.FormatBool(wk.Over),
				strconv.Itoa(p.Pages), strconv.Itoa(p.Incidents), strconv.Itoa(p.OffHours), strconv.Itoa(p.Sleep), strconv.Itoa(p.OffHoursWindow),
				strconv.Itoa(rep.SLO.OffhoursIncidents), strconv.Itoa(p.Avoided)})
		}
	}
	cw.Flush()
}

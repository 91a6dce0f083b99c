package paging

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// BurnStore records burned budgets once per window.
type BurnStore interface {
	PersonPages(ctx context.Context, person string, since time.Time) ([]rota.Page, error)
	OffHoursPages(ctx context.Context, person string, since time.Time) ([]rota.Page, error)
	RecordBurn(ctx context.Context, b rota.BurnRecord, rolling time.Duration) (bool, error)
	NthPage(ctx context.Context, person string, from, to time.Time, n int, offHours bool) (int64, error)
	UnknownOffHours(ctx context.Context, person string, from, to time.Time) (bool, error)
	HasBurn(ctx context.Context, team, person, budget string, window time.Time) (bool, error)
	CountTeamPages(ctx context.Context, people []string, from, to time.Time) (int, error)
}

// account checks the budgets a newly recorded page burns, for each team
// the person is in, and tells the team's managers, once per window.
func (e *Engine) account(ctx context.Context, page rota.Page) {
	if e.burns == nil {
		return
	}
	org := e.book.Roster().Org()
	p := org.Person(page.Person)
	if p == nil {
		return
	}
	for _, team := range org.Teams {
		if !member(team.Members, p.Name) {
			continue
		}
		slo := team.SLO
		// A page burns a budget when it is the one past it in its window:
		// asking the index for that page costs a few rows, whatever the
		// person's history. The pages themselves are read only then, to
		// name them.
		weekly, offHours, err := e.mayBurn(ctx, p, slo, page)
		if err != nil {
			e.log.Error("cannot account a page", "person", p.Name, "err", err)
			return
		}
		if !weekly && !offHours {
			e.teamWarning(ctx, team, page)
			continue
		}
		// Only what may burn is read: the week's pages, and the rolling
		// window's off-hours pages (not its months of daytime ones) when
		// that budget may burn.
		pages, err := e.burns.PersonPages(ctx, p.Name, policy.WeekStart(page.At, p.Location))
		if err == nil && offHours {
			var off []rota.Page
			off, err = e.burns.OffHoursPages(ctx, p.Name, page.At.Add(-slo.OffhoursWindow))
			pages = mergePages(pages, off)
		}
		if err != nil {
			e.log.Error("cannot account a page", "person", p.Name, "err", err)
			return
		}
		for _, b := range policy.Burns(p, team.Name, slo, pages, page) {
			if b.Budget == policy.BudgetOffHours && !offHours {
				continue // its window was not read whole
			}
			rolling := time.Duration(0)
			if b.Budget == policy.BudgetOffHours {
				rolling = slo.OffhoursWindow
			}
			first, err := e.burns.RecordBurn(ctx, rota.BurnRecord{Team: team.Name, Person: p.Name, Budget: b.Budget, Window: b.Window, At: b.At, Pages: b.Pages}, rolling)
			if err != nil {
				e.log.Error("cannot record a burn", "person", p.Name, "budget", b.Budget, "err", err)
				continue
			}
			if first {
				e.metrics.burns.WithLabelValues(team.Name, b.Budget).Inc()
				e.tellManagers(ctx, team, e.burnNotice(ctx, p, team, slo, b), page.IncidentID)
			}
		}
		e.teamWarning(ctx, team, page)
	}
}

// mergePages returns one person's pages a and b without the pages both
// hold.
func mergePages(a, b []rota.Page) []rota.Page {
	seen := make(map[int64]bool, len(a))
	for _, pg := range a {
		seen[pg.IncidentID] = true
	}
	for _, pg := range b {
		if !seen[pg.IncidentID] {
			seen[pg.IncidentID] = true
			a = append(a, pg)
		}
	}
	return a
}

// mayBurn reports which budgets page may be the one past: the weekly
// when it is the (limit+1)-th counted page of its ISO week; the off-hours
// when, off-hours, it is that of its rolling window, or the window has
// pages whose off-hours status is unknown.
func (e *Engine) mayBurn(ctx context.Context, p *rota.Person, slo rota.HumanSLO, page rota.Page) (weekly, offHours bool, err error) {
	id, err := e.burns.NthPage(ctx, p.Name, policy.WeekStart(page.At, p.Location), page.At, slo.PagesPerWeek+1, false)
	if err != nil {
		return true, true, err
	}
	weekly = id == page.IncidentID
	if !policy.OffHours(p, page.At) {
		return weekly, false, nil
	}
	from := page.At.Add(-slo.OffhoursWindow + time.Millisecond)
	if id, err = e.burns.NthPage(ctx, p.Name, from, page.At, slo.OffhoursIncidents+1, true); err != nil || id == page.IncidentID {
		return weekly, true, err
	}
	offHours, err = e.burns.UnknownOffHours(ctx, p.Name, from, page.At)
	return weekly, offHours, err
}

// teamWarning tells a team's managers, once a week, when the team has used
// 80% of its weekly page budget (pages_per_week for each member).
func (e *Engine) teamWarning(ctx context.Context, team *rota.Team, page rota.Page) {
	budget := team.SLO.PagesPerWeek * len(team.Members)
	if budget == 0 {
		return
	}
	ws := policy.WeekStart(page.At, team.Location)
	// Once warned this week, stop at a lookup; counting is cheap while
	// the team is under 80%, since that is few pages.
	if done, err := e.burns.HasBurn(ctx, team.Name, "", "team-weekly-80", ws); err != nil || done {
		return
	}
	n, err := e.burns.CountTeamPages(ctx, team.Members, ws, page.At)
	if err != nil || n*5 < budget*4 {
		return
	}
	// Record first: once warned this week, later pages stop here.
	first, err := e.burns.RecordBurn(ctx, rota.BurnRecord{Team: team.Name, Budget: "team-weekly-80", Window: ws, At: page.At}, 0)
	if err != nil || !first {
		return
	}
	var pages []rota.Page
	for _, m := range team.Members {
		ps, err := e.burns.PersonPages(ctx, m, ws)
		if err != nil {
			return
		}
		for _, pg := range ps {
			if policy.Counted(pg) && !pg.At.After(page.At) {
				pages = append(pages, pg)
			}
		}
	}
	e.metrics.burns.WithLabelValues(team.Name, "team-weekly-80").Inc()
	text := fmt.Sprintf("rota: team %s has used %d of its %d pages this week (%d%%): its people are being worn down. %s",
		team.Name, len(pages), budget, 100*len(pages)/budget, e.pageSummary(ctx, pages, team.Location))
	e.tellManagers(ctx, team, text, page.IncidentID)
}

func (e *Engine) burnNotice(ctx context.Context, p *rota.Person, team *rota.Team, slo rota.HumanSLO, b policy.Burn) string {
	what := fmt.Sprintf("%d pages this week, budget %d", len(b.Pages), b.Limit)
	if b.Budget == policy.BudgetOffHours {
		what = fmt.Sprintf("%d incidents outside business hours in %s, budget %d", len(b.Pages), rota.FormatDuration(slo.OffhoursWindow), b.Limit)
	}
	return fmt.Sprintf("rota: %s (team %s) burned the %s human budget: %s. %s", p.Display(), team.Name, budgetName(b.Budget), what, e.pageSummary(ctx, b.Pages, p.Location))
}

func budgetName(b string) string {
	if b == policy.BudgetOffHours {
		return "off-hours"
	}
	return b
}

// pageSummary lists pages and the services that caused them.
func (e *Engine) pageSummary(ctx context.Context, pages []rota.Page, loc *time.Location) string {
	services := map[string]int{}
	var items []string
	for _, pg := range pages {
		a, err := e.store.Incident(ctx, pg.IncidentID)
		if err != nil {
			continue
		}
		services[a.Service]++
		items = append(items, fmt.Sprintf("#%d %s %q %s", a.ID, a.Service, truncate(a.Summary, 40), pg.At.In(loc).Format("Mon 15:04")))
	}
	var svc []string
	for s, n := range services {
		svc = append(svc, fmt.Sprintf("%s (%d)", s, n))
	}
	sort.Strings(svc)
	return "Pages: " + strings.Join(items, "; ") + ". Services: " + strings.Join(svc, ", ") + "."
}

// tellManagers tells each of a team's managers, and notes it on the alert.
func (e *Engine) tellManagers(ctx context.Context, team *rota.Team, text string, alertID int64) {
	var told []string
	for _, m := range team.Managers {
		if ch, err := e.Tell(ctx, m, text); err == nil {
			told = append(told, m+" by "+ch)
		}
	}
	e.log.Warn("human budget notice", "team", team.Name, "text", text, "told", told)
	if len(told) == 0 {
		told = []string{"nobody (no manager with a webhook, Slack or SMS contact)"}
	}
	_ = e.store.RecordDeliveries(ctx, []rota.Delivery{{Outcome: rota.DeliveryNote, Events: []rota.IncidentEvent{{
		IncidentID: alertID, At: e.now(), Kind: rota.EventBurn, Message: "human budget: " + strings.TrimPrefix(text, "rota: ") + " Told " + strings.Join(told, ", ") + "."}}}})
}

func member(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

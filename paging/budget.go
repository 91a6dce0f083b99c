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

// BurnStore is what accounting pages against human budgets needs of the
// database.
type BurnStore interface {
	// PendingAccounting lists the interruptions and off-hours incidents
	// recorded but not yet accounted, oldest first.
	PendingAccounting(ctx context.Context, limit int) ([]rota.AccountItem, error)
	// BudgetFacts reads a person's interruptions in [weekFrom, at] and
	// off-hours incidents in (offFrom, at]: all a burn is decided from.
	BudgetFacts(ctx context.Context, person string, weekFrom, offFrom, at time.Time) (week, offHours []rota.Page, err error)
	// RecordAccounting records burns once per window, with their
	// notices and notes when new, and marks the item accounted, in one
	// transaction.
	RecordAccounting(ctx context.Context, id int64, burns []rota.BurnNotice) ([]bool, error)
	// HasBurn, CountInterruptions and Interruptions serve the team's
	// weekly warning; HasBurn and BurnedSince also spare composing a
	// burn's notice when the burn is recorded already.
	HasBurn(ctx context.Context, team, person, budget string, window time.Time) (bool, error)
	BurnedSince(ctx context.Context, team, person, budget string, since time.Time) (bool, error)
	CountInterruptions(ctx context.Context, people []string, from, to time.Time) (int, error)
	Interruptions(ctx context.Context, people []string, from, to time.Time) ([]rota.Page, error)
	// PersonPages lists the incidents that reached a person since a time.
	PersonPages(ctx context.Context, person string, since time.Time) ([]rota.Page, error)
	// UnknownOffHours and SetOffHours judge pages recorded before their
	// off-hours status was kept.
	UnknownOffHours(ctx context.Context, limit int) ([]rota.Page, error)
	SetOffHours(ctx context.Context, pages []rota.Page) error
}

// judgeOldPages gives pages recorded before their off-hours status was
// kept (schema 10) one, by their person's hours of now: from then on they
// count as what they were.
func (e *Engine) judgeOldPages(ctx context.Context) error {
	org := e.book.Roster().Org()
	for {
		pages, err := e.burns.UnknownOffHours(ctx, 1000)
		if err != nil || len(pages) == 0 {
			return err
		}
		for i := range pages {
			if p := org.Person(pages[i].Person); p != nil {
				pages[i].OffHours = policy.OffHours(p, pages[i].At)
			}
		}
		if err := e.burns.SetOffHours(ctx, pages); err != nil {
			return err
		}
		if len(pages) < 1000 {
			return nil
		}
	}
}

// accountBatch is how many items one pass of accounting reads.
const accountBatch = 500

// accountPending accounts every recorded page not yet accounted: the
// engine's round does it as it delivers due notifications, so a crash
// between recording a page and accounting it delays accounting, never
// loses it. An item that fails stays queued for the next round.
func (e *Engine) accountPending(ctx context.Context) (int, error) {
	if e.burns == nil {
		return 0, nil
	}
	e.judgeOnce.Do(func() {
		if err := e.judgeOldPages(ctx); err != nil {
			e.log.Error("cannot judge old pages' hours", "err", err)
		}
	})
	items, err := e.burns.PendingAccounting(ctx, accountBatch)
	if err != nil {
		return 0, err
	}
	done := 0
	var first error
	facts := e.newFacts(items)
	for _, it := range items {
		start := time.Now()
		burns, err := e.decideBurns(ctx, it, facts)
		if err == nil {
			var fresh []bool
			if fresh, err = e.burns.RecordAccounting(ctx, it.ID, burns); err == nil {
				e.announce(burns, fresh)
			}
		}
		if err != nil {
			// Stays queued for the next pass; the others go on.
			e.log.Error("cannot account a page", "person", it.Person, "incident", it.IncidentID, "err", err)
			if first == nil {
				first = fmt.Errorf("account %s's page of incident %d: %w", it.Person, it.IncidentID, err)
			}
			continue
		}
		done++
		e.metrics.accounting.Observe(time.Since(start).Seconds())
	}
	return done, first
}

// budgetFacts reads each person's budget facts once for a pass of
// accounting, over the span all their items need, and gives each item its
// own window of them: in a storm at night, a person's items would each
// read every off-hours incident of six months again.
type budgetFacts struct {
	store BurnStore
	span  map[string]*factSpan
}

// factSpan is the span a person's items need, and the facts once read.
type factSpan struct {
	weekFrom, offFrom, at time.Time
	read                  bool
	week, off             []rota.Page
}

// newFacts spans, for each person, the windows of all their items on all
// their teams.
func (e *Engine) newFacts(items []rota.AccountItem) *budgetFacts {
	f := &budgetFacts{store: e.burns, span: map[string]*factSpan{}}
	org := e.book.Roster().Org()
	for _, it := range items {
		p := org.Person(it.Person)
		if p == nil {
			continue
		}
		for _, team := range org.Teams {
			if !member(team.Members, p.Name) {
				continue
			}
			week, off := policy.BudgetWindows(p, team.SLO, it.At)
			s := f.span[p.Name]
			if s == nil {
				f.span[p.Name] = &factSpan{weekFrom: week, offFrom: off, at: it.At}
				continue
			}
			s.weekFrom, s.offFrom = minTime(s.weekFrom, week), minTime(s.offFrom, off)
			if it.At.After(s.at) {
				s.at = it.At
			}
		}
	}
	return f
}

// get returns person's interruptions in [weekFrom, at] and off-hours
// incidents in (offFrom, at], oldest first, from one read of their span
// (or a read of their own, for a window outside it).
func (f *budgetFacts) get(ctx context.Context, person string, weekFrom, offFrom, at time.Time) (week, off []rota.Page, err error) {
	s := f.span[person]
	if s == nil || weekFrom.Before(s.weekFrom) || offFrom.Before(s.offFrom) || at.After(s.at) {
		return f.store.BudgetFacts(ctx, person, weekFrom, offFrom, at)
	}
	if !s.read {
		if s.week, s.off, err = f.store.BudgetFacts(ctx, person, s.weekFrom, s.offFrom, s.at); err != nil {
			return nil, nil, err
		}
		s.read = true
	}
	for _, pg := range s.week {
		if !pg.At.Before(weekFrom) && !pg.At.After(at) {
			week = append(week, pg)
		}
	}
	for _, pg := range s.off {
		if pg.At.After(offFrom) && !pg.At.After(at) {
			off = append(off, pg)
		}
	}
	return week, off, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// announce counts and logs the burns recorded for the first time, and
// wakes the delivery loop for their notices.
func (e *Engine) announce(burns []rota.BurnNotice, fresh []bool) {
	for i, b := range burns {
		if fresh[i] {
			e.metrics.burns.WithLabelValues(b.Burn.Team, b.Burn.Budget).Inc()
			e.log.Warn("human budget notice", "team", b.Burn.Team, "person", b.Burn.Person, "budget", b.Burn.Budget, "text", b.Event.Message)
			e.Wake() // its notices are in the outbox
		}
	}
}

// tellUnreached tells the team's managers, once, of each incident whose
// escalation policy ran out with nobody reached: every step skipped or
// every notification failed. Nobody is on it, and somebody must know.
func (e *Engine) tellUnreached(ctx context.Context) error {
	incidents, err := e.store.Unreached(ctx)
	if err != nil {
		return err
	}
	for _, inc := range incidents {
		text := fmt.Sprintf("rota: incident #%d on %s (%s) reached nobody: its escalation policy %s ran out and no page was delivered. Nobody is on it.",
			inc.ID, inc.Service, truncate(inc.Summary, 80), inc.Policy.Name)
		first, told, err := e.tellManagers(ctx, inc, text, "nobody was reached")
		if err != nil {
			return err
		}
		if first {
			e.metrics.unreached.Inc()
			e.log.Error("incident reached nobody", "incident", inc.ID, "service", inc.Service, "told", told)
		}
	}
	exhausted, err := e.store.Exhausted(ctx)
	if err != nil {
		return err
	}
	for _, inc := range exhausted {
		rounds := inc.Escalation.Round + 1
		text := fmt.Sprintf("rota: incident #%d on %s (%s) is still unacknowledged: its escalation policy %s has run every step (%s). Escalate it to page the policy again, or take it.",
			inc.ID, inc.Service, truncate(inc.Summary, 80), inc.Policy.Name, pluralize(rounds, "1 round", fmt.Sprintf("%d rounds", rounds)))
		first, told, err := e.tellManagers(ctx, inc, text, "nobody acknowledged")
		if err != nil {
			return err
		}
		if first {
			e.log.Warn("escalation exhausted: managers told", "incident", inc.ID, "service", inc.Service, "told", told)
		}
	}
	return nil
}

// tellManagers tells the managers of an incident's team text, once per
// exhaustion of its policy, noting it on the timeline ("why: telling
// mara by email").
func (e *Engine) tellManagers(ctx context.Context, inc rota.Incident, text, why string) (bool, []string, error) {
	org := e.book.Roster().Org()
	var team *rota.Team
	if svc := org.Service(inc.Service); svc != nil {
		team = org.Team(svc.Team)
	}
	var notices []rota.Notification
	told := []string{"nobody (no manager has a contact method for text)"}
	if team != nil {
		n := e.notice(team, rota.BurnRecord{}, 0, text, rota.AccountItem{IncidentID: inc.ID})
		notices = n.Notices
		if len(notices) > 0 {
			told = told[:0]
			for _, m := range notices {
				told = append(told, m.Person+" by "+string(m.Channel))
			}
		}
	}
	first, err := e.store.RecordUnreached(ctx, inc.ID, notices, rota.IncidentEvent{IncidentID: inc.ID, Kind: rota.EventUnreached,
		Message: why + ": telling " + strings.Join(told, ", ")})
	if err != nil {
		return false, nil, err
	}
	if first {
		e.Wake()
	}
	return first, told, nil
}

// decideBurns decides what an accounted item burns, for each team its
// person is in, and the managers' notices of each burn.
func (e *Engine) decideBurns(ctx context.Context, it rota.AccountItem, facts *budgetFacts) ([]rota.BurnNotice, error) {
	org := e.book.Roster().Org()
	p := org.Person(it.Person)
	if p == nil {
		return nil, nil // no longer configured: nothing to hold them to
	}
	var out []rota.BurnNotice
	for _, team := range org.Teams {
		if !member(team.Members, p.Name) {
			continue
		}
		slo := team.SLO
		weekFrom, offFrom := policy.BudgetWindows(p, slo, it.At)
		week, off, err := facts.get(ctx, p.Name, weekFrom, offFrom, it.At)
		if err != nil {
			return nil, err
		}
		for _, b := range policy.Burns(p, team.Name, slo, it, week, off) {
			rolling := time.Duration(0)
			if b.Budget == policy.BudgetOffHours {
				rolling = slo.OffhoursWindow
			}
			// Burned already in this window: recording it again would
			// change nothing, so its notice is not composed (it reads
			// every incident of the window, and a storm at night would
			// read them again for every page). The off-hours window rolls:
			// a burn within it is the same burn, as RecordAccounting
			// decides.
			done, err := e.burns.HasBurn(ctx, team.Name, p.Name, b.Budget, b.Window)
			if err == nil && !done && rolling > 0 {
				done, err = e.burns.BurnedSince(ctx, team.Name, p.Name, b.Budget, b.At.Add(-rolling))
			}
			if err != nil {
				return nil, err
			}
			if done {
				continue
			}
			text := e.burnNotice(ctx, p, team, slo, b)
			out = append(out, e.notice(team, rota.BurnRecord{Team: team.Name, Person: p.Name, Budget: b.Budget, Window: b.Window, At: b.At, Pages: b.Pages},
				rolling, text, it))
		}
		if it.Interruption {
			w, err := e.teamWarning(ctx, team, it)
			if err != nil {
				return nil, err
			}
			if w != nil {
				out = append(out, *w)
			}
		}
	}
	return out, nil
}

// teamWarning decides whether a team's managers are warned, once a week,
// that the team has used 80% of its weekly budget (pages_per_week for each
// member).
func (e *Engine) teamWarning(ctx context.Context, team *rota.Team, it rota.AccountItem) (*rota.BurnNotice, error) {
	budget := team.SLO.PagesPerWeek * len(team.Members)
	if budget == 0 {
		return nil, nil
	}
	ws := policy.WeekStart(it.At, team.Location)
	// Once warned this week, stop at a lookup; counting is cheap while
	// the team is under 80%, since that is few interruptions.
	if done, err := e.burns.HasBurn(ctx, team.Name, "", policy.BudgetTeamWarning, ws); err != nil || done {
		return nil, err
	}
	n, err := e.burns.CountInterruptions(ctx, team.Members, ws, it.At)
	if err != nil || n*5 < budget*4 {
		return nil, err
	}
	pages, err := e.burns.Interruptions(ctx, team.Members, ws, it.At)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("rota: team %s has used %d of its %d pages this week (%d%%): its people are being worn down. %s",
		team.Name, len(pages), budget, 100*len(pages)/budget, e.incidentSummary(ctx, pages, team.Location))
	n2 := e.notice(team, rota.BurnRecord{Team: team.Name, Budget: policy.BudgetTeamWarning, Window: ws, At: it.At, Pages: pages}, 0, text, it)
	return &n2, nil
}

// notice is a burn with the notices to its team's managers, each by their
// first contact method that can carry text (not a call); when one fails
// for good, the outbox tries their next.
func (e *Engine) notice(team *rota.Team, b rota.BurnRecord, rolling time.Duration, text string, it rota.AccountItem) rota.BurnNotice {
	org := e.book.Roster().Org()
	out := rota.BurnNotice{Burn: b, Rolling: rolling}
	var told []string
	for _, m := range team.Managers {
		p := org.Person(m)
		if p == nil {
			continue
		}
		for ci, c := range p.Contacts {
			if c.Type == rota.ContactVoice {
				continue
			}
			out.Notices = append(out.Notices, rota.Notification{IncidentID: it.IncidentID, Person: m, Channel: c.Type, Address: c.Address,
				ContactIndex: ci, Status: rota.NotifyPending, Kind: rota.KindNotice, Body: text})
			told = append(told, m+" by "+string(c.Type))
			break
		}
	}
	if len(told) == 0 {
		told = []string{"nobody (no manager has a contact method for text)"}
	}
	out.Event = rota.IncidentEvent{IncidentID: it.IncidentID, Kind: rota.EventBurn,
		Message: "human budget: " + strings.TrimPrefix(text, "rota: ") + " Telling " + strings.Join(told, ", ") + "."}
	return out
}

func (e *Engine) burnNotice(ctx context.Context, p *rota.Person, team *rota.Team, slo rota.HumanSLO, b policy.Burn) string {
	what := fmt.Sprintf("%d pages this week, budget %d", len(b.Pages), b.Limit)
	if b.Budget == policy.BudgetOffHours {
		what = fmt.Sprintf("%d incidents outside business hours in %s, budget %d", len(b.Pages), rota.FormatDuration(slo.OffhoursWindow), b.Limit)
	}
	return fmt.Sprintf("rota: %s (team %s) burned the %s human budget: %s. %s", p.Display(), team.Name, budgetName(b.Budget), what, e.incidentSummary(ctx, b.Pages, p.Location))
}

func budgetName(b string) string {
	if b == policy.BudgetOffHours {
		return "off-hours"
	}
	return b
}

// incidentSummary lists the distinct incidents of pages and the services
// that caused them.
func (e *Engine) incidentSummary(ctx context.Context, pages []rota.Page, loc *time.Location) string {
	services := map[string]int{}
	seen := map[int64]bool{}
	var items []string
	ids := make([]int64, len(pages))
	for i, pg := range pages {
		ids[i] = pg.IncidentID
	}
	incidents, err := e.store.IncidentsByID(ctx, ids)
	if err != nil {
		e.log.Error("cannot read the incidents of a budget notice", "err", err)
	}
	for _, pg := range pages {
		if seen[pg.IncidentID] {
			continue
		}
		seen[pg.IncidentID] = true
		a, ok := incidents[pg.IncidentID]
		if !ok {
			continue
		}
		services[a.Service]++
		alerts := ""
		if a.AlertCount > 1 {
			alerts = fmt.Sprintf(" (%d alerts)", a.AlertCount)
		}
		items = append(items, fmt.Sprintf("#%d %s %q%s %s", a.ID, a.Service, truncate(a.Summary, 40), alerts, pg.At.In(loc).Format("Mon 15:04")))
	}
	var svc []string
	for s, n := range services {
		svc = append(svc, fmt.Sprintf("%s (%d)", s, n))
	}
	sort.Strings(svc)
	return fmt.Sprintf("Incidents (%d): %s. Services: %s.", len(items), strings.Join(items, "; "), strings.Join(svc, ", "))
}

func member(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package paging

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// SummarizeHandovers sends, at each handover of the last ten minutes not
// yet summarised, the outgoing and the incoming on-call the outgoing
// shift's pages, its off-hours pages, the team's open alerts and both
// people's budgets. Once per handover, recorded before sent.
func (e *Engine) SummarizeHandovers(ctx context.Context) {
	if e.burns == nil {
		return
	}
	now := e.now()
	roster := e.book.Roster()
	org := roster.Org()
	for _, rot := range org.Rotations {
		if rot.ShadowOf != "" {
			continue
		}
		in, ok := roster.OnCall(rot.Name, now)
		if !ok || now.Sub(in.Start) > 10*time.Minute {
			continue
		}
		out, ok := roster.OnCall(rot.Name, in.Start.Add(-time.Nanosecond))
		if !ok || out.Person == in.Person {
			continue
		}
		text, err := e.handoverText(ctx, rot, out, in, now)
		if err != nil {
			e.log.Error("cannot summarise a handover", "rotation", rot.Name, "err", err)
			continue
		}
		// Queued with the mark that it was, once across daemons.
		first, err := e.store.QueueReminder(ctx, rot.Name+"#handover", in.Person, in.Start, e.notices([]string{out.Person, in.Person}, text))
		if err != nil {
			e.log.Error("cannot queue a handover summary", "rotation", rot.Name, "err", err)
			continue
		}
		if first {
			e.Wake()
		}
	}
}

func (e *Engine) handoverText(ctx context.Context, rot *rota.Rotation, out, in rota.Shift, now time.Time) (string, error) {
	org := e.book.Roster().Org()
	// The outgoing shift's pages (interruptions) and the incidents that
	// reached them outside business hours.
	pages, err := e.burns.Interruptions(ctx, []string{out.Person}, out.Start, out.End.Add(-time.Millisecond))
	if err != nil {
		return "", err
	}
	reached, err := e.burns.PersonPages(ctx, out.Person, out.Start)
	if err != nil {
		return "", err
	}
	counted, off := len(pages), 0
	for _, pg := range reached {
		if pg.OffHours && pg.At.Before(out.End) {
			off++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rota handover on %s: %s hands over to %s. Last shift: %d %s, %d off-hours %s.", rot.Name, out.Person, in.Person,
		counted, pluralize(counted, "page", "pages"), off, pluralize(off, "incident", "incidents"))
	if team := org.Team(rot.Team); team != nil {
		var open []string
		for _, svc := range org.Services {
			if svc.Team != team.Name {
				continue
			}
			as, err := e.store.Incidents(ctx, rota.IncidentFilter{Status: "open", Service: svc.Name, Limit: 20})
			if err != nil {
				return "", err
			}
			for _, a := range as {
				open = append(open, fmt.Sprintf("#%d %s %s", a.ID, a.Service, truncate(a.Summary, 40)))
			}
		}
		if len(open) == 0 {
			b.WriteString(" No open alerts.")
		} else {
			fmt.Fprintf(&b, " Open: %s.", strings.Join(open, "; "))
		}
		for _, name := range []string{out.Person, in.Person} {
			p := org.Person(name)
			if p == nil {
				continue
			}
			weekFrom, offFrom := policy.BudgetWindows(p, team.SLO, now)
			week, offHours, err := e.burns.BudgetFacts(ctx, name, weekFrom, offFrom, now)
			if err != nil {
				return "", err
			}
			st := policy.Account(p, team.SLO, week, offHours, now)
			fmt.Fprintf(&b, " %s: %d/%d pages this week, %d/%d off-hours incidents in %s.", name, st.WeekPages, st.WeekBudget, st.OffHours, st.OffBudget, rota.FormatDuration(st.OffWindow))
		}
	}
	return b.String(), nil
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

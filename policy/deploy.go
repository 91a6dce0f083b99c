package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// MaxSourceLead bounds how much earlier than its receipt an alert's
// source may say it started and be believed: beyond that the clock or
// the payload is suspect, and the receipt time is used.
const MaxSourceLead = 24 * time.Hour

// AlertTime is the time deploy routing judges an alert by: when rota
// received it, or the source's start time if that is earlier and no more
// than MaxSourceLead before (a deploy rolled out after the problem began,
// but before the webhook arrived, did not cause it).
func AlertTime(received, sourceStart time.Time) time.Time {
	if sourceStart.IsZero() || !sourceStart.Before(received) || received.Sub(sourceStart) > MaxSourceLead {
		return received
	}
	return sourceStart
}

// Suspects returns the deploy an alert at t suspects: the most recent of
// deploys rolled out in (t - window, t]; and the others in that window,
// most recent first. Deploys after t, at or before t - window, or to other
// services than service are never suspected.
func Suspects(deploys []rota.Deploy, service string, t time.Time, window time.Duration) (*rota.Deploy, []rota.Deploy) {
	var in []rota.Deploy
	for _, d := range deploys {
		if d.Service == service && d.DeployedAt.After(t.Add(-window)) && !d.DeployedAt.After(t) {
			in = append(in, d)
		}
	}
	if len(in) == 0 {
		return nil, nil
	}
	best := 0
	for i, d := range in {
		if d.DeployedAt.After(in[best].DeployedAt) || d.DeployedAt.Equal(in[best].DeployedAt) && d.ID > in[best].ID {
			best = i
		}
	}
	suspect := in[best]
	others := append(append([]rota.Deploy(nil), in[:best]...), in[best+1:]...)
	return &suspect, others
}

// WithDeployRouting returns the policy an alert on svc escalates with,
// given whether it suspects a deploy: author-first (the default) puts a
// step paging the deploy's author first, alone for the service's grace
// (DeployGrace; unset, the policy's first delay, at most
// DefaultDeployGrace); with-oncall pages them alongside the first step.
// The added step is not repeated. A policy that names deploy-author in a
// step already says where the author is paged, and is left as it is.
func WithDeployRouting(p rota.EscalationPolicy, svc *rota.Service, suspect bool) rota.EscalationPolicy {
	mode := rota.DeployAuthorFirst
	if svc != nil && svc.DeployRouting != "" {
		mode = svc.DeployRouting
	}
	if !suspect || mode == rota.DeployOff || len(p.Steps) == 0 {
		return p
	}
	for _, s := range p.Steps {
		for _, t := range s.Targets {
			if t.Kind == rota.TargetDeployAuthor {
				return p
			}
		}
	}
	step := rota.EscalationStep{Targets: []rota.Target{{Kind: rota.TargetDeployAuthor}}, FirstRoundOnly: true}
	if mode != rota.DeployWithOnCall {
		step.Delay = min(p.Steps[0].Delay, rota.DefaultDeployGrace)
		if svc != nil && svc.DeployGrace > 0 {
			step.Delay = svc.DeployGrace
		}
	}
	p.Steps = append([]rota.EscalationStep{step}, p.Steps...)
	return p
}

// deployReason says why a deploy's author or merger is paged.
func deployReason(d *rota.Deploy, role string, now time.Time) string {
	what := d.ShortCommit()
	if what == "" {
		what = fmt.Sprintf("%q", d.Summary)
	}
	ago := minutesAgo(d.DeployedAt, now)
	var s string
	if role == "author" {
		s = fmt.Sprintf("you deployed %s %s", what, ago)
		if d.MergedBy != "" && !strings.EqualFold(d.MergedBy, d.Author) {
			s += " (merged by " + d.MergedBy + ")"
		}
	} else {
		s = fmt.Sprintf("you merged %s, deployed %s", what, ago)
		if d.Author != "" {
			s += " by " + d.Author
		}
	}
	if u := firstNonEmpty(d.CompareURL, d.URL); u != "" {
		s += ": " + u
	}
	return s
}

func minutesAgo(t, now time.Time) string {
	m := int(now.Sub(t).Minutes())
	if m < 1 {
		return "just now"
	}
	return fmt.Sprintf("%d min ago", m)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

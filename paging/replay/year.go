package replay

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
	"time"

	"github.com/rotahq/rota"
)

// YearOptions shape a generated year of alerts and deploys.
type YearOptions struct {
	Seed  int64
	Start time.Time // the year begins here (a Monday 00:00 reads best)
	// Services and their developers (GitHub logins, who deploy and
	// merge them); Zone is where their teams work (for night noise).
	Services []YearService
	// Scale multiplies every rate (1 by default): 0.5 a quiet team, 20
	// a busy organisation.
	Scale float64
}

// YearService is a service of a generated year.
type YearService struct {
	Name       string
	Developers []string
	Zone       *time.Location
}

// Year makes a realistic year for a team: steady weeks (a few real
// problems a week, more by day), low-urgency noise at night, deploys on
// working days of which some cause regressions minutes later, one month
// of pain on one service (the seed's Kafka month: lag alerts day and
// night), and a few storms (a hundred alerts in minutes). Every alert
// resolves; a third are acknowledged at a recorded time, the rest left
// to the replay's model. The same options give the same year.
func Year(o YearOptions) Input {
	if o.Scale == 0 {
		o.Scale = 1
	}
	rng := rand.New(rand.NewSource(o.Seed))
	end := o.Start.AddDate(1, 0, 0)
	var in Input
	n := 0
	add := func(svc YearService, at time.Time, sev, name, summary string, labels map[string]string) {
		if !at.Before(end) {
			return
		}
		n++
		if labels == nil {
			labels = map[string]string{}
		}
		labels["alertname"] = name
		a := Alert{At: at, Event: rota.Event{Service: svc.Name, DedupKey: fmt.Sprintf("y%d", n), Summary: summary, Severity: sev,
			Source: "generated", Integration: "alertmanager", Labels: labels},
			ResolvedAt: at.Add(time.Duration(3+rng.ExpFloat64()*25) * time.Minute)}
		if rng.Intn(3) == 0 {
			a.AckAfter = time.Duration(1+rng.Intn(12)) * time.Minute
		}
		in.Alerts = append(in.Alerts, a)
	}
	// Poisson arrivals at rate per hour between from and to.
	arrivals := func(from, to time.Time, perHour float64, each func(time.Time)) {
		if perHour <= 0 {
			return
		}
		for t := from; ; {
			t = t.Add(time.Duration(rng.ExpFloat64() / perHour * float64(time.Hour)))
			if !t.Before(to) {
				return
			}
			each(t)
		}
	}
	painService := rng.Intn(len(o.Services))
	painMonth := 2 + rng.Intn(8) // March to October
	for si, svc := range o.Services {
		zone := svc.Zone
		if zone == nil {
			zone = time.UTC
		}
		for day := o.Start; day.Before(end); day = day.AddDate(0, 0, 1) {
			local := day.In(zone)
			date := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
			weekend := date.Weekday() == time.Saturday || date.Weekday() == time.Sunday
			// Real problems: about one a week, two thirds by day.
			arrivals(date.Add(8*time.Hour), date.Add(20*time.Hour), o.Scale*0.10/12, func(t time.Time) {
				add(svc, t, rota.SeverityCritical, "HighErrorRate", "5xx above 2% on "+svc.Name, nil)
			})
			arrivals(date.Add(20*time.Hour), date.Add(32*time.Hour), o.Scale*0.05/12, func(t time.Time) {
				add(svc, t, rota.SeverityCritical, "HighLatency", "p99 latency above 2s on "+svc.Name, nil)
			})
			// Noise at night: low-urgency warnings that can wait.
			arrivals(date.Add(-2*time.Hour), date.Add(6*time.Hour), o.Scale*0.9/8, func(t time.Time) {
				add(svc, t, rota.SeverityWarning, "DiskFilling", "disk 80% on "+svc.Name+" node "+fmt.Sprint(rng.Intn(9)), map[string]string{"instance": fmt.Sprint(rng.Intn(9))})
			})
			// Deploys on working days, by day; one in fifteen regresses.
			if !weekend && len(svc.Developers) > 0 {
				for k := 0; k < 1+rng.Intn(int(math.Max(1, 3*o.Scale))); k++ {
					at := date.Add(time.Duration(9*60+rng.Intn(8*60)) * time.Minute)
					author := svc.Developers[rng.Intn(len(svc.Developers))]
					merger := svc.Developers[rng.Intn(len(svc.Developers))]
					d := rota.Deploy{ID: int64(len(in.Deploys) + 1), Service: svc.Name, Commit: fmt.Sprintf("%040x", rng.Int63()), Author: author, MergedBy: merger,
						DeployedAt: at, Source: "generated", Environment: "production"}
					in.Deploys = append(in.Deploys, d)
					if rng.Intn(15) == 0 {
						add(svc, at.Add(time.Duration(2+rng.Intn(40))*time.Minute), rota.SeverityCritical, "RegressionAfterDeploy",
							"error rate doubled on "+svc.Name+" after "+d.ShortCommit(), nil)
					}
				}
			}
			// The month of pain: consumer lag, day and night.
			if si == painService && date.Month() == time.Month(painMonth+1) {
				arrivals(date, date.Add(24*time.Hour), o.Scale*0.25, func(t time.Time) {
					add(svc, t, rota.SeverityCritical, "ConsumerLag", "kafka consumer lag above 10k on "+svc.Name,
						map[string]string{"partition": fmt.Sprint(rng.Intn(12))})
				})
			}
		}
	}
	// A few storms: a hundred alerts in minutes, one service.
	for k := 0; k < 4; k++ {
		svc := o.Services[rng.Intn(len(o.Services))]
		at := o.Start.Add(time.Duration(rng.Int63n(int64(end.Sub(o.Start)))))
		for i := 0; i < int(60+rng.Intn(100)*int(math.Max(1, o.Scale))); i++ {
			add(svc, at.Add(time.Duration(rng.Intn(600))*time.Second), rota.SeverityCritical, "InstanceDown",
				fmt.Sprintf("instance %d down on %s", i, svc.Name), map[string]string{"instance": fmt.Sprint(i)})
		}
	}
	sort.SliceStable(in.Alerts, func(i, j int) bool { return in.Alerts[i].At.Before(in.Alerts[j].At) })
	return in
}

package paging

import "github.com/prometheus/client_golang/prometheus"

// metrics are the engine's Prometheus metrics.
type metrics struct {
	notifications *prometheus.CounterVec
	lag           prometheus.Histogram
	firstNotify   prometheus.Histogram
	exhausted     prometheus.Counter
	unreached     prometheus.Counter
	escalations   prometheus.Counter
	burns         *prometheus.CounterVec
	accounting    prometheus.Histogram
	unrecorded    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, outbox func() float64) *metrics {
	m := &metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rota_notifications_total",
			Help: "Notification attempts by channel and outcome (sent, retry, deferred, failed, cancelled).",
		}, []string{"channel", "outcome"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rota_escalation_lag_seconds",
			Help:    "Delay between an escalation step or notification falling due and the engine acting on it.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		firstNotify: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rota_first_notification_seconds",
			Help:    "Time from an incident's creation to its first notification being handed to a notifier.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		exhausted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rota_escalations_exhausted_total",
			Help: "Incidents whose escalation policy ran out with nobody acknowledging.",
		}),
		unreached: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rota_incidents_unreached_total",
			Help: "Incidents whose escalation policy ran out with nobody reached (every step skipped or every page failed); the team's managers are told.",
		}),
		escalations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rota_escalation_steps_total",
			Help: "Escalation steps run.",
		}),
		accounting: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rota_page_accounting_seconds",
			Help:    "Time to account a delivery's pages against human budgets (after the delivery is recorded).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .05},
		}),
		unrecorded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rota_sends_unrecorded_total",
			Help: "Rounds of sends the store could not record at first (a full disk, a database outage): held, not sent again, while recording is retried.",
		}),
		burns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rota_human_budget_burns_total",
			Help: "Human budgets burned (weekly, offhours) and team warnings (team-weekly-80), by team.",
		}, []string{"team", "budget"}),
	}
	if reg != nil {
		reg.MustRegister(m.notifications, m.lag, m.firstNotify, m.exhausted, m.unreached, m.escalations, m.burns, m.accounting, m.unrecorded,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "rota_outbox_depth",
				Help: "Pending notifications, due or not.",
			}, outbox))
	}
	return m
}

package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	received *prometheus.CounterVec
	requests *prometheus.HistogramVec
	twilio   *prometheus.CounterVec
	deploys  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rota_alerts_received_total",
			Help: "Alert events received, by source and outcome (created, deduplicated, acknowledged, resolved, dropped, rejected).",
		}, []string{"source", "outcome"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rota_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
	}
	m.twilio = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rota_twilio_webhooks_total",
		Help: "Twilio webhooks by endpoint (sms, voice, status) and outcome (ok, bad_signature, unknown_number, bad_request, error, not_configured).",
	}, []string{"endpoint", "outcome"})
	m.deploys = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rota_deploys_received_total",
		Help: "Deploy events by source (native, pagerduty, github) and outcome (recorded, duplicate, ignored, rejected, bad_signature).",
	}, []string{"source", "outcome"})
	reg.MustRegister(m.received, m.requests, m.twilio, m.deploys)
	return m
}

// instrument times each request under its route pattern, a label of
// bounded cardinality.
func (s *Server) instrument(next http.Handler, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		_, route := mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

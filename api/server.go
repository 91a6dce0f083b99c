// Package api is rota's HTTP interface: on-call queries, shifts and
// overrides under /api/v1, health checks, and (as later work lands) alert
// ingestion, deploys, calendar feeds, reports and Twilio callbacks.
//
// Handlers return errors; one function turns an error into a status and a
// JSON body, so every status is chosen in one place.
package api

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// OverrideStore is what the API needs of the database for overrides.
type OverrideStore interface {
	CreateOverride(ctx context.Context, o *rota.Override) error
	Overrides(ctx context.Context, rotation string) ([]rota.Override, error)
	DeleteOverride(ctx context.Context, id int64) (rota.Override, error)
}

// Pager is the engine, as the API uses it.
type Pager interface {
	Trigger(ctx context.Context, ev rota.Event) (rota.TriggerResult, error)
	FollowUp(ctx context.Context, service, dedupKey string, action rota.Action, actor string) (rota.Alert, error)
	SetStatus(ctx context.Context, id int64, action rota.Action, actor string) (rota.Incident, error)
	SetAlertStatus(ctx context.Context, id int64, action rota.Action, actor string) (rota.Alert, error)
}

// AlertReader reads incidents, their alerts and their timelines.
type AlertReader interface {
	Incident(ctx context.Context, id int64) (rota.Incident, error)
	Incidents(ctx context.Context, f rota.IncidentFilter) ([]rota.Incident, error)
	IncidentAlerts(ctx context.Context, id int64) ([]rota.Alert, error)
	Alert(ctx context.Context, id int64) (rota.Alert, error)
	Alerts(ctx context.Context, f rota.IncidentFilter) ([]rota.Alert, error)
	Timeline(ctx context.Context, id int64) ([]rota.IncidentEvent, []rota.Notification, error)
}

// Settings are the parts of the configuration the API reads on every
// request; a reload replaces them.
type Settings struct {
	// AdminToken authorises writes (and reads when ReadsRequireToken). An
	// empty token refuses every write.
	AdminToken string
	// AdminTokenSource names where the token is set, for error messages.
	AdminTokenSource  string
	ReadsRequireToken bool
	// TwilioTokens are the auth tokens Twilio's webhooks may be signed
	// with; none means Twilio is not configured. PublicURL is the address
	// Twilio was given.
	TwilioTokens []string
	PublicURL    string
	// MetricsTokenSet closes /metrics to all but the bearer of
	// MetricsToken (refusing everyone while it is empty).
	MetricsTokenSet bool
	MetricsToken    string
	// GitHubSecret checks GitHub webhooks; empty refuses them.
	GitHubSecret string
	// FeedPast and FeedFuture bound calendar feeds around today.
	FeedPast, FeedFuture time.Duration
}

// Server serves the API. Create it with New.
type Server struct {
	// boot is random, new at each start: feeds' ETags hold it.
	boot      string
	book      *scheduler.Book
	overrides OverrideStore
	pager     Pager
	twilio    TwilioHandler
	alerts    AlertReader
	deploys   DeployStore
	feeds     FeedStore
	swaps     SwapStore
	teller    Teller
	reports   ReportStore
	keys      keys
	metrics   *metrics
	gatherer  prometheus.Gatherer
	ping      func(context.Context) error
	log       *slog.Logger
	now       func() time.Time
	settings  atomic.Pointer[Settings]
	onCall    atomic.Pointer[onCallAnswer]
	handler   http.Handler
}

// Options are New's dependencies. Book, Overrides, Pager, Alerts and Ping
// are required.
type Options struct {
	Book      *scheduler.Book
	Overrides OverrideStore
	Pager     Pager
	Alerts    AlertReader
	Deploys   DeployStore
	Feeds     FeedStore
	// Swaps stores swaps; Teller tells the people of a swap.
	Swaps  SwapStore
	Teller Teller
	// Reports reads human-SLO reports' data.
	Reports ReportStore
	// Twilio handles Twilio's webhooks; nil answers them 404.
	Twilio TwilioHandler
	// Registry receives the API's metrics, and Gatherer serves /metrics;
	// a private registry is used when they are nil.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	// Ping reports whether the database answers, for /readyz.
	Ping     func(context.Context) error
	Settings Settings
	Logger   *slog.Logger
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// New returns a server for opts.
func New(opts Options) *Server {
	s := &Server{boot: rand.Text(), book: opts.Book, overrides: opts.Overrides, pager: opts.Pager, twilio: opts.Twilio, alerts: opts.Alerts, deploys: opts.Deploys, feeds: opts.Feeds, swaps: opts.Swaps, teller: opts.Teller, reports: opts.Reports, ping: opts.Ping, log: opts.Logger, now: opts.Now}
	if opts.Registry == nil {
		reg := prometheus.NewRegistry()
		opts.Registry, opts.Gatherer = reg, reg
	}
	s.metrics = newMetrics(opts.Registry)
	s.gatherer = opts.Gatherer
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "api")
	if s.now == nil {
		s.now = time.Now
	}
	st := opts.Settings
	s.settings.Store(&st)
	s.handler = s.routes()
	return s
}

// SetSettings replaces the settings, after a configuration reload.
func (s *Server) SetSettings(st Settings) { s.settings.Store(&st) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)

	mux.Handle("GET /api/v1/oncall", s.read(s.getOnCall))
	mux.Handle("GET /api/v1/rotations", s.read(s.listRotations))
	mux.Handle("GET /api/v1/rotations/{name}", s.read(s.getRotation))
	mux.Handle("GET /api/v1/rotations/{name}/shifts", s.read(s.getShifts))
	mux.Handle("GET /api/v1/rotations/{name}/overrides", s.read(s.listOverrides))
	mux.Handle("POST /api/v1/rotations/{name}/overrides", s.write(s.createOverride))
	mux.Handle("DELETE /api/v1/overrides/{id}", s.write(s.deleteOverride))
	if s.swaps != nil && s.teller != nil {
		mux.Handle("POST /api/v1/rotations/{name}/swaps", s.write(s.swap))
	}

	mux.Handle("POST /api/v1/alerts", handlerFunc(s.postAlert).serve(s))
	mux.HandleFunc("POST /v2/enqueue", s.enqueuePagerDuty)
	mux.Handle("POST /api/v1/integrations/alertmanager", s.postWebhook("alertmanager", s.decodeAlertmanagerRequest).serve(s))
	mux.Handle("POST /api/v1/integrations/grafana", s.postWebhook("grafana", s.decodeGrafanaRequest).serve(s))
	mux.Handle("GET /api/v1/alerts", s.read(s.listAlerts))
	mux.Handle("GET /api/v1/alerts/{id}", s.read(s.getAlert))
	mux.Handle("POST /api/v1/alerts/{id}/ack", handlerFunc(s.alertStatus(rota.ActionAcknowledge)).serve(s))
	mux.Handle("POST /api/v1/alerts/{id}/resolve", handlerFunc(s.alertStatus(rota.ActionResolve)).serve(s))
	mux.Handle("GET /api/v1/incidents", s.read(s.listIncidents))
	mux.Handle("GET /api/v1/incidents/{id}", s.read(s.getIncident))
	mux.Handle("POST /api/v1/incidents/{id}/ack", handlerFunc(s.incidentStatus(rota.ActionAcknowledge)).serve(s))
	mux.Handle("POST /api/v1/incidents/{id}/resolve", handlerFunc(s.incidentStatus(rota.ActionResolve)).serve(s))

	mux.Handle("POST /api/v1/deploys", handlerFunc(s.postDeploy).serve(s))
	mux.Handle("GET /api/v1/deploys", s.read(s.listDeploys))
	mux.HandleFunc("POST /v2/change/enqueue", s.enqueueChange)
	mux.Handle("POST /api/v1/integrations/github", handlerFunc(s.postGitHub).serve(s))

	if s.reports != nil {
		// Their own auth: API readers or the team's report token.
		mux.Handle("GET /api/v1/reports/human", handlerFunc(s.humanReport).serve(s))
		mux.Handle("GET /reports/teams/{team}", handlerFunc(s.reportPage).serve(s))
	}
	if s.feeds != nil {
		// GET also answers HEAD.
		mux.HandleFunc("GET /ical/people/{file}", s.feed("person"))
		mux.HandleFunc("GET /ical/rotations/{file}", s.feed("rotation"))
		mux.Handle("POST /api/v1/ical-tokens", s.write(s.issueFeedToken))
		mux.Handle("DELETE /api/v1/ical-tokens/{kind}/{name}", s.write(s.revokeFeedToken))
	}

	if s.twilio != nil {
		mux.HandleFunc("POST /twilio/sms", s.twilioSMS)
		mux.HandleFunc("POST /twilio/voice", s.twilioVoice)
		mux.HandleFunc("POST /twilio/status", s.twilioStatus)
	}

	if s.gatherer != nil {
		mux.Handle("GET /metrics", s.metricsAuth(promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})))
	}
	return s.instrument(jsonMuxErrors(mux), mux)
}

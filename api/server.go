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

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
)

// OverrideStore is what the API needs of the database for overrides.
type OverrideStore interface {
	// CreateOverride stores o, setting its id and time.
	CreateOverride(ctx context.Context, o *rota.Override) error
	// Override returns one override, or ENOTFOUND.
	Override(ctx context.Context, id int64) (rota.Override, error)
	// Overrides lists a rotation's overrides (all for "").
	Overrides(ctx context.Context, rotation string) ([]rota.Override, error)
	// DeleteOverride removes one and returns it, or ENOTFOUND.
	DeleteOverride(ctx context.Context, id int64) (rota.Override, error)
}

// Pager is the engine, as the API uses it.
type Pager interface {
	// Trigger takes an event in: a new incident, a repeat, or an alert
	// joining an open incident.
	Trigger(ctx context.Context, ev rota.Event) (rota.TriggerResult, error)
	// FollowUp acknowledges or resolves a source's open alert by its key.
	FollowUp(ctx context.Context, service, dedupKey string, action rota.Action, actor string) (rota.Alert, error)
	// Act acknowledges, resolves or escalates an incident (or one of
	// its alerts) for an actor, checking their rights and auditing it:
	// the one way every channel acts.
	Act(ctx context.Context, act paging.Act) (paging.Acted, error)
	// MayAct says whether an actor may act on an incident.
	MayAct(ctx context.Context, a rota.Actor, inc rota.Incident) (rota.PagesFor, error)
	// Beat records a service's heartbeat (resolving its missed
	// incident); ENOTFOUND for one not declared.
	Beat(ctx context.Context, service, name, actor string) (rota.Heartbeat, error)
	// StartMaintenance and EndMaintenance set and end ad hoc windows.
	StartMaintenance(ctx context.Context, m *rota.Maintenance) error
	EndMaintenance(ctx context.Context, id int64) (rota.Maintenance, error)
}

// AlertReader reads incidents, their alerts and their timelines.
type AlertReader interface {
	// Incident returns one incident, or ENOTFOUND.
	Incident(ctx context.Context, id int64) (rota.Incident, error)
	// Incidents lists incidents by filter, newest first.
	Incidents(ctx context.Context, f rota.IncidentFilter) ([]rota.Incident, error)
	// IncidentAlerts lists an incident's alerts.
	IncidentAlerts(ctx context.Context, id int64) ([]rota.Alert, error)
	// Alert returns one alert, or ENOTFOUND.
	Alert(ctx context.Context, id int64) (rota.Alert, error)
	// Alerts lists alerts by filter, newest first.
	Alerts(ctx context.Context, f rota.IncidentFilter) ([]rota.Alert, error)
	// Timeline is an incident's events and notifications, oldest first.
	Timeline(ctx context.Context, id int64) ([]rota.IncidentEvent, []rota.Notification, error)
}

// Settings are the parts of the configuration the API reads on every
// request; a reload replaces them.
type Settings struct {
	// AdminToken is the admin's bearer token, for automation; empty for
	// none.
	AdminToken string
	// AdminTokenSource names where the token is set, for error messages.
	AdminTokenSource string
	// AnonymousReads is the explicit opt-out that opens the API's reads
	// to anyone.
	AnonymousReads bool
	// Admins are the people with the admin role.
	Admins []string
	// SessionLifetime bounds a web sign-in (a week when zero).
	SessionLifetime time.Duration
	// OIDC is the identity provider people sign in with; nil for none.
	OIDC *OIDCSettings
	// TwilioTokens are the auth tokens Twilio's webhooks may be signed
	// with; none means Twilio is not configured. PublicURL is the address
	// Twilio was given.
	TwilioTokens []string
	PublicURL    string
	// SlackSigningSecret checks what Slack posts (button presses,
	// /rota); empty when there is no Slack app.
	SlackSigningSecret string
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
	boot        string
	book        *scheduler.Book
	overrides   OverrideStore
	pager       Pager
	twilio      TwilioHandler
	slack       SlackApp
	replays     ReplayGuard
	heartbeats  HeartbeatReader
	maintenance MaintenanceReader
	alerts      AlertReader
	deploys     DeployStore
	feeds       FeedStore
	// authLimit counts failed authentications per client (authlimit.go).
	authLimit authLimiter
	swaps     SwapStore
	teller    Teller
	reports   ReportStore
	identity  IdentityStore
	budgets   BudgetReader
	// swapRequests keeps proposed swaps.
	swapRequests SwapRequestStore
	// devSignIn lets anyone on this machine sign in as anyone.
	devSignIn bool
	oidc      oidcClients
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
	// Identity keeps sessions, personal tokens and the audit log; without
	// it only the admin token and integration keys authenticate.
	Identity IdentityStore
	// SwapRequests keeps proposed swaps.
	SwapRequests SwapRequestStore
	// Budgets reads people's budgets for the web UI's Now page.
	Budgets BudgetReader
	// DevSignIn enables the development sign-in (anyone on this machine
	// signs in as anyone): only for a daemon listening on loopback.
	DevSignIn bool
	// Twilio handles Twilio's webhooks; nil answers them 404.
	Twilio TwilioHandler
	// Slack is the Slack app, for its button presses and /rota; with
	// Settings.SlackSigningSecret. Replays remembers what Slack (and
	// other providers) posted, refusing a replay.
	Slack   SlackApp
	Replays ReplayGuard
	// Heartbeats reads heartbeats' states; Maintenance, ad hoc windows.
	Heartbeats  HeartbeatReader
	Maintenance MaintenanceReader
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
	s := &Server{boot: rand.Text(), book: opts.Book, overrides: opts.Overrides, pager: opts.Pager, twilio: opts.Twilio, slack: opts.Slack, replays: opts.Replays, heartbeats: opts.Heartbeats, maintenance: opts.Maintenance, alerts: opts.Alerts, deploys: opts.Deploys, feeds: opts.Feeds, swaps: opts.Swaps, teller: opts.Teller, reports: opts.Reports, identity: opts.Identity, budgets: opts.Budgets, swapRequests: opts.SwapRequests, devSignIn: opts.DevSignIn, ping: opts.Ping, log: opts.Logger, now: opts.Now}
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
	for _, rt := range s.routeTable() {
		mux.Handle(rt.pattern, s.guard(rt))
	}
	// Browsers say where a request comes from: a change made from
	// another site's page (a forged form) is refused before anything
	// else, whatever credentials ride along.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, rota.Errorf(rota.EFORBIDDEN, "a change from another site's page is refused (cross-origin request)"))
	}))
	return s.instrument(withDeadline(s.limitAuth(cop.Handler(s.secureHeaders(jsonMuxErrors(mux))))), mux)
}

// requestTimeout bounds a request's work, reads and writes alike: a
// database that hangs gives a 503 within it, never a hang.
const requestTimeout = 6 * time.Second

func withDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

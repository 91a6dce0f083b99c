package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/notify/email"
	"github.com/rotahq/rota/paging/notify/slack"
	"github.com/rotahq/rota/paging/notify/teams"
	"github.com/rotahq/rota/paging/notify/twilio"
	"github.com/rotahq/rota/paging/notify/webhook"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
)

// cpuProfileEnv names a file for a CPU profile of the whole run.
const cpuProfileEnv = "ROTAD_CPUPROFILE"

// shutdownGrace bounds how long in-flight requests may take on SIGTERM;
// drainMore, the engine's deliveries and the writes still queued after
// them.
const (
	shutdownGrace = 20 * time.Second
	drainMore     = 10 * time.Second
)

func serve(args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	listen := fs.String("listen", "", "listen address, overriding server.listen")
	dbPath := fs.String("db", "", "SQLite database file or postgres:// URL, overriding server.database")
	devSignIn := fs.Bool("dev-sign-in", false, "let anyone on this machine sign in to the web UI as anyone, without an identity provider (only on a loopback listen address; for trying rota out)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *dbPath != "" {
		cfg.Server.Database = *dbPath
	}

	level := new(slog.LevelVar)
	level.Set(parseLevel(cfg.Log.Level))
	log := newLogger(stderr, cfg.Log.Format, level)
	for _, w := range cfg.Warnings {
		log.Warn("config warning", "problem", w.String())
	}
	if *devSignIn {
		if !loopbackAddr(cfg.Server.Listen) {
			log.Error("--dev-sign-in lets anyone sign in as anyone: it works only on a loopback listen address (127.0.0.1 or ::1)", "addr", cfg.Server.Listen)
			return exitError{2}
		}
		log.Warn("DEVELOPMENT SIGN-IN IS ON: anyone on this machine can sign in as anyone, without an identity provider. Never use it for real on-call.", "addr", cfg.Server.Listen)
	}
	if cfg.Server.AnonymousReads {
		log.Warn("ANONYMOUS READS ARE ON (server.reads_require_token = false): anyone who can reach rotad reads every incident, schedule and person's pages")
	}

	if clockOffsetErr != nil {
		log.Error("cannot read the clock's offset", "err", clockOffsetErr)
		return exitError{2}
	}
	if clockOffset != 0 {
		log.Warn("THE CLOCK IS SHIFTED for a test: rotad's now is the real time plus "+clockOffsetEnv, "offset", clockOffset.String(), "now", now().UTC().Format(time.RFC3339))
	}

	if path := os.Getenv(cpuProfileEnv); path != "" {
		// For measuring (make bench): the whole run's CPU profile, written
		// at a graceful stop; `go tool pprof -top bin/rotad PATH` reads it.
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			log.Error("cannot profile", "path", path, "err", err)
			return exitError{1}
		}
		log.Warn("PROFILING the CPU into "+cpuProfileEnv, "path", path)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	ctx := context.Background()
	defer log.Info("rotad stopped")
	db, err := openStore(ctx, cfg.Server.Database)
	if err != nil {
		log.Error("cannot open the database", "path", store.Redact(cfg.Server.Database), "err", err)
		return exitError{1}
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()
	if db.Created() {
		log.Warn("no database was there: started a new, empty one", "path", cfg.Server.Database)
	}
	db.OnDeadlock = func(err error) {
		log.Warn("PostgreSQL found a deadlock between rota's writes (they were run again): please report it", "err", err)
	}
	db.OnLost = func(err error) {
		log.Error("THE DATABASE FILE IS GONE: rotad records nothing more and answers 503; restart it on the right file", "err", err)
	}
	// The versions are read before what they version, so that a change
	// another daemon makes between the two is not missed.
	overridesSeen, _ := db.OverridesVersion(ctx)
	leaveSeen, _ := db.LeaveVersion(ctx)
	overrides, err := db.Overrides(ctx, "")
	if err != nil {
		log.Error("cannot read overrides", "err", err)
		return exitError{1}
	}
	book := scheduler.NewBook(scheduler.NewRoster(cfg.Org, overrides))
	// Leave from PTO calendars, as last fetched: a restart never clears it.
	kept, err := db.Leave(ctx)
	if err != nil {
		log.Error("cannot read kept leave", "err", err)
		return exitError{1}
	}
	for person, ls := range kept {
		book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) { return r.WithLeave(person, ls), nil })
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rota_store_deadlocks_total", Help: "Write groups PostgreSQL aborted for a deadlock (run again); locks are taken in one order, so this stays 0."},
			func() float64 { d, _ := db.Conflicts(); return float64(d) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rota_store_conflicts_total", Help: "Write groups PostgreSQL aborted for a serialization failure (run again)."},
			func() float64 { _, c := db.Conflicts(); return float64(c) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rota_store_lock_reruns_total", Help: "Writes run again in a later transaction because they needed, out of order, a lock another transaction held."},
			func() float64 { return float64(db.Reruns()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rota_store_write_groups_total", Help: "Write groups committed, each one transaction: writes share one when they arrive together."},
			func() float64 { g, _ := db.Groups(); return float64(g) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rota_store_writes_total", Help: "Writes committed in write groups."},
			func() float64 { _, w := db.Groups(); return float64(w) }))
	registry, slackApp, err := notifiers(cfg, log)
	if err != nil {
		log.Error("cannot set up notifiers", "err", err)
		return exitError{1}
	}
	if cfg.Twilio == nil {
		log.Info("no Twilio account: SMS and voice pages go to the log")
	}
	if cfg.SMTP == nil {
		log.Info("no SMTP relay: email goes to the log")
	}
	var slackAPI api.SlackApp
	var groups *userGroups
	if slackApp != nil {
		slackAPI = slackApp
		groups = newUserGroups(slackApp, book, log.With("component", "slack"))
	}
	engine := paging.New(paging.Options{
		Store: db, Book: book, Logger: log, Registry: reg,
		Notifiers: registry, PublicURL: cfg.Server.PublicURL, Burns: db, RateLimit: cfg.Paging.RateLimit,
		RetryFor: cfg.Paging.RetryFor, MaxBackoff: cfg.Paging.MaxBackoff, PerDestination: cfg.Paging.PerDestination,
		SendTimeout: cfg.Paging.Timeout, SendTimeouts: cfg.Paging.Timeouts,
		Poll: sharedPoll(db), Now: now,
	})
	srv := api.New(api.Options{
		Book: book, Overrides: db, Pager: engine, Twilio: engine, Alerts: db, Deploys: db, Feeds: db, Swaps: db, Teller: engine, Reports: db, Ping: db.Ping, Logger: log,
		Identity: db, SwapRequests: db, Budgets: db, DevSignIn: *devSignIn, Slack: slackAPI, Replays: db, Heartbeats: db, Maintenance: db,
		Settings: apiSettings(cfg), Registry: reg, Gatherer: reg, Now: now,
	})
	// The engine stops before the database closes (defers run in
	// reverse): deliveries under way finish, and what is due later stays
	// in the outbox for the next start.
	ptoFailures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rota_pto_fetch_failures_total", Help: "PTO calendar fetches that failed (the last good copy is kept), by person.",
	}, []string{"person"})
	reg.MustRegister(ptoFailures)
	fetcher := &scheduler.LeaveFetcher{Book: book, Store: db, Client: trustingClient(cfg, 30*time.Second), Log: log.With("component", "pto"),
		Now: now, Past: cfg.FeedPast + rota.Week, Future: cfg.FeedFuture + rota.Week,
		Failed: func(person string) { ptoFailures.WithLabelValues(person).Inc() }}
	jobs := scheduler.NewCron(log, time.UTC)
	if err := addJob(jobs, cfg.PTORefresh, func() {
		// On a shared database one daemon fetches each round; the
		// others take its leave from the database (syncRoster).
		if db.Postgres() {
			key := "pto:" + now().UTC().Truncate(time.Minute).Format(time.RFC3339)
			if first, err := db.QueueOnce(ctx, key, nil); err != nil || !first {
				return
			}
		}
		fetcher.FetchAll(ctx)
	}); err != nil {
		log.Error("cannot schedule PTO fetches", "spec", cfg.PTORefresh, "err", err)
		return exitError{1}
	}
	if err := addJob(jobs, "* * * * *", func() {
		// Within its minute, whatever the database does.
		ctx, cancel := context.WithTimeout(ctx, 50*time.Second)
		defer cancel()
		engine.RemindHandovers(ctx)
		engine.SummarizeHandovers(ctx)
		engine.AnnounceHandoffs(ctx)
		groups.sync(ctx)
	}); err != nil {
		log.Error("cannot schedule handover reminders", "err", err)
		return exitError{1}
	}
	go groups.sync(ctx) // at start too, not only at the next minute
	// Digests are scheduled for the teams at start; a reload that changes
	// them takes a restart (said on reload).
	if err := scheduleDigests(jobs, cfg.Org, db, engine, cfg.Server.PublicURL, log); err != nil {
		log.Error("cannot schedule weekly digests", "err", err)
		return exitError{1}
	}
	jobs.Start()
	defer func() { <-jobs.Stop().Done() }()
	if db.Postgres() {
		// Other daemons on this database make overrides and swaps too:
		// each notices within a quarter of a second and reloads the roster.
		go syncRoster(ctx, db, book, overridesSeen, leaveSeen, log)
	}
	go fetcher.FetchAll(ctx)

	engineCtx, stopEngine := context.WithCancel(ctx)
	engineDone := make(chan struct{})
	go func() {
		defer close(engineDone)
		engine.Run(engineCtx)
	}()
	// Other daemons on this database say when their writes make work due
	// (LISTEN/NOTIFY); the poll stays as the fallback.
	go db.Listen(engineCtx, engine.Hint, func(err error) {
		log.Warn("not told of other daemons' work (the poll finds it, within a second): listening again", "err", err)
	})
	defer func() {
		stopEngine()
		<-engineDone
	}()

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Server.Listen, "err", err)
		return exitError{1}
	}
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	log.Info("rotad started", "version", version, "addr", ln.Addr().String(), "database", store.Redact(cfg.Server.Database),
		"config", cfg.File, "summary", cfg.Summary())

	r := newReloader(cfg, book, srv, level, log, reg)
	r.rebase = engine.Rebase
	r.audit = func(e *rota.AuditEntry) {
		if err := db.Audit(ctx, e); err != nil {
			log.Error("cannot write the audit log", "action", e.Action, "err", err)
		}
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	for {
		select {
		case err := <-serveErr:
			log.Error("http server stopped", "err", err)
			return exitError{1}
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				r.reload()
				continue
			}
			log.Info("shutting down", "signal", sig.String())
			// Whatever the database does (a hung server holds writes up to
			// their deadlines), the daemon is gone within its drain
			// deadline: requests get shutdownGrace, the rest a little more.
			time.AfterFunc(shutdownGrace+drainMore, func() {
				log.Error("could not stop within the drain deadline: exiting now; what was not recorded is sent again by the next start", "deadline", (shutdownGrace + drainMore).String())
				os.Exit(1)
			})
			sctx, cancel := context.WithTimeout(ctx, shutdownGrace)
			err := httpSrv.Shutdown(sctx)
			cancel()
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("requests still running at shutdown", "err", err)
			}
			return nil
		}
	}
}

func apiSettings(cfg *config.Config) api.Settings {
	st := api.Settings{AdminToken: cfg.Server.AdminToken, AdminTokenSource: cfg.Server.AdminTokenSource,
		AnonymousReads: cfg.Server.AnonymousReads, Admins: cfg.Auth.Admins, SessionLifetime: cfg.Auth.SessionLifetime,
		PublicURL: cfg.Server.PublicURL, GitHubSecret: cfg.GitHubSecret,
		FeedPast: cfg.FeedPast, FeedFuture: cfg.FeedFuture, MetricsTokenSet: cfg.Server.MetricsTokenSet, MetricsToken: cfg.Server.MetricsToken}
	if cfg.Twilio != nil {
		st.TwilioTokens = cfg.Twilio.AuthTokens
	}
	if cfg.Slack != nil {
		st.SlackSigningSecret = cfg.Slack.SigningSecret
	}
	if o := cfg.Auth.OIDC; o != nil {
		st.OIDC = &api.OIDCSettings{Name: o.Name, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL, Scopes: o.Scopes}
		if cfg.TrustedCAs != nil {
			st.OIDC.Client = trustingClient(cfg, 30*time.Second)
		}
	}
	return st
}

// trusted is the TLS configuration of the connections rota makes: the
// system's CAs and [tls] ca_file's; nil (Go's default, the system's) when
// the file names none.
func trusted(cfg *config.Config) *tls.Config {
	if cfg.TrustedCAs == nil {
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AppendCertsFromPEM(cfg.TrustedCAs)
	return &tls.Config{RootCAs: pool}
}

// trustingClient is an HTTP client trusting what trusted says, with a
// timeout.
func trustingClient(cfg *config.Config, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = trusted(cfg)
	return &http.Client{Timeout: timeout, Transport: tr}
}

// notifiers registers a notifier per channel. Webhooks are posted for
// real, SMS and voice go through Twilio and email through the relay when
// they are configured; other channels (and SMS, voice and email without
// their provider) go to the log notifier.
func notifiers(cfg *config.Config, log *slog.Logger) (*notify.Registry, *slack.Slack, error) {
	reg := notify.NewRegistry(nil, log.With("component", "paging"))
	trust := trusted(cfg)
	web := webhook.Notifier{Client: webhook.NewClient(trust), PublicURL: cfg.Server.PublicURL}
	reg.Register(rota.ContactWebhook, web)
	logged := notify.Log{Log: log.With("component", "paging")}
	// A channel whose webhook URL is not set yet (a warning at start)
	// posts to the log, as promised, rather than failing.
	orLog := func(n notify.Notifier) notify.Notifier {
		return notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
			if m.Address == "" {
				return logged.Notify(ctx, m)
			}
			return n.Notify(ctx, m)
		})
	}
	reg.Register(rota.ContactTeams, orLog(teams.Notifier{Client: webhook.NewClient(trust)}))
	var app *slack.Slack
	if sc := cfg.Slack; sc != nil {
		app = slack.New(slack.Options{BotToken: sc.BotToken, APIURL: sc.APIURL, Webhook: web, TLSConfig: trust, Logger: log.With("component", "slack")})
		reg.Register(rota.ContactSlack, orLog(app))
	} else {
		// Without the app, Slack contacts that are incoming webhooks
		// still get text; user ids, emails and channels go to the log.
		reg.Register(rota.ContactSlack, notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
			if strings.HasPrefix(m.Address, "https://") || strings.HasPrefix(m.Address, "http://") {
				return web.Notify(ctx, m)
			}
			return logged.Notify(ctx, m)
		}))
	}
	if t := cfg.Twilio; t != nil {
		tw, err := twilio.New(twilio.Options{AccountSID: t.AccountSID, AuthToken: t.AuthTokens[0], From: t.From,
			MessagingServiceSID: t.MessagingServiceSID, PublicURL: cfg.Server.PublicURL, APIURL: t.APIURL})
		if err != nil {
			return nil, nil, err
		}
		reg.Register(rota.ContactSMS, tw.SMS())
		reg.Register(rota.ContactVoice, tw.Voice())
	}
	if m := cfg.SMTP; m != nil {
		tlsConfig := trust
		if m.CAs != nil {
			// The relay's own CA: its certificate must chain to it.
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(m.CAs)
			tlsConfig = &tls.Config{RootCAs: pool}
		}
		sender, err := email.New(email.Config{Host: m.Host, Port: m.Port, Security: m.Security, Username: m.Username, Password: m.Password,
			From: m.From, Timeout: m.Timeout, TLSConfig: tlsConfig})
		if err != nil {
			return nil, nil, err
		}
		reg.Register(rota.ContactEmail, email.Notifier(sender))
	}
	return reg, app, nil
}

// reloader applies a changed configuration on SIGHUP: the new file is
// loaded and validated with no side effects, then swapped in; a file with
// problems is logged and the running configuration stays.
type reloader struct {
	path    string
	running *config.Config
	book    *scheduler.Book
	api     *api.Server
	level   *slog.LevelVar
	log     *slog.Logger
	// audit records a reload in the audit log.
	audit func(*rota.AuditEntry)
	// rebase moves the deadlines a reload from the old organisation
	// changes (heartbeats, steps' delays, maintenance windows).
	rebase func(ctx context.Context, old *rota.Org) error

	reloads *prometheus.CounterVec
	lastOK  prometheus.Gauge
}

func newReloader(cfg *config.Config, book *scheduler.Book, srv *api.Server, level *slog.LevelVar, log *slog.Logger, reg prometheus.Registerer) *reloader {
	r := &reloader{path: cfg.File, running: cfg, book: book, api: srv, level: level, log: log,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rota_config_reloads_total", Help: "Configuration reloads by result (success, failure).",
		}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rota_config_last_reload_success", Help: "1 if the last configuration reload succeeded (or none was tried), 0 if it failed.",
		}),
	}
	r.lastOK.Set(1)
	reg.MustRegister(r.reloads, r.lastOK)
	return r
}

func (r *reloader) reload() {
	cfg, err := config.Load(r.path)
	if err != nil {
		r.reloads.WithLabelValues("failure").Inc()
		r.lastOK.Set(0)
		var ps config.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				r.log.Error("config reload rejected", "problem", p.String())
			}
		}
		r.log.Error("config reload failed: still running the previous configuration", "config", r.path, "problems", len(ps))
		return
	}
	// The listener and the database are opened once; changing them takes
	// a restart, and saying so beats silently ignoring the change.
	if cfg.Server.Listen != r.running.Server.Listen {
		r.log.Warn("server.listen changed: restart rotad to apply it", "running", r.running.Server.Listen, "new", cfg.Server.Listen)
	}
	if cfg.Server.Database != r.running.Server.Database {
		r.log.Warn("server.database changed: restart rotad to apply it", "running", store.Redact(r.running.Server.Database), "new", store.Redact(cfg.Server.Database))
	}
	if twilioAccount(cfg) != twilioAccount(r.running) || cfg.Server.PublicURL != r.running.Server.PublicURL {
		r.log.Warn("the Twilio account or server.public_url changed: restart rotad to send with it (webhooks already accept the new auth tokens)")
	}
	if digests(cfg) != digests(r.running) {
		r.log.Warn("teams' digest schedules changed: restart rotad to apply them")
	}
	if !bytes.Equal(cfg.TrustedCAs, r.running.TrustedCAs) {
		r.log.Warn("tls.ca_file changed: restart rotad to trust it")
		cfg.TrustedCAs = r.running.TrustedCAs
	}
	if cfg.PTORefresh != r.running.PTORefresh {
		r.log.Warn("calendar.pto_refresh changed: restart rotad to apply it")
	}
	if cfg.Log.Format != r.running.Log.Format {
		r.log.Warn("log.format changed: restart rotad to apply it", "running", r.running.Log.Format, "new", cfg.Log.Format)
	}
	cfg.Server.Listen, cfg.Server.Database = r.running.Server.Listen, r.running.Server.Database
	cfg.Log.Format = r.running.Log.Format
	for _, w := range cfg.Warnings {
		r.log.Warn("config warning", "problem", w.String())
	}
	r.book.Update(func(old *scheduler.Roster) (*scheduler.Roster, error) { return old.WithOrg(cfg.Org), nil })
	if r.rebase != nil {
		// Deadlines the configuration sets move with it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.rebase(ctx, r.running.Org); err != nil {
			r.log.Error("cannot move the deadlines the configuration changed: heartbeats follow from their next beat, incidents keep their waits", "err", err)
		}
		cancel()
	}
	r.api.SetSettings(apiSettings(cfg))
	r.level.Set(parseLevel(cfg.Log.Level))
	r.running = cfg
	r.reloads.WithLabelValues("success").Inc()
	r.lastOK.Set(1)
	r.audit(&rota.AuditEntry{Actor: "rotad (SIGHUP)", Action: "config.reload", Subject: r.path, Detail: cfg.Summary()})
	r.log.Info("config reloaded", "config", r.path, "summary", cfg.Summary())
}

// loopbackAddr reports whether a listen address is this machine only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func twilioAccount(cfg *config.Config) string {
	if cfg.Twilio == nil {
		return ""
	}
	t := cfg.Twilio
	return t.AccountSID + " " + t.AuthTokens[0] + " " + t.From + " " + t.MessagingServiceSID + " " + t.APIURL
}

func digests(cfg *config.Config) string {
	var b strings.Builder
	for _, t := range cfg.Org.Teams {
		fmt.Fprintf(&b, "%s=%s@%s;", t.Name, t.Digest, t.Location)
	}
	return b.String()
}

// syncRoster reloads the roster's overrides and calendar leave whenever
// the database's change, so that an override or swap made on another
// daemon, or leave it fetched, counts here within a quarter of a second
// (polled: a few cheap reads a second).
func syncRoster(ctx context.Context, db *store.DB, book *scheduler.Book, overridesSeen, leaveSeen string, log *slog.Logger) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		overridesSeen, leaveSeen = syncOnce(ctx, db, book, overridesSeen, leaveSeen, log)
	}
}

// syncOnce is one look of syncRoster, bounded: a database that hangs
// delays the next look, never holds this one for good.
func syncOnce(ctx context.Context, db *store.DB, book *scheduler.Book, overridesSeen, leaveSeen string, log *slog.Logger) (string, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if v, err := db.OverridesVersion(ctx); err == nil && v != overridesSeen {
		ovs, err := db.Overrides(ctx, "")
		if err != nil {
			log.Warn("cannot reload overrides made on another daemon", "err", err)
			return overridesSeen, leaveSeen
		}
		byRotation := map[string][]rota.Override{}
		for _, o := range ovs {
			byRotation[o.Rotation] = append(byRotation[o.Rotation], o)
		}
		book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
			for _, rot := range r.Org().Rotations {
				r = r.WithOverrides(rot.Name, byRotation[rot.Name])
			}
			return r, nil
		})
		overridesSeen = v
		log.Debug("overrides reloaded", "version", v)
	}
	if v, err := db.LeaveVersion(ctx); err == nil && v != leaveSeen {
		kept, err := db.Leave(ctx)
		if err != nil {
			log.Warn("cannot reload leave fetched on another daemon", "err", err)
			return overridesSeen, leaveSeen
		}
		book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
			for person, ls := range kept {
				r = r.WithLeave(person, ls)
			}
			return r, nil
		})
		leaveSeen = v
		log.Debug("leave reloaded", "version", v)
	}
	return overridesSeen, leaveSeen
}

// sharedPoll is how often the engine looks at a database other daemons
// share (PostgreSQL) for work they made, should their notifications not
// reach it (see store.Listen): a second; never for SQLite.
func sharedPoll(db *store.DB) time.Duration {
	if db.Postgres() {
		return time.Second
	}
	return 0
}

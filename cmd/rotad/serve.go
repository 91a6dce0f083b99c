package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
)

// shutdownGrace bounds how long in-flight requests may take on SIGTERM.
const shutdownGrace = 20 * time.Second

func serve(args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "", "configuration file (TOML)")
	listen := fs.String("listen", "", "listen address, overriding server.listen")
	dbPath := fs.String("db", "", "SQLite database file, overriding server.database")
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

	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Server.Database, store.Options{})
	if err != nil {
		log.Error("cannot open the database", "path", cfg.Server.Database, "err", err)
		return exitError{1}
	}
	defer db.Close()
	overrides, err := db.Overrides(ctx, "")
	if err != nil {
		log.Error("cannot read overrides", "err", err)
		return exitError{1}
	}
	book := scheduler.NewBook(scheduler.NewRoster(cfg.Org, overrides))
	srv := api.New(api.Options{
		Book: book, Overrides: db, Ping: db.Ping, Logger: log,
		Settings: apiSettings(cfg),
	})

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
	log.Info("rotad started", "version", version, "addr", ln.Addr().String(), "database", cfg.Server.Database,
		"config", cfg.File, "summary", cfg.Summary())

	r := &reloader{path: cfg.File, running: cfg, book: book, api: srv, level: level, log: log}
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
			sctx, cancel := context.WithTimeout(ctx, shutdownGrace)
			err := httpSrv.Shutdown(sctx)
			cancel()
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("requests still running at shutdown", "err", err)
			}
			if err := db.Close(); err != nil {
				log.Error("closing the database", "err", err)
				return exitError{1}
			}
			log.Info("rotad stopped")
			return nil
		}
	}
}

func apiSettings(cfg *config.Config) api.Settings {
	return api.Settings{AdminToken: cfg.Server.AdminToken, AdminTokenSource: cfg.Server.AdminTokenSource, ReadsRequireToken: cfg.Server.ReadsRequireToken}
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

	// Counters for the metrics endpoint: reloads attempted and failed,
	// and whether the last one succeeded.
	attempts, failures atomic.Int64
	lastOK             atomic.Bool
}

func (r *reloader) reload() {
	r.attempts.Add(1)
	cfg, err := config.Load(r.path)
	if err != nil {
		r.failures.Add(1)
		r.lastOK.Store(false)
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
		r.log.Warn("server.database changed: restart rotad to apply it", "running", r.running.Server.Database, "new", cfg.Server.Database)
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
	r.api.SetSettings(apiSettings(cfg))
	r.level.Set(parseLevel(cfg.Log.Level))
	r.running = cfg
	r.lastOK.Store(true)
	r.log.Info("config reloaded", "config", r.path, "summary", cfg.Summary())
}

// String describes the reload counters.
func (r *reloader) String() string {
	return fmt.Sprintf("%d reloads, %d failed, last ok %t", r.attempts.Load(), r.failures.Load(), r.lastOK.Load())
}

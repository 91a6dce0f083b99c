// Package api is rota's HTTP interface: on-call queries, shifts and
// overrides under /api/v1, health checks, and (as later work lands) alert
// ingestion, deploys, calendar feeds, reports and Twilio callbacks.
//
// Handlers return errors; one function turns an error into a status and a
// JSON body, so every status is chosen in one place.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// OverrideStore is what the API needs of the database for overrides.
type OverrideStore interface {
	CreateOverride(ctx context.Context, o *rota.Override) error
	Overrides(ctx context.Context, rotation string) ([]rota.Override, error)
	DeleteOverride(ctx context.Context, id int64) (rota.Override, error)
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
}

// Server serves the API. Create it with New.
type Server struct {
	book      *scheduler.Book
	overrides OverrideStore
	ping      func(context.Context) error
	log       *slog.Logger
	now       func() time.Time
	settings  atomic.Pointer[Settings]
	onCall    atomic.Pointer[onCallAnswer]
	handler   http.Handler
}

// Options are New's dependencies. Book, Overrides and Ping are required.
type Options struct {
	Book      *scheduler.Book
	Overrides OverrideStore
	// Ping reports whether the database answers, for /readyz.
	Ping     func(context.Context) error
	Settings Settings
	Logger   *slog.Logger
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// New returns a server for opts.
func New(opts Options) *Server {
	s := &Server{book: opts.Book, overrides: opts.Overrides, ping: opts.Ping, log: opts.Logger, now: opts.Now}
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
	return jsonMuxErrors(mux)
}

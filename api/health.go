package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/rotahq/rota"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database takes a write within two seconds,
// 503 with the reason otherwise (a full disk, a read-only or deleted
// file), so that a load balancer stops sending work to a daemon that
// cannot record it.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		why := "the database does not answer"
		if rota.ErrorCode(err) == rota.EUNAVAILABLE {
			why = rota.ErrorMessage(err)
		}
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": why})
		return
	}
	// Ready, but a service that cannot receive alerts is said here, as
	// at start: its senders would be refused.
	body := map[string]any{"status": "ok"}
	if deaf := deafServices(s.book.Roster().Org()); len(deaf) > 0 {
		body["problems"] = deaf
	}
	writeJSON(w, http.StatusOK, body)
}

// deafServices says which services cannot receive alerts: none of their
// integration keys is set. /readyz and the Now page show them.
func deafServices(org *rota.Org) []string {
	var out []string
	for _, svc := range org.Services {
		if len(svc.IntegrationKeys) == 0 {
			out = append(out, fmt.Sprintf("service %s cannot receive alerts: no integration key is set", svc.Name))
		}
	}
	return out
}

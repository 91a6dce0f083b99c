package api

import (
	"crypto/subtle"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"net/http"
	"strings"

	"github.com/rotahq/rota"
)

// handlerFunc is an API handler: it writes a response or returns an error
// for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h handlerFunc) serve(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// metricsHandler serves /metrics, closed to all but the bearer of the
// metrics token when one is configured; while it is configured but unset,
// to everyone.
func (s *Server) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := s.settings.Load()
		if st.MetricsTokenSet {
			_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			switch {
			case st.MetricsToken == "":
				s.writeError(w, r, rota.Errorf(rota.EFORBIDDEN, "server.metrics_token is configured but not set: /metrics stays closed until it is"))
				return
			case subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(st.MetricsToken)) != 1:
				s.writeError(w, r, rota.Errorf(rota.EUNAUTHORIZED, "send the metrics token as \"Authorization: Bearer TOKEN\""))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

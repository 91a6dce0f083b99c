package api

import (
	"crypto/subtle"
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

// read serves h to anyone, or to holders of the admin token when the
// settings require a token for reads.
func (s *Server) read(h handlerFunc) http.Handler {
	return handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if st := s.settings.Load(); st.ReadsRequireToken {
			if err := checkToken(r, st); err != nil {
				return err
			}
		}
		return h(w, r)
	}).serve(s)
}

// write serves h only to holders of the admin token; with no token
// configured, writes are refused outright rather than left open.
func (s *Server) write(h handlerFunc) http.Handler {
	return handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if err := checkToken(r, s.settings.Load()); err != nil {
			return err
		}
		return h(w, r)
	}).serve(s)
}

func checkToken(r *http.Request, st *Settings) error {
	if st.AdminToken == "" {
		return rota.Errorf(rota.EFORBIDDEN, "this endpoint needs the admin token, and none is configured: set %s and reload rotad", strings.TrimPrefix(st.AdminTokenSource, "env:"))
	}
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return rota.Errorf(rota.EUNAUTHORIZED, "send the admin token as \"Authorization: Bearer TOKEN\"")
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(st.AdminToken)) != 1 {
		return rota.Errorf(rota.EUNAUTHORIZED, "the token is not valid")
	}
	return nil
}

// metricsAuth closes /metrics to all but the bearer of the metrics token
// when one is configured; while it is configured but unset, to everyone.
func (s *Server) metricsAuth(h http.Handler) http.Handler {
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

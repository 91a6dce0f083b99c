package api

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/rotahq/rota"
)

// HeartbeatReader lists heartbeats' states.
type HeartbeatReader interface {
	Heartbeats(ctx context.Context) ([]rota.Heartbeat, error)
}

type heartbeatJSON struct {
	Service  string    `json:"service"`
	Name     string    `json:"name"`
	Timeout  string    `json:"timeout"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"` // waiting (never beat), up, missed
	Last     time.Time `json:"last_beat,omitzero"`
	Deadline time.Time `json:"due_by,omitzero"`
}

// beat serves POST /api/v1/heartbeats/{name}: the service's job says it
// is alive. An integration key names its service; a person or the admin
// names it with ?service=.
func (s *Server) beat(w http.ResponseWriter, r *http.Request) error {
	a := actorOf(r)
	name := r.PathValue("name")
	service := a.Service
	if q := r.URL.Query().Get("service"); q != "" {
		if service != "" && q != service {
			return rota.Errorf(rota.EFORBIDDEN, "this integration key is service %s's, not service %s's", service, q)
		}
		service = q
	}
	if service == "" {
		return rota.FieldError("service", "is required with a personal or the admin token, as ?service=NAME (a service's integration key names its own)")
	}
	if err := s.canRespond(a, service); err != nil {
		return err
	}
	hb, err := s.pager.Beat(r.Context(), service, name, a.String())
	if err != nil {
		return err
	}
	j := heartbeatJSON{Service: service, Name: name, Status: "up", Last: hb.Last, Deadline: hb.Deadline, Timeout: rota.FormatDuration(hb.Deadline.Sub(hb.Last))}
	if svc := s.book.Roster().Org().Service(service); svc != nil {
		if c := svc.Heartbeat(name); c != nil {
			j.Severity = c.Severity
		}
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

// listHeartbeats serves GET /api/v1/heartbeats: every configured
// heartbeat, when it last beat and whether it is missed.
func (s *Server) listHeartbeats(w http.ResponseWriter, r *http.Request) error {
	state := map[[2]string]rota.Heartbeat{}
	if s.heartbeats != nil {
		hbs, err := s.heartbeats.Heartbeats(r.Context())
		if err != nil {
			return err
		}
		for _, h := range hbs {
			state[[2]string{h.Service, h.Name}] = h
		}
	}
	out := []heartbeatJSON{}
	for _, svc := range s.book.Roster().Org().Services {
		for _, c := range svc.Heartbeats {
			j := heartbeatJSON{Service: svc.Name, Name: c.Name, Timeout: rota.FormatDuration(c.Timeout), Severity: c.Severity, Status: "waiting"}
			if h, ok := state[[2]string{svc.Name, c.Name}]; ok {
				j.Last, j.Deadline, j.Status = h.Last, h.Deadline, "up"
				if !h.Up {
					j.Status = "missed"
				}
			}
			out = append(out, j)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Name < out[j].Name
	})
	writeJSON(w, http.StatusOK, map[string]any{"heartbeats": out})
	return nil
}

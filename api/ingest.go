package api

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/rotahq/rota"
)

// maxWebhookBody bounds Alertmanager and Grafana bodies, which carry many
// alerts at once; MaxWebhookAlerts bounds how many one may carry, so that
// every payload is answered within seconds (Alertmanager's webhook_config
// has max_alerts to stay within it).
const (
	maxWebhookBody   = 4 << 20
	MaxWebhookAlerts = 1000
)

// apply hands an event to the engine and names what became of it:
// created (a new incident), grouped (an alert joined an open incident),
// deduplicated, acknowledged, resolved, or dropped (a follow-up with no
// open alert, which PagerDuty also accepts and drops).
func (s *Server) apply(r *http.Request, ev rota.Event) (string, rota.Alert, error) {
	if ev.Action == rota.ActionTrigger {
		res, err := s.pager.Trigger(r.Context(), ev)
		if err != nil {
			return "", rota.Alert{}, err
		}
		return res.Outcome, res.Alert, nil
	}
	// Who acts is the service's key that authenticated the request, never
	// a name in the payload (PagerDuty's client, a source's own idea).
	actor := rota.Actor{Service: ev.Service, Via: rota.ViaKey, Role: rota.RoleService}.String()
	if ev.Integration != "" {
		actor += " from " + ev.Integration
	}
	a, err := s.pager.FollowUp(r.Context(), ev.Service, ev.DedupKey, ev.Action, actor)
	switch {
	case rota.ErrorCode(err) == rota.ENOTFOUND:
		return "dropped", rota.Alert{}, nil
	case err != nil:
		return "", rota.Alert{}, err
	case ev.Action == rota.ActionAcknowledge:
		return "acknowledged", a, nil
	}
	return "resolved", a, nil
}

type ingestResult struct {
	AlertID    int64       `json:"alert_id,omitempty"`
	IncidentID int64       `json:"incident_id,omitempty"`
	DedupKey   string      `json:"dedup_key"`
	Status     rota.Status `json:"status,omitempty"`
	// Outcome is created, grouped, deduplicated, acknowledged, resolved
	// or dropped.
	Outcome string `json:"outcome"`
}

func result(outcome string, ev rota.Event, a rota.Alert) ingestResult {
	return ingestResult{AlertID: a.ID, IncidentID: a.IncidentID, DedupKey: ev.DedupKey, Status: a.Status, Outcome: outcome}
}

// postAlert serves the native POST /api/v1/alerts.
func (s *Server) postAlert(w http.ResponseWriter, r *http.Request) error {
	svc, _, err := s.service(r, requestKey(r))
	if err != nil {
		return s.rejected("native", err)
	}
	if err := jsonContent(r); err != nil {
		return s.rejected("native", err)
	}
	b, err := readBody(w, r, maxPagerDutyBody)
	if err != nil {
		return s.rejected("native", err)
	}
	ev, err := decodeNative(b)
	if err != nil {
		return s.rejected("native", err)
	}
	ev.Service = svc.Name
	outcome, a, err := s.apply(r, ev)
	if err != nil {
		return err
	}
	s.metrics.received.WithLabelValues("native", outcome).Inc()
	writeJSON(w, http.StatusAccepted, result(outcome, ev, a))
	return nil
}

func (s *Server) rejected(source string, err error) error {
	s.metrics.received.WithLabelValues(source, "rejected").Inc()
	return err
}

// postWebhook serves a webhook that carries several alerts (Alertmanager,
// Grafana): every event is applied, in order.
func (s *Server) postWebhook(source string, decode func(*http.Request, *rota.Service, []byte) ([]rota.Event, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		svc, _, err := s.service(r, requestKey(r))
		if err != nil {
			return s.rejected(source, err)
		}
		b, err := readBody(w, r, maxWebhookBody)
		if err != nil {
			return s.rejected(source, err)
		}
		events, err := decode(r, svc, b)
		if err != nil {
			return s.rejected(source, err)
		}
		if len(events) > MaxWebhookAlerts {
			return s.rejected(source, rota.Errorf(rota.ETOOLARGE, "the payload carries %d alerts; rota takes at most %d per request: set max_alerts: %d in the sender's webhook configuration",
				len(events), MaxWebhookAlerts, MaxWebhookAlerts))
		}
		// Every event is applied, in order, without waiting for the
		// one before to commit: each is queued for the store once the
		// one before is (rota.InTurn), and what each reads first runs
		// side by side, so a payload of many alerts takes a few commits,
		// not one each (1,000 took 4.7 s under the race detector, near
		// the request's deadline).
		out := make([]ingestResult, len(events))
		errs := make([]error, len(events))
		var wg sync.WaitGroup
		prev := make(chan struct{})
		close(prev)
		// Events of one alert (a firing and its resolution in one
		// payload) wait for the one before to be applied: several
		// committers (PostgreSQL) may run queued writes side by side.
		applied := map[string]chan struct{}{}
		for i, ev := range events {
			ev.Service = svc.Name
			queued := make(chan struct{})
			release := sync.OnceFunc(func() { close(queued) })
			before, done := applied[ev.DedupKey], make(chan struct{})
			applied[ev.DedupKey] = done
			wg.Add(1)
			go func(wait <-chan struct{}) {
				defer wg.Done()
				defer close(done)
				defer func() {
					// Off the handler's goroutine, a panic would take the
					// daemon down: it fails this event, as the handler's
					// own would fail the request.
					if p := recover(); p != nil {
						s.log.Error("applying an event panicked", "panic", p, "stack", string(debug.Stack()))
						errs[i] = fmt.Errorf("apply event: panic: %v", p)
					}
				}()
				if before != nil {
					<-before
				}
				// One that wrote nothing (a follow-up of no alert)
				// still lets the next go, in its turn.
				defer func() { <-wait; release() }()
				outcome, a, err := s.apply(r.WithContext(rota.InTurn(r.Context(), wait, release)), ev)
				if err != nil {
					errs[i] = err
					return
				}
				s.metrics.received.WithLabelValues(source, outcome).Inc()
				out[i] = result(outcome, ev, a)
			}(prev)
			prev = queued
		}
		wg.Wait()
		// The first event that failed answers for the payload (the
		// sender sends it again; what was applied is deduplicated).
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"alerts": out})
		return nil
	}
}

// jsonContent rejects bodies declared as something other than JSON.
func jsonContent(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return rota.Errorf(rota.EUNSUPPORTED, "the body must be JSON (Content-Type: application/json), not %q", ct)
	}
	return nil
}

package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/rotahq/rota"
)

type alertJSON struct {
	ID          int64           `json:"id"`
	Service     string          `json:"service"`
	DedupKey    string          `json:"dedup_key"`
	Status      string          `json:"status"`
	Summary     string          `json:"summary"`
	Severity    string          `json:"severity"`
	Source      string          `json:"source,omitempty"`
	Details     json.RawMessage `json:"details,omitempty"`
	Links       []rota.Link     `json:"links,omitempty"`
	Integration string          `json:"integration"`
	Count       int             `json:"count"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	AckedAt     time.Time       `json:"acknowledged_at,omitzero"`
	AckedBy     string          `json:"acknowledged_by,omitempty"`
	ResolvedAt  time.Time       `json:"resolved_at,omitzero"`
	ResolvedBy  string          `json:"resolved_by,omitempty"`
	Escalation  escalationJSON  `json:"escalation"`
}

type escalationJSON struct {
	Policy   string    `json:"policy"`
	State    string    `json:"state"`
	NextStep int       `json:"next_step"`
	Round    int       `json:"round"`
	DueAt    time.Time `json:"due_at,omitzero"`
}

func toAlertJSON(a rota.Alert) alertJSON {
	return alertJSON{ID: a.ID, Service: a.Service, DedupKey: a.DedupKey, Status: a.Status, Summary: a.Summary, Severity: a.Severity,
		Source: a.Source, Details: a.Details, Links: a.Links, Integration: a.Integration, Count: a.Count,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, AckedAt: a.AckedAt, AckedBy: a.AckedBy, ResolvedAt: a.ResolvedAt, ResolvedBy: a.ResolvedBy,
		Escalation: escalationJSON{Policy: a.Policy.Name, State: a.Escalation.State, NextStep: a.Escalation.Step + 1, Round: a.Escalation.Round + 1, DueAt: a.Escalation.DueAt}}
}

// listAlerts serves GET /api/v1/alerts?status=&service=&limit=&before=.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := rota.AlertFilter{Status: q.Get("status"), Service: q.Get("service"), Limit: 100}
	switch f.Status {
	case "", "open", rota.StatusTriggered, rota.StatusAcknowledged, rota.StatusResolved:
	default:
		return rota.FieldError("status", "must be open, triggered, acknowledged or resolved, not %q", f.Status)
	}
	if f.Service != "" && s.book.Roster().Org().Service(f.Service) == nil {
		return rota.FieldError("service", "no service named %q", f.Service)
	}
	for name, dst := range map[string]*int64{"before": &f.Before} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return rota.FieldError(name, "%q is not an alert id", v)
			}
			*dst = n
		}
	}
	var err error
	if f.Limit, err = limitParam(r, 100); err != nil {
		return err
	}
	alerts, err := s.alerts.Alerts(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]alertJSON, len(alerts))
	for i, a := range alerts {
		out[i] = toAlertJSON(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
	return nil
}

type timelineEntry struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Actor   string    `json:"actor,omitempty"`
	Message string    `json:"message"`
}

type notificationJSON struct {
	ID          int64     `json:"id"`
	Person      string    `json:"person"`
	Reason      string    `json:"reason,omitempty"`
	Channel     string    `json:"channel"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	SentAt      time.Time `json:"sent_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	BundleID    int64     `json:"bundle_id,omitempty"`
}

// getAlert serves an alert with its timeline and notifications.
func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	a, err := s.alerts.Alert(r.Context(), id)
	if err != nil {
		return err
	}
	events, notes, err := s.alerts.Timeline(r.Context(), id)
	if err != nil {
		return err
	}
	tl := make([]timelineEntry, len(events))
	for i, e := range events {
		tl[i] = timelineEntry{At: e.At, Kind: e.Kind, Actor: e.Actor, Message: e.Message}
	}
	ns := make([]notificationJSON, len(notes))
	for i, n := range notes {
		ns[i] = notificationJSON{ID: n.ID, Person: n.Person, Reason: n.Reason, Channel: n.Channel, Status: n.Status, Attempts: n.Attempts,
			SentAt: n.SentAt, LastError: n.LastError, BundleID: n.BundleID}
		if n.Status == rota.NotifyPending {
			ns[i].NextAttempt = n.NextAttempt
		}
	}
	var suspect *deployJSON
	others := []deployJSON{}
	if a.Deploy != nil {
		dj := s.deployJSON(*a.Deploy)
		suspect = &dj
	}
	if s.deploys != nil {
		window := rota.DefaultDeployWindow
		if svc := s.book.Roster().Org().Service(a.Service); svc != nil && svc.DeployWindow > 0 {
			window = svc.DeployWindow
		}
		ds, err := s.deploys.Deploys(r.Context(), rota.DeployFilter{Service: a.Service, Since: a.StartedAt.Add(-window), Until: a.StartedAt})
		if err != nil {
			return err
		}
		for _, d := range ds {
			if a.Deploy == nil || d.ID != a.Deploy.ID {
				others = append(others, s.deployJSON(d))
			}
		}
	}
	writeJSON(w, http.StatusOK, struct {
		alertJSON
		StartedAt       time.Time          `json:"started_at"`
		SuspectedDeploy *deployJSON        `json:"suspected_deploy"`
		OtherDeploys    []deployJSON       `json:"other_deploys_in_window"`
		Timeline        []timelineEntry    `json:"timeline"`
		Notifications   []notificationJSON `json:"notifications"`
	}{toAlertJSON(a), a.StartedAt, suspect, others, tl, ns})
	return nil
}

type statusRequest struct {
	By string `json:"by"`
}

// setStatus serves POST /api/v1/alerts/{id}/ack and /resolve, for the
// admin token or the alert's service's integration key.
func (s *Server) setStatus(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := idParam(r, "id")
		if err != nil {
			return err
		}
		// Authenticate before reading the alert, so that a stranger
		// cannot learn which alerts exist.
		admin, keyService, err := s.alertAuth(r)
		if err != nil {
			return err
		}
		a, err := s.alerts.Alert(r.Context(), id)
		if err != nil {
			return err
		}
		if !admin && keyService != a.Service {
			return rota.Errorf(rota.EFORBIDDEN, "this integration key is service %s's; alert %d is service %s's", keyService, id, a.Service)
		}
		var req statusRequest
		if r.ContentLength != 0 {
			if err := decodeJSON(w, r, &req, maxBody); err != nil {
				return err
			}
		}
		if req.By == "" {
			req.By = "api"
		}
		a, err = s.pager.SetStatus(r.Context(), id, action, req.By)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toAlertJSON(a))
		return nil
	}
}

// alertAuth admits the admin token or any service's integration key, and
// says which it was.
func (s *Server) alertAuth(r *http.Request) (admin bool, service string, err error) {
	st := s.settings.Load()
	if st.AdminToken != "" && checkToken(r, st) == nil {
		return true, "", nil
	}
	key := requestKey(r)
	if key == "" {
		return false, "", rota.Errorf(rota.EUNAUTHORIZED, "send the admin token or the service's integration key as \"Authorization: Bearer TOKEN\"")
	}
	svc := s.keys.lookup(s.book.Roster().Org(), key)
	if svc == nil {
		return false, "", rota.Errorf(rota.EUNAUTHORIZED, "the token is neither the admin token nor an integration key")
	}
	return false, svc.Name, nil
}

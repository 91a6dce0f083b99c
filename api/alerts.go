package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
)

type alertJSON struct {
	ID          int64           `json:"id"`
	IncidentID  int64           `json:"incident_id"`
	Service     string          `json:"service"`
	DedupKey    string          `json:"dedup_key"`
	Status      rota.Status     `json:"status"`
	Summary     string          `json:"summary"`
	Severity    string          `json:"severity"`
	Source      string          `json:"source,omitempty"`
	Details     json.RawMessage `json:"details,omitempty"`
	Links       []rota.Link     `json:"links,omitempty"`
	Integration string          `json:"integration"`
	GroupKey    string          `json:"group_key,omitempty"`
	Count       int             `json:"count"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	ResolvedAt  time.Time       `json:"resolved_at,omitzero"`
	ResolvedBy  string          `json:"resolved_by,omitempty"`
}

func toAlertJSON(a rota.Alert) alertJSON {
	return alertJSON{ID: a.ID, IncidentID: a.IncidentID, Service: a.Service, DedupKey: a.DedupKey, Status: a.Status, Summary: a.Summary,
		Severity: a.Severity, Source: a.Source, Details: a.Details, Links: a.Links, Integration: a.Integration, GroupKey: a.GroupKey,
		Count: a.Count, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, ResolvedAt: a.ResolvedAt, ResolvedBy: a.ResolvedBy}
}

// filterParams reads the status, service, limit and before parameters of
// a list of alerts or incidents.
func (s *Server) filterParams(r *http.Request) (rota.IncidentFilter, error) {
	q := r.URL.Query()
	f := rota.IncidentFilter{Status: q.Get("status"), Service: q.Get("service"), Limit: 100}
	switch rota.Status(f.Status) {
	case "", "open", rota.StatusTriggered, rota.StatusAcknowledged, rota.StatusResolved:
	default:
		return f, rota.FieldError("status", "must be open, triggered, acknowledged or resolved, not %q", f.Status)
	}
	if f.Service != "" && s.book.Roster().Org().Service(f.Service) == nil {
		return f, rota.FieldError("service", "no service named %q", f.Service)
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, rota.FieldError("before", "%q is not an id", v)
		}
		f.Before = n
	}
	var err error
	f.Limit, err = limitParam(r, 100)
	return f, err
}

// incidentFilter reads an incident list's filters: filterParams', and
// paged=me (the incidents that paged the caller).
func (s *Server) incidentFilter(r *http.Request) (rota.IncidentFilter, error) {
	f, err := s.filterParams(r)
	if err != nil {
		return f, err
	}
	switch paged := r.URL.Query().Get("paged"); paged {
	case "":
	case "me":
		if f.PagedTo = actorOf(r).Person; f.PagedTo == "" {
			return f, rota.FieldError("paged", "me: you are signed in as no person")
		}
	default:
		return f, rota.FieldError("paged", "must be me, not %q", paged)
	}
	return f, nil
}

// listAlerts serves GET /api/v1/alerts?status=&service=&limit=&before=.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	f, err := s.filterParams(r)
	if err != nil {
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

// getAlert serves an alert with its incident, the incident's timeline and
// notifications.
func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	a, err := s.alerts.Alert(r.Context(), id)
	if err != nil {
		return err
	}
	inc, err := s.incidentDetail(r, a.IncidentID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		alertJSON
		Incident        incidentJSON       `json:"incident"`
		SuspectedDeploy *deployJSON        `json:"suspected_deploy"`
		OtherDeploys    []deployJSON       `json:"other_deploys_in_window"`
		Timeline        []timelineEntry    `json:"timeline"`
		Notifications   []notificationJSON `json:"notifications"`
	}{toAlertJSON(a), inc.incidentJSON, inc.SuspectedDeploy, inc.OtherDeploys, inc.Timeline, inc.Notifications})
	return nil
}

type statusRequest struct {
	By string `json:"by"`
}

// alertStatus serves POST /api/v1/alerts/{id}/ack and /resolve:
// acknowledging acknowledges the alert's incident; resolving resolves the
// alert, and its incident with its last open alert. Who may is
// paging.Engine.Act's to say.
func (s *Server) alertStatus(action rota.Action) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.statusChange(w, r)
		if err != nil {
			return err
		}
		res, err := s.pager.Act(r.Context(), paging.Act{Actor: actorOf(r), Action: action, Alert: id})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, struct {
			alertJSON
			Incident incidentJSON `json:"incident"`
		}{toAlertJSON(res.Alert), toIncidentJSON(res.Incident)})
		return nil
	}
}

// statusChange is what acknowledging or resolving an alert or incident
// begins with: its id, from a request that does not name who acts.
func (s *Server) statusChange(w http.ResponseWriter, r *http.Request) (int64, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return 0, err
	}
	return id, refuseNamedActor(w, r, "by", actorOf(r).String())
}

// refuseNamedActor reads a status change's (optional) body and refuses one
// that names who acts: rota records who authenticated (actor), so that a
// service key cannot pass for a person's SMS.
func refuseNamedActor(w http.ResponseWriter, r *http.Request, field, actor string) error {
	var req statusRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req, maxBody); err != nil {
			return err
		}
	}
	if req.By != "" {
		return rota.FieldError(field, "is not taken: rota records who authenticated (%s)", actor)
	}
	return nil
}

// alertAuth admits the admin token or any service's integration key, and
// says which.
func (s *Server) alertAuth(r *http.Request) (admin bool, service string, err error) {
	switch a := actorOf(r); {
	case a.Role == rota.RoleAdmin:
		return true, "", nil
	case a.Service != "":
		return false, a.Service, nil
	case a.Person != "":
		return false, "", rota.Errorf(rota.EFORBIDDEN, "%s is a person: this takes a service's integration key (or the admin token)", a)
	}
	if p := callerOf(r).problem; p != nil {
		return false, "", p
	}
	return false, "", rota.Errorf(rota.EUNAUTHORIZED, "send the service's integration key as \"Authorization: Bearer KEY\" or ?key=KEY")
}

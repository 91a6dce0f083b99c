package api

import (
	"net/http"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/policy"
)

type incidentJSON struct {
	ID         int64          `json:"id"`
	Service    string         `json:"service"`
	Status     rota.Status    `json:"status"`
	Summary    string         `json:"summary"`
	Severity   string         `json:"severity"`
	Alerts     int            `json:"alert_count"`
	GroupKey   string         `json:"group_key,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	StartedAt  time.Time      `json:"started_at"`
	AckedAt    time.Time      `json:"acknowledged_at,omitzero"`
	AckedBy    string         `json:"acknowledged_by,omitempty"`
	ResolvedAt time.Time      `json:"resolved_at,omitzero"`
	ResolvedBy string         `json:"resolved_by,omitempty"`
	Escalation escalationJSON `json:"escalation"`
}

type escalationJSON struct {
	Policy   string    `json:"policy"`
	State    string    `json:"state"`
	NextStep int       `json:"next_step"`
	Round    int       `json:"round"`
	DueAt    time.Time `json:"due_at,omitzero"`
}

func toIncidentJSON(a rota.Incident) incidentJSON {
	return incidentJSON{ID: a.ID, Service: a.Service, Status: a.Status, Summary: a.Summary, Severity: a.Severity, Alerts: a.AlertCount,
		GroupKey: a.GroupKey, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, StartedAt: a.StartedAt, AckedAt: a.AckedAt, AckedBy: a.AckedBy,
		ResolvedAt: a.ResolvedAt, ResolvedBy: a.ResolvedBy,
		Escalation: escalationJSON{Policy: a.Policy.Name, State: a.Escalation.State, NextStep: a.Escalation.Step + 1, Round: a.Escalation.Round + 1, DueAt: a.Escalation.DueAt}}
}

type timelineEntry struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Alert   int64     `json:"alert_id,omitempty"`
	Actor   string    `json:"actor,omitempty"`
	Message string    `json:"message"`
}

type notificationJSON struct {
	ID int64 `json:"id"`
	// Kind is page, notice, update (news of the incident for someone
	// already told) or post (to the chat channel named in To).
	Kind        string       `json:"kind"`
	Person      string       `json:"person,omitempty"`
	To          string       `json:"to,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Channel     rota.Channel `json:"channel"`
	Status      string       `json:"status"`
	Attempts    int          `json:"attempts"`
	NextAttempt time.Time    `json:"next_attempt,omitzero"`
	SentAt      time.Time    `json:"sent_at,omitzero"`
	LastError   string       `json:"last_error,omitempty"`
	BundleID    int64        `json:"bundle_id,omitempty"`
	// Logged, on a sent notification, says it went to rotad's log and
	// not to anyone: no provider is configured for its channel.
	Logged bool `json:"logged,omitempty"`
	// Wave is the escalation step's run that made it; Shadow a learner's
	// copy.
	Wave   int  `json:"wave,omitempty"`
	Shadow bool `json:"shadow,omitempty"`
}

// listIncidents serves GET /api/v1/incidents?status=&service=&paged=&limit=&before=.
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	f, err := s.incidentFilter(r)
	if err != nil {
		return err
	}
	incidents, err := s.alerts.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]incidentJSON, len(incidents))
	for i, a := range incidents {
		out[i] = toIncidentJSON(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
	return nil
}

// incidentDetailJSON is an incident with its alerts, timeline,
// notifications and deploys.
type incidentDetailJSON struct {
	incidentJSON
	// AssignedTo are the people the latest step paged (policy.AssignedTo).
	AssignedTo      []string           `json:"assigned_to"`
	SuspectedDeploy *deployJSON        `json:"suspected_deploy"`
	OtherDeploys    []deployJSON       `json:"other_deploys_in_window"`
	AlertList       []alertJSON        `json:"alerts"`
	Timeline        []timelineEntry    `json:"timeline"`
	Notifications   []notificationJSON `json:"notifications"`
}

// getIncident serves an incident with its alerts, timeline and
// notifications.
func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	inc, err := s.incidentDetail(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) incidentDetail(r *http.Request, id int64) (incidentDetailJSON, error) {
	a, err := s.alerts.Incident(r.Context(), id)
	if err != nil {
		return incidentDetailJSON{}, err
	}
	alerts, err := s.alerts.IncidentAlerts(r.Context(), id)
	if err != nil {
		return incidentDetailJSON{}, err
	}
	events, notes, err := s.alerts.Timeline(r.Context(), id)
	if err != nil {
		return incidentDetailJSON{}, err
	}
	out := incidentDetailJSON{incidentJSON: toIncidentJSON(a), OtherDeploys: []deployJSON{}, AlertList: make([]alertJSON, len(alerts)),
		Timeline: make([]timelineEntry, len(events)), Notifications: make([]notificationJSON, len(notes))}
	for i, al := range alerts {
		out.AlertList[i] = toAlertJSON(al)
	}
	for i, e := range events {
		out.Timeline[i] = timelineEntry{At: e.At, Kind: e.Kind, Alert: e.AlertID, Actor: e.Actor, Message: e.Message}
	}
	out.AssignedTo = policy.AssignedTo(notes)
	if out.AssignedTo == nil {
		out.AssignedTo = []string{}
	}
	for i, n := range notes {
		out.Notifications[i] = notificationJSON{ID: n.ID, Kind: n.Kind, Person: n.Person, Reason: n.Reason, Channel: n.Channel, Status: n.Status, Attempts: n.Attempts,
			SentAt: n.SentAt, LastError: n.LastError, BundleID: n.BundleID, Logged: n.Status == rota.NotifySent && n.ProviderStatus == rota.DeliveryLogged,
			Wave: n.Wave, Shadow: n.Shadow}
		if n.Kind == rota.KindPost {
			out.Notifications[i].To = n.ChatChannel // the channel's name, not its address (a secret for webhooks)
		}
		if n.Status == rota.NotifyPending {
			out.Notifications[i].NextAttempt = n.NextAttempt
		}
	}
	if a.Deploy != nil {
		dj := s.deployJSON(*a.Deploy)
		out.SuspectedDeploy = &dj
	}
	if s.deploys != nil {
		window := rota.DefaultDeployWindow
		if svc := s.book.Roster().Org().Service(a.Service); svc != nil && svc.DeployWindow > 0 {
			window = svc.DeployWindow
		}
		ds, err := s.deploys.Deploys(r.Context(), rota.DeployFilter{Service: a.Service, Since: a.StartedAt.Add(-window), Until: a.StartedAt})
		if err != nil {
			return incidentDetailJSON{}, err
		}
		for _, d := range ds {
			if a.Deploy == nil || d.ID != a.Deploy.ID {
				out.OtherDeploys = append(out.OtherDeploys, s.deployJSON(d))
			}
		}
	}
	return out, nil
}

// incidentStatus serves POST /api/v1/incidents/{id}/ack, /resolve and
// /escalate. Who may is paging.Engine.Act's to say.
func (s *Server) incidentStatus(action rota.Action) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.statusChange(w, r)
		if err != nil {
			return err
		}
		res, err := s.pager.Act(r.Context(), paging.Act{Actor: actorOf(r), Action: action, Incident: id})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toIncidentJSON(res.Incident))
		return nil
	}
}

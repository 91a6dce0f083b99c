package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// MaintenanceReader reads ad hoc maintenance windows.
type MaintenanceReader interface {
	MaintenanceWindows(ctx context.Context, service string, since time.Time) ([]rota.Maintenance, error)
	MaintenanceByID(ctx context.Context, id int64) (rota.Maintenance, error)
}

type maintenanceRequest struct {
	// Duration from now ("2h"), or Start and End.
	Duration string `json:"duration"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Reason   string `json:"reason"`
}

// maintenanceJSON is a window: an ad hoc one (with its id) or the next
// occurrence of a recurring one from the configuration.
type maintenanceJSON struct {
	rota.Maintenance
	Recurring string `json:"recurring,omitempty"`
	Active    bool   `json:"active"`
}

// startMaintenance serves POST /api/v1/services/{name}/maintenance:
// {"duration": "2h"} from now, or {"start", "end"}; with a reason.
func (s *Server) startMaintenance(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if s.book.Roster().Org().Service(name) == nil {
		return rota.Errorf(rota.ENOTFOUND, "no service named %q", name)
	}
	if err := s.canRespond(actorOf(r), name); err != nil {
		return err
	}
	var req maintenanceRequest
	if err := decodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	m, err := s.startMaintenanceAs(r, name, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, maintenanceJSON{Maintenance: m, Active: m.Active(s.now())})
	return nil
}

// startMaintenanceAs sets a window on service as the caller (already
// checked to act for it), and audits it.
func (s *Server) startMaintenanceAs(r *http.Request, service string, req maintenanceRequest) (rota.Maintenance, error) {
	a := actorOf(r)
	m, err := s.maintenanceWindow(service, req, a)
	if err != nil {
		return m, err
	}
	if err := s.pager.StartMaintenance(r.Context(), &m); err != nil {
		return m, err
	}
	s.audit(r.Context(), a, "maintenance.start", "maintenance "+strconv.FormatInt(m.ID, 10)+" of "+service, s.teamOf(service),
		m.Start.Format(time.RFC3339)+" to "+m.End.Format(time.RFC3339)+" "+m.Reason)
	return m, nil
}

// maintenanceWindow reads a request into a window.
func (s *Server) maintenanceWindow(service string, req maintenanceRequest, a rota.Actor) (rota.Maintenance, error) {
	m := rota.Maintenance{Service: service, Reason: req.Reason, CreatedBy: a.String()}
	switch {
	case req.Duration != "" && (req.Start != "" || req.End != ""):
		return m, rota.FieldError("duration", "is from now: give duration, or start and end, not both")
	case req.Duration != "":
		d, err := rota.ParseDuration(req.Duration)
		if err != nil {
			return m, rota.FieldError("duration", "%v", err)
		}
		if d <= 0 {
			return m, rota.FieldError("duration", "must be positive")
		}
		if d > 7*rota.Day {
			return m, rota.FieldError("duration", "is more than a week: planned work that long is a reason to change the policy, not to silence it")
		}
		m.Start = s.now()
		m.End = m.Start.Add(d)
	default:
		if req.Start == "" {
			return m, rota.FieldError("start", "is required (or a duration from now)")
		}
		if req.End == "" {
			return m, rota.FieldError("end", "is required")
		}
		var err error
		if m.Start, err = parseTime("start", req.Start); err != nil {
			return m, err
		}
		if m.End, err = parseTime("end", req.End); err != nil {
			return m, err
		}
		if !m.End.After(s.now()) {
			return m, rota.FieldError("end", "is in the past")
		}
	}
	return m, m.Validate()
}

// listMaintenance serves GET /api/v1/maintenance?service=: the ad hoc
// windows now and ahead, and each recurring window's next occurrence.
func (s *Server) listMaintenance(w http.ResponseWriter, r *http.Request) error {
	out, err := s.maintenanceList(r.Context(), r.URL.Query().Get("service"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"maintenance": out})
	return nil
}

func (s *Server) maintenanceList(ctx context.Context, service string) ([]maintenanceJSON, error) {
	org := s.book.Roster().Org()
	if service != "" && org.Service(service) == nil {
		return nil, rota.Errorf(rota.ENOTFOUND, "no service named %q", service)
	}
	now := s.now()
	out := []maintenanceJSON{}
	if s.maintenance != nil {
		ms, err := s.maintenance.MaintenanceWindows(ctx, service, now)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out = append(out, maintenanceJSON{Maintenance: m, Active: m.Active(now)})
		}
	}
	for _, svc := range org.Services {
		if service != "" && svc.Name != service {
			continue
		}
		loc := svc.Location
		if loc == nil {
			loc = time.UTC
		}
		for _, wnd := range svc.Maintenance {
			// The next occurrence: now, or the first within a week.
			start, end, ok := scheduler.WindowAt([]rota.Window{wnd}, loc, now)
			for h := time.Duration(0); !ok && h < rota.Week; h += 15 * time.Minute {
				start, end, ok = scheduler.WindowAt([]rota.Window{wnd}, loc, now.Add(h).Truncate(15*time.Minute))
			}
			if ok {
				out = append(out, maintenanceJSON{Maintenance: rota.Maintenance{Service: svc.Name, Start: start, End: end, CreatedBy: "configuration"},
					Recurring: wnd.String(), Active: !now.Before(start) && now.Before(end)})
			}
		}
	}
	return out, nil
}

// endMaintenance serves DELETE /api/v1/maintenance/{id}: the window ends
// now (one not begun is cancelled), and what waited for it goes.
func (s *Server) endMaintenance(w http.ResponseWriter, r *http.Request) error {
	m, err := s.endMaintenanceAs(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, maintenanceJSON{Maintenance: m})
	return nil
}

// endMaintenanceAs ends the window {id} as the caller, who must be able
// to act for its service, and audits it.
func (s *Server) endMaintenanceAs(r *http.Request) (rota.Maintenance, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return rota.Maintenance{}, err
	}
	if s.maintenance == nil {
		return rota.Maintenance{}, rota.Errorf(rota.ENOTFOUND, "no maintenance window %d", id)
	}
	m, err := s.maintenance.MaintenanceByID(r.Context(), id)
	if err != nil {
		return m, err
	}
	a := actorOf(r)
	if err := s.canRespond(a, m.Service); err != nil {
		return m, err
	}
	if m, err = s.pager.EndMaintenance(r.Context(), id); err != nil {
		return m, err
	}
	s.audit(r.Context(), a, "maintenance.end", "maintenance "+strconv.FormatInt(id, 10)+" of "+m.Service, s.teamOf(m.Service), "")
	return m, nil
}

// teamOf is a service's team, for the audit log.
func (s *Server) teamOf(service string) string {
	if svc := s.book.Roster().Org().Service(service); svc != nil {
		return svc.Team
	}
	return ""
}

// maintenancePage serves GET /maintenance: windows now and ahead, and
// the form to start one on the services the caller may.
func (s *Server) maintenancePage(w http.ResponseWriter, r *http.Request) error {
	a := actorOf(r)
	list, err := s.maintenanceList(r.Context(), "")
	if err != nil {
		return err
	}
	loc := s.zoneOf(r)
	type row struct {
		ID                                       int64
		Service, From, To, Reason, By, Recurring string
		Active, CanEnd                           bool
	}
	var rows []row
	for _, m := range list {
		rows = append(rows, row{ID: m.ID, Service: m.Service, From: when(m.Start, loc), To: when(m.End, loc), Reason: m.Reason, By: m.CreatedBy,
			Recurring: m.Recurring, Active: m.Active, CanEnd: m.ID != 0 && s.canRespond(a, m.Service) == nil})
	}
	var services []string
	for _, svc := range s.book.Roster().Org().Services {
		if s.canRespond(a, svc.Name) == nil {
			services = append(services, svc.Name)
		}
	}
	data := struct {
		Rows     []row
		Services []string
	}{rows, services}
	return s.render(w, r, http.StatusOK, "maintenance", "Maintenance", "maintenance", data)
}

// startMaintenanceForm serves POST /maintenance.
func (s *Server) startMaintenanceForm(w http.ResponseWriter, r *http.Request) error {
	service := r.PostFormValue("service")
	if s.book.Roster().Org().Service(service) == nil {
		return rota.FieldError("service", "no service named %q", service)
	}
	if err := s.canRespond(actorOf(r), service); err != nil {
		return err
	}
	req := maintenanceRequest{Duration: r.PostFormValue("duration"), Reason: r.PostFormValue("reason")}
	if req.Duration == "" {
		// datetime-local is the caller's wall-clock time, without a zone.
		loc := s.zoneOf(r)
		for _, f := range []struct {
			in  string
			out *string
		}{{r.PostFormValue("start"), &req.Start}, {r.PostFormValue("end"), &req.End}} {
			if f.in == "" {
				continue
			}
			t, err := time.ParseInLocation("2006-01-02T15:04", f.in, loc)
			if err != nil {
				return rota.FieldError("start", "%q is not a date and time", f.in)
			}
			*f.out = t.Format(time.RFC3339)
		}
	}
	m, err := s.startMaintenanceAs(r, service, req)
	if err != nil {
		return err
	}
	return backTo(w, r, "/maintenance", "Maintenance of "+service+" until "+when(m.End, s.zoneOf(r))+".")
}

// endMaintenanceForm serves POST /maintenance/{id}/end.
func (s *Server) endMaintenanceForm(w http.ResponseWriter, r *http.Request) error {
	m, err := s.endMaintenanceAs(r)
	if err != nil {
		return err
	}
	return backTo(w, r, "/maintenance", "Maintenance of "+m.Service+" ended.")
}

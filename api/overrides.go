package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

type overrideRequest struct {
	Person    string `json:"person"`
	Start     string `json:"start"`
	End       string `json:"end"`
	Reason    string `json:"reason"`
	CreatedBy string `json:"created_by"`
}

type overrideJSON struct {
	ID        int64     `json:"id"`
	Rotation  string    `json:"rotation"`
	Person    string    `json:"person"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func toOverrideJSON(o rota.Override) overrideJSON {
	return overrideJSON{ID: o.ID, Rotation: o.Rotation, Person: o.Person, Start: o.Start, End: o.End, Reason: o.Reason, CreatedBy: o.CreatedBy, CreatedAt: o.CreatedAt}
}

func (s *Server) createOverride(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.rotation(r)
	if err != nil {
		return err
	}
	var req overrideRequest
	if err := decodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	a := actorOf(r)
	if req.CreatedBy != "" {
		return rota.FieldError("created_by", "is not taken: rota records who authenticated (%s)", a)
	}
	o := rota.Override{Rotation: rot.Name, Person: req.Person, Reason: req.Reason}
	if req.Start == "" {
		return rota.FieldError("start", "is required")
	}
	if o.Start, err = parseTime("start", req.Start); err != nil {
		return err
	}
	if req.End == "" {
		return rota.FieldError("end", "is required")
	}
	if o.End, err = parseTime("end", req.End); err != nil {
		return err
	}
	if err := s.addOverride(r, rot, &o); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/rotations/"+rot.Name+"/overrides")
	writeJSON(w, http.StatusCreated, toOverrideJSON(o))
	return nil
}

// addOverride checks and stores o, made by the caller: a responder puts
// only themselves on call, on their teams' rotations; the rotation's
// team's managers and admins put anyone.
func (s *Server) addOverride(r *http.Request, rot *rota.Rotation, o *rota.Override) error {
	a := actorOf(r)
	o.CreatedBy = a.String()
	if err := o.Validate(); err != nil {
		return err
	}
	org := s.book.Roster().Org()
	if org.Person(o.Person) == nil {
		return rota.FieldError("person", "no person named %q in the configuration", o.Person)
	}
	if s.canManage(a, rot.Team) != nil {
		switch {
		case o.Person != a.Person:
			return rota.Errorf(rota.EFORBIDDEN, "%s may put only themselves on call, not %s: team %s's managers can put anyone", a.Person, o.Person, rot.Team)
		case rot.Team != "" && !slices.Contains(org.TeamsOf(a.Person), rot.Team):
			return rota.Errorf(rota.EFORBIDDEN, "%s is not on team %s, whose rotation %s is", a.Person, rot.Team, rot.Name)
		}
	}
	// An override wholly in the past pages nobody; it only rewrites who
	// was on call, which fairness and "who covers next" count. That is a
	// correction of the record: an admin's, with a reason.
	if !o.End.After(s.now()) {
		if a.Role != rota.RoleAdmin {
			return rota.Errorf(rota.EFORBIDDEN, "the override ended %s, before now: it would only rewrite who was on call, which an admin may correct, with a reason",
				o.End.UTC().Format(time.RFC3339))
		}
		if strings.TrimSpace(o.Reason) == "" {
			return rota.FieldError("reason", "is required for an override wholly in the past (a correction of who was on call): say why")
		}
	}
	// The store and the roster change together under the book's lock, so
	// the roster always matches what this daemon, the only writer, stored.
	if err := s.book.Update(func(roster *scheduler.Roster) (*scheduler.Roster, error) {
		if err := s.overrides.CreateOverride(r.Context(), o); err != nil {
			return nil, err
		}
		return roster.WithOverride(*o), nil
	}); err != nil {
		return err
	}
	s.audit(r.Context(), a, "override.create", "override "+strconv.FormatInt(o.ID, 10)+" on rotation "+rot.Name, rot.Team,
		fmt.Sprintf("%s on call %s to %s", o.Person, o.Start.Format(time.RFC3339), o.End.Format(time.RFC3339)))
	s.log.Info("override created", "id", o.ID, "rotation", o.Rotation, "person", o.Person, "start", o.Start, "end", o.End, "by", o.CreatedBy)
	return nil
}

// listOverrides lists a rotation's overrides that end after ?from= (now by
// default) and start before ?to= (unbounded by default).
func (s *Server) listOverrides(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.rotation(r)
	if err != nil {
		return err
	}
	from, err := timeParam(r, "from", s.now())
	if err != nil {
		return err
	}
	to, err := timeParam(r, "to", time.Time{})
	if err != nil {
		return err
	}
	ovs, err := s.overrides.Overrides(r.Context(), rot.Name)
	if err != nil {
		return err
	}
	out := []overrideJSON{}
	for _, o := range ovs {
		if o.End.After(from) && (to.IsZero() || o.Start.Before(to)) {
			out = append(out, toOverrideJSON(o))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rotation": rot.Name, "overrides": out})
	return nil
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	o, err := s.removeOverride(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOverrideJSON(o))
	return nil
}

// removeOverride deletes override id for the caller: the rotation's
// team's managers and admins any; a responder one they made putting
// themselves on call.
func (s *Server) removeOverride(r *http.Request, id int64) (rota.Override, error) {
	a := actorOf(r)
	o, err := s.overrides.Override(r.Context(), id)
	if err != nil {
		return rota.Override{}, err
	}
	team := ""
	if rot := s.book.Roster().Org().Rotation(o.Rotation); rot != nil {
		team = rot.Team
	}
	if s.canManage(a, team) != nil && (o.Person != a.Person || !strings.HasPrefix(o.CreatedBy, a.Person+" (")) {
		return rota.Override{}, rota.Errorf(rota.EFORBIDDEN, "%s may delete only overrides they made putting themselves on call: team %s's managers can delete this one", a.Person, team)
	}
	if err := s.book.Update(func(roster *scheduler.Roster) (*scheduler.Roster, error) {
		if o, err = s.overrides.DeleteOverride(r.Context(), id); err != nil {
			return nil, err
		}
		return roster.WithoutOverride(o.Rotation, o.ID), nil
	}); err != nil {
		return rota.Override{}, err
	}
	s.audit(r.Context(), a, "override.delete", "override "+strconv.FormatInt(o.ID, 10)+" on rotation "+o.Rotation, team,
		fmt.Sprintf("%s was on call %s to %s", o.Person, o.Start.Format(time.RFC3339), o.End.Format(time.RFC3339)))
	s.log.Info("override deleted", "id", o.ID, "rotation", o.Rotation, "person", o.Person, "by", a.String())
	return o, nil
}

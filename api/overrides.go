package api

import (
	"net/http"
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
	if req.CreatedBy != "" {
		return rota.FieldError("created_by", "is not taken: rota records who authenticated (%s)", actorOf(true, ""))
	}
	o := rota.Override{Rotation: rot.Name, Person: req.Person, Reason: req.Reason, CreatedBy: actorOf(true, "")}
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
	if err := o.Validate(); err != nil {
		return err
	}
	if s.book.Roster().Org().Person(o.Person) == nil {
		return rota.FieldError("person", "no person named %q in the configuration", o.Person)
	}
	// The store and the roster change together under the book's lock, so
	// the roster always matches what this daemon, the only writer, stored.
	if err := s.book.Update(func(roster *scheduler.Roster) (*scheduler.Roster, error) {
		if err := s.overrides.CreateOverride(r.Context(), &o); err != nil {
			return nil, err
		}
		return roster.WithOverride(o), nil
	}); err != nil {
		return err
	}
	s.log.Info("override created", "id", o.ID, "rotation", o.Rotation, "person", o.Person, "start", o.Start, "end", o.End, "by", o.CreatedBy)
	w.Header().Set("Location", "/api/v1/rotations/"+rot.Name+"/overrides")
	writeJSON(w, http.StatusCreated, toOverrideJSON(o))
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
	var o rota.Override
	if err := s.book.Update(func(roster *scheduler.Roster) (*scheduler.Roster, error) {
		if o, err = s.overrides.DeleteOverride(r.Context(), id); err != nil {
			return nil, err
		}
		return roster.WithoutOverride(o.Rotation, o.ID), nil
	}); err != nil {
		return err
	}
	s.log.Info("override deleted", "id", o.ID, "rotation", o.Rotation, "person", o.Person)
	writeJSON(w, http.StatusOK, toOverrideJSON(o))
	return nil
}

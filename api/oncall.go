package api

import (
	"net/http"
	"time"

	"github.com/rotahq/rota"
)

// maxShiftRange bounds a shifts query.
const maxShiftRange = 400 * rota.Day

type shiftJSON struct {
	Rotation   string    `json:"rotation"`
	Person     string    `json:"person"`
	PersonName string    `json:"person_name,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Override   bool      `json:"override"`
	OverrideID int64     `json:"override_id,omitempty"`
}

func (s *Server) shiftJSON(org *rota.Org, sh rota.Shift) shiftJSON {
	j := shiftJSON{Rotation: sh.Rotation, Person: sh.Person, Start: sh.Start, End: sh.End, Override: sh.IsOverride(), OverrideID: sh.OverrideID}
	if p := org.Person(sh.Person); p != nil && p.FullName != "" {
		j.PersonName = p.FullName
	}
	return j
}

type onCallJSON struct {
	shiftJSON
	Team string `json:"team"`
}

type gapJSON struct {
	Rotation string    `json:"rotation"`
	Team     string    `json:"team"`
	Reason   string    `json:"reason"`
	Until    time.Time `json:"until,omitzero"`
}

type onCallResponse struct {
	At     time.Time    `json:"at"`
	OnCall []onCallJSON `json:"oncall"`
	// Gaps are rotations with nobody on call at At: never a silent hole.
	Gaps []gapJSON `json:"gaps"`
}

// getOnCall answers who is on call on every rotation at ?at= (now by
// default).
func (s *Server) getOnCall(w http.ResponseWriter, r *http.Request) error {
	at, err := timeParam(r, "at", s.now())
	if err != nil {
		return err
	}
	roster := s.book.Roster()
	org := roster.Org()
	resp := onCallResponse{At: at.UTC(), OnCall: make([]onCallJSON, 0, len(org.Rotations)), Gaps: []gapJSON{}}
	for _, rot := range org.Rotations {
		sh, ok := roster.OnCall(rot.Name, at)
		if !ok {
			resp.Gaps = append(resp.Gaps, s.gap(rot, at))
			continue
		}
		resp.OnCall = append(resp.OnCall, onCallJSON{shiftJSON: s.shiftJSON(org, sh), Team: rot.Team})
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) gap(rot *rota.Rotation, at time.Time) gapJSON {
	g := gapJSON{Rotation: rot.Name, Team: rot.Team, Reason: "nobody is on call"}
	if first := s.book.Roster().Timeline(rot.Name).Shifts(at, at.Add(maxShiftRange)); len(first) > 0 {
		g.Reason = "the rotation has not started"
		g.Until = first[0].Start
	}
	return g
}

type rotationJSON struct {
	Name        string      `json:"name"`
	Team        string      `json:"team"`
	Description string      `json:"description,omitempty"`
	Members     []string    `json:"members"`
	Shift       string      `json:"shift"`
	Handoff     string      `json:"handoff"`
	TimeZone    string      `json:"timezone"`
	Start       string      `json:"start"`
	OnCall      *shiftJSON  `json:"oncall"`
	Next        []shiftJSON `json:"next,omitempty"`
}

func (s *Server) rotationJSON(rot *rota.Rotation, now time.Time, upcoming int) rotationJSON {
	roster := s.book.Roster()
	j := rotationJSON{
		Name: rot.Name, Team: rot.Team, Description: rot.Description, Members: rot.Members,
		Shift: rota.FormatDuration(time.Duration(rot.ShiftDays) * rota.Day), Handoff: rot.Handoff.String(),
		TimeZone: rot.Location.String(), Start: rot.Start.Format("2006-01-02"),
	}
	if sh, ok := roster.OnCall(rot.Name, now); ok {
		sj := s.shiftJSON(roster.Org(), sh)
		j.OnCall = &sj
	}
	if upcoming > 0 {
		for _, sh := range roster.Shifts(rot.Name, now, now.Add(maxShiftRange)) {
			if sh.Start.After(now) && len(j.Next) < upcoming {
				j.Next = append(j.Next, s.shiftJSON(roster.Org(), sh))
			}
		}
	}
	return j
}

func (s *Server) listRotations(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	org := s.book.Roster().Org()
	out := make([]rotationJSON, 0, len(org.Rotations))
	for _, rot := range org.Rotations {
		out = append(out, s.rotationJSON(rot, now, 0))
	}
	writeJSON(w, http.StatusOK, map[string]any{"rotations": out})
	return nil
}

func (s *Server) rotation(r *http.Request) (*rota.Rotation, error) {
	name := r.PathValue("name")
	rot := s.book.Roster().Org().Rotation(name)
	if rot == nil {
		return nil, rota.Errorf(rota.ENOTFOUND, "no rotation named %q", name)
	}
	return rot, nil
}

func (s *Server) getRotation(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.rotation(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.rotationJSON(rot, s.now(), 4))
	return nil
}

// getShifts lists the final shifts of a rotation in [from, to), four weeks
// from now by default.
func (s *Server) getShifts(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.rotation(r)
	if err != nil {
		return err
	}
	from, err := timeParam(r, "from", s.now())
	if err != nil {
		return err
	}
	to, err := timeParam(r, "to", from.Add(4*rota.Week))
	if err != nil {
		return err
	}
	switch {
	case !to.After(from):
		return rota.FieldError("to", "must be after from")
	case to.Sub(from) > maxShiftRange:
		return rota.FieldError("to", "the range may span at most %s", rota.FormatDuration(maxShiftRange))
	}
	roster := s.book.Roster()
	shifts := roster.Shifts(rot.Name, from, to)
	out := make([]shiftJSON, len(shifts))
	for i, sh := range shifts {
		out[i] = s.shiftJSON(roster.Org(), sh)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rotation": rot.Name, "from": from.UTC(), "to": to.UTC(), "shifts": out})
	return nil
}

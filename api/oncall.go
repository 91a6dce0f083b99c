package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// maxShiftRange bounds a shifts query.
const maxShiftRange = 400 * rota.Day

type shiftJSON struct {
	Rotation    string    `json:"rotation"`
	Person      string    `json:"person"`
	PersonName  string    `json:"person_name,omitempty"`
	CoveringFor string    `json:"covering_for,omitempty"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Override    bool      `json:"override"`
	OverrideID  int64     `json:"override_id,omitempty"`
	// Layer is, on a schedule, the rotation whose shift this is.
	Layer string `json:"layer,omitempty"`
}

func (s *Server) shiftJSON(org *rota.Org, sh rota.Shift) shiftJSON {
	j := shiftJSON{Rotation: sh.Rotation, Person: sh.Person, Start: sh.Start, End: sh.End, Override: sh.IsOverride(), OverrideID: sh.OverrideID,
		CoveringFor: sh.CoveringFor, Layer: sh.Layer}
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

type onCallLists struct {
	OnCall []onCallJSON `json:"oncall"`
	// Gaps are rotations with nobody on call: never a silent hole.
	Gaps []gapJSON `json:"gaps"`
}

// onCallAnswer is the encoded on-call lists of one roster, which hold for
// every instant in [from, until): no shift starts or ends in between.
// Calendar clients and dashboards ask "who is on call now" far more often
// than a shift changes, so the answer is computed once per interval.
type onCallAnswer struct {
	roster      *scheduler.Roster
	from, until time.Time
	body        []byte // {"oncall":[...],"gaps":[...]}
}

func (a *onCallAnswer) holds(r *scheduler.Roster, at time.Time) bool {
	return a != nil && a.roster == r && !at.Before(a.from) && at.Before(a.until)
}

// getOnCall answers who is on call on every rotation at ?at= (now by
// default).
func (s *Server) getOnCall(w http.ResponseWriter, r *http.Request) error {
	at, err := timeParam(r, "at", s.now())
	if err != nil {
		return err
	}
	roster := s.book.Roster()
	ans := s.onCall.Load()
	if !ans.holds(roster, at) {
		ans = s.answerOnCall(roster, at)
		s.onCall.Store(ans)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	buf := make([]byte, 0, len(ans.body)+48)
	buf = append(buf, `{"at":"`...)
	buf = at.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `",`...)
	buf = append(buf, ans.body[1:]...)
	w.Write(buf)
	return nil
}

func (s *Server) answerOnCall(roster *scheduler.Roster, at time.Time) *onCallAnswer {
	org := roster.Org()
	lists := onCallLists{OnCall: make([]onCallJSON, 0, len(org.Rotations)), Gaps: []gapJSON{}}
	ans := &onCallAnswer{roster: roster, from: time.Unix(0, 0), until: at.Add(maxShiftRange)}
	narrow := func(from, until time.Time) {
		if from.After(ans.from) {
			ans.from = from
		}
		if !until.IsZero() && until.Before(ans.until) {
			ans.until = until
		}
	}
	for _, rot := range org.Rotations {
		sh, ok := roster.OnCall(rot.Name, at)
		if !ok {
			g := s.gap(rot, at)
			narrow(time.Time{}, g.Until)
			lists.Gaps = append(lists.Gaps, g)
			continue
		}
		narrow(sh.Start, sh.End)
		lists.OnCall = append(lists.OnCall, onCallJSON{shiftJSON: s.shiftJSON(org, sh), Team: rot.Team})
	}
	// A gap with no shift ahead has no known end: that answer is good
	// only for the instant asked about.
	for _, g := range lists.Gaps {
		if g.Until.IsZero() {
			ans.from, ans.until = at, at.Add(time.Nanosecond)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(lists)
	ans.body = b.Bytes()
	return ans
}

func (s *Server) gap(rot *rota.Rotation, at time.Time) gapJSON {
	g := gapJSON{Rotation: rot.Name, Team: rot.Team, Reason: "nobody is on call"}
	started := !at.Before(rot.Start)
	why := "every member is on leave"
	switch {
	case rot.IsSchedule():
		why = "no layer has anyone on call"
	case len(rot.Active) > 0 && !s.book.Roster().Active(rot.Name, at):
		why = "outside the rotation's active hours"
	}
	if next := s.book.Roster().Timeline(rot.Name).Shifts(at, at.Add(maxShiftRange)); len(next) > 0 {
		g.Until = next[0].Start
		g.Reason = "the rotation has not started"
		if started {
			g.Reason = why
		}
	} else if started {
		g.Reason = why
	}
	return g
}

type rotationJSON struct {
	Name        string   `json:"name"`
	Team        string   `json:"team"`
	Description string   `json:"description,omitempty"`
	Members     []string `json:"members"`
	// Layers, on a schedule, are its rotations, lowest first; a schedule
	// has no shift, handoff or start of its own.
	Layers   []string    `json:"layers,omitempty"`
	Shift    string      `json:"shift,omitempty"`
	Handoff  string      `json:"handoff,omitempty"`
	Active   []string    `json:"active,omitempty"`
	TimeZone string      `json:"timezone"`
	Start    string      `json:"start,omitempty"`
	OnCall   *shiftJSON  `json:"oncall"`
	Next     []shiftJSON `json:"next,omitempty"`
}

func (s *Server) rotationJSON(rot *rota.Rotation, now time.Time, upcoming int) rotationJSON {
	roster := s.book.Roster()
	j := rotationJSON{Name: rot.Name, Team: rot.Team, Description: rot.Description, Members: rot.Members, TimeZone: rot.Location.String()}
	if rot.IsSchedule() {
		j.Layers = rot.Layers
	} else {
		j.Shift, j.Handoff, j.Start = rota.FormatDuration(time.Duration(rot.ShiftDays)*rota.Day), rot.Handoff.String(), rot.Start.Format("2006-01-02")
		for _, w := range rot.Active {
			j.Active = append(j.Active, w.String())
		}
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

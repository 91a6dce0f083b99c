package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// Teller sends people messages that are not pages.
type Teller interface {
	Tell(ctx context.Context, person, text string) (string, error)
}

// SwapStore stores the overrides of a swap together.
type SwapStore interface {
	CreateOverrides(ctx context.Context, os []*rota.Override) error
}

type swapRequest struct {
	A           string `json:"a"`
	B           string `json:"b"`
	ShiftAStart string `json:"shift_a_start"`
	ShiftBStart string `json:"shift_b_start"`
	Reason      string `json:"reason"`
}

// swap serves POST /api/v1/rotations/{name}/swaps: a and b trade the
// shifts that start at the given times, as two overrides made together.
func (s *Server) swap(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.rotation(r)
	if err != nil {
		return err
	}
	var req swapRequest
	if err := decodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	org := s.book.Roster().Org()
	for field, name := range map[string]string{"a": req.A, "b": req.B} {
		if name == "" {
			return rota.FieldError(field, "is required")
		}
		if org.Person(name) == nil {
			return rota.FieldError(field, "no person named %q", name)
		}
	}
	if req.A == req.B {
		return rota.FieldError("b", "must be someone other than a")
	}
	shift := func(field, person, start string) (rota.Shift, error) {
		if start == "" {
			return rota.Shift{}, rota.FieldError(field, "is required")
		}
		t, err := parseTime(field, start)
		if err != nil {
			return rota.Shift{}, err
		}
		sh, ok := s.book.Roster().OnCall(rot.Name, t)
		if !ok || !sh.Start.Equal(t) || sh.Person != person {
			return rota.Shift{}, rota.FieldError(field, "%s has no shift on %s starting at %s", person, rot.Name, t.UTC().Format(time.RFC3339))
		}
		return sh, nil
	}
	sa, err := shift("shift_a_start", req.A, req.ShiftAStart)
	if err != nil {
		return err
	}
	sb, err := shift("shift_b_start", req.B, req.ShiftBStart)
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("swap: %s and %s trade shifts", req.A, req.B)
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	ovs := []*rota.Override{
		{Rotation: rot.Name, Person: req.B, Start: sa.Start, End: sa.End, Reason: reason, CreatedBy: "swap"},
		{Rotation: rot.Name, Person: req.A, Start: sb.Start, End: sb.End, Reason: reason, CreatedBy: "swap"},
	}
	if err := s.book.Update(func(roster *scheduler.Roster) (*scheduler.Roster, error) {
		if err := s.swaps.CreateOverrides(r.Context(), ovs); err != nil {
			return nil, err
		}
		return roster.WithOverride(*ovs[0]).WithOverride(*ovs[1]), nil
	}); err != nil {
		return err
	}
	loc := rot.Location
	when := func(sh rota.Shift) string {
		return sh.Start.In(loc).Format("Mon 2 Jan 15:04") + " to " + sh.End.In(loc).Format("Mon 2 Jan 15:04 MST")
	}
	told := map[string]string{}
	for _, m := range []struct {
		to, other    string
		takes, gives rota.Shift
	}{{req.A, req.B, sb, sa}, {req.B, req.A, sa, sb}} {
		text := fmt.Sprintf("rota: you swapped %s shifts with %s. You are now on call %s, and %s covers %s.", rot.Name, m.other, when(m.takes), m.other, when(m.gives))
		if ch, err := s.teller.Tell(r.Context(), m.to, text); err == nil {
			told[m.to] = ch
		} else {
			told[m.to] = "not told: " + rota.ErrorMessage(err)
		}
	}
	s.log.Info("shifts swapped", "rotation", rot.Name, "a", req.A, "b", req.B, "a_shift", sa.Start, "b_shift", sb.Start)
	writeJSON(w, http.StatusCreated, map[string]any{"overrides": []overrideJSON{toOverrideJSON(*ovs[0]), toOverrideJSON(*ovs[1])}, "told": told})
	return nil
}

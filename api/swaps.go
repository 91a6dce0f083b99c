package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
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

// SwapRequestStore keeps swaps one person proposes and another decides.
type SwapRequestStore interface {
	// ProposeSwap stores a proposal, setting its id and status.
	ProposeSwap(ctx context.Context, s *rota.SwapRequest) error
	// SwapRequest returns one proposal, or ENOTFOUND.
	SwapRequest(ctx context.Context, id int64) (rota.SwapRequest, error)
	// SwapRequests lists person's proposals (all for ""), newest first.
	SwapRequests(ctx context.Context, person string, limit int) ([]rota.SwapRequest, error)
	// DecideSwap accepts (storing overrides in the same transaction),
	// declines or cancels a proposal still open, or fails with ECONFLICT.
	DecideSwap(ctx context.Context, id int64, status rota.SwapStatus, by string, overrides []*rota.Override) (rota.SwapRequest, error)
}

type swapRequest struct {
	A           string `json:"a"`
	B           string `json:"b"`
	ShiftAStart string `json:"shift_a_start"`
	ShiftBStart string `json:"shift_b_start"`
	Reason      string `json:"reason"`
}

// swap serves POST /api/v1/rotations/{name}/swaps, for the rotation's
// team's managers and admins: a and b trade the shifts that start at the
// given times, as two overrides made together, without asking them.
func (s *Server) swap(w http.ResponseWriter, r *http.Request) error {
	rot, err := s.rotation(r)
	if err != nil {
		return err
	}
	if rot.IsSchedule() {
		return scheduleSwapError(rot)
	}
	if err := s.canManage(actorOf(r), rot.Team); err != nil {
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
	sa, err := s.shiftAt(rot, "shift_a_start", req.A, req.ShiftAStart)
	if err != nil {
		return err
	}
	sb, err := s.shiftAt(rot, "shift_b_start", req.B, req.ShiftBStart)
	if err != nil {
		return err
	}
	ovs := tradeOverrides(rot, req.A, req.B, sa, sb, req.Reason)
	if err := s.book.Update(func(roster *scheduler.Roster) (*scheduler.Roster, error) {
		if err := s.swaps.CreateOverrides(r.Context(), ovs); err != nil {
			return nil, err
		}
		return roster.WithOverride(*ovs[0]).WithOverride(*ovs[1]), nil
	}); err != nil {
		return err
	}
	told := s.tellTraded(r.Context(), rot, req.A, req.B, sa, sb)
	a := actorOf(r)
	s.audit(r.Context(), a, "swap.make", "rotation "+rot.Name, rot.Team, fmt.Sprintf("%s and %s trade shifts of %s and %s", req.A, req.B, sa.Start.Format(time.RFC3339), sb.Start.Format(time.RFC3339)))
	s.log.Info("shifts swapped", "rotation", rot.Name, "a", req.A, "b", req.B, "a_shift", sa.Start, "b_shift", sb.Start, "by", a.String())
	writeJSON(w, http.StatusCreated, map[string]any{"overrides": []overrideJSON{toOverrideJSON(*ovs[0]), toOverrideJSON(*ovs[1])}, "told": told})
	return nil
}

// shiftAt returns person's shift on rot that starts at start (RFC 3339),
// or an error naming field.
func (s *Server) shiftAt(rot *rota.Rotation, field, person, start string) (rota.Shift, error) {
	if start == "" {
		return rota.Shift{}, rota.FieldError(field, "is required")
	}
	t, err := parseTime(field, start)
	if err != nil {
		return rota.Shift{}, err
	}
	return s.shiftStarting(rot, field, person, t)
}

func (s *Server) shiftStarting(rot *rota.Rotation, field, person string, t time.Time) (rota.Shift, error) {
	sh, ok := s.book.Roster().OnCall(rot.Name, t)
	if !ok || !sh.Start.Equal(t) || sh.Person != person {
		return rota.Shift{}, rota.FieldError(field, "%s has no shift on %s starting at %s", person, rot.Name, t.UTC().Format(time.RFC3339))
	}
	return sh, nil
}

// tradeOverrides are the two overrides by which a takes b's shift sb and
// b takes a's shift sa.
func tradeOverrides(rot *rota.Rotation, a, b string, sa, sb rota.Shift, why string) []*rota.Override {
	reason := fmt.Sprintf("swap: %s and %s trade shifts", a, b)
	if why != "" {
		reason += ": " + why
	}
	return []*rota.Override{
		{Rotation: rot.Name, Person: b, Start: sa.Start, End: sa.End, Reason: reason, CreatedBy: "swap"},
		{Rotation: rot.Name, Person: a, Start: sb.Start, End: sb.End, Reason: reason, CreatedBy: "swap"},
	}
}

// tellTraded tells a and b what they now cover, and says how each was
// told.
func (s *Server) tellTraded(ctx context.Context, rot *rota.Rotation, a, b string, sa, sb rota.Shift) map[string]string {
	told := map[string]string{}
	for _, m := range []struct {
		to, other    string
		takes, gives rota.Shift
	}{{a, b, sb, sa}, {b, a, sa, sb}} {
		text := fmt.Sprintf("rota: you swapped %s shifts with %s. You are now on call %s, and %s covers %s.", rot.Name, m.other, shiftWhen(rot, m.takes), m.other, shiftWhen(rot, m.gives))
		told[m.to] = s.tell(ctx, m.to, text)
	}
	return told
}

// tell sends person a message and says how it went.
func (s *Server) tell(ctx context.Context, person, text string) string {
	if s.teller == nil {
		return "not told: no way to send messages"
	}
	ch, err := s.teller.Tell(ctx, person, text)
	if err != nil {
		return "not told: " + rota.ErrorMessage(err)
	}
	return ch
}

func shiftWhen(rot *rota.Rotation, sh rota.Shift) string {
	loc := rot.Location
	return sh.Start.In(loc).Format("Mon 2 Jan 15:04") + " to " + sh.End.In(loc).Format("Mon 2 Jan 15:04 MST")
}

// scheduleSwapError refuses a swap on a schedule: its shifts are its
// layers', traded on the layer (or covered with an override on the
// schedule).
func scheduleSwapError(rot *rota.Rotation) error {
	return rota.FieldError("rotation", "%s is a schedule: trade shifts on one of its layers (%s), or put someone on call with an override", rot.Name, strings.Join(rot.Layers, ", "))
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

type swapRequestJSON struct {
	ID            int64           `json:"id"`
	Rotation      string          `json:"rotation"`
	Proposer      string          `json:"proposer"`
	ProposerShift spanJSON        `json:"proposer_shift"`
	Partner       string          `json:"partner"`
	PartnerShift  spanJSON        `json:"partner_shift"`
	Reason        string          `json:"reason,omitempty"`
	Status        rota.SwapStatus `json:"status"`
	CreatedAt     time.Time       `json:"created_at"`
	DecidedAt     *time.Time      `json:"decided_at,omitempty"`
	DecidedBy     string          `json:"decided_by,omitempty"`
}

type spanJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func toSwapRequestJSON(sr rota.SwapRequest) swapRequestJSON {
	return swapRequestJSON{ID: sr.ID, Rotation: sr.Rotation, Proposer: sr.Proposer, Partner: sr.Partner, Reason: sr.Reason,
		ProposerShift: spanJSON{sr.ProposerShift.Start, sr.ProposerShift.End}, PartnerShift: spanJSON{sr.PartnerShift.Start, sr.PartnerShift.End},
		Status: sr.Status, CreatedAt: sr.CreatedAt, DecidedAt: sr.DecidedAt, DecidedBy: sr.DecidedBy}
}

type proposeSwapRequest struct {
	Rotation        string `json:"rotation"`
	Partner         string `json:"partner"`
	MyShiftStart    string `json:"my_shift_start"`
	TheirShiftStart string `json:"their_shift_start"`
	Reason          string `json:"reason"`
}

// listSwapRequests serves GET /api/v1/swaps: the caller's proposals, sent
// and received; an admin's (or, with ?all=1, a manager's for their teams)
// everyone's.
func (s *Server) listSwapRequests(w http.ResponseWriter, r *http.Request) error {
	srs, err := s.swapsFor(r.Context(), actorOf(r), r.URL.Query().Get("all") != "")
	if err != nil {
		return err
	}
	out := make([]swapRequestJSON, 0, len(srs))
	for _, sr := range srs {
		out = append(out, toSwapRequestJSON(sr))
	}
	writeJSON(w, http.StatusOK, map[string]any{"swaps": out})
	return nil
}

// swapsFor lists the swaps a may see: their own, or with all those of the
// teams they manage (everyone's for an admin).
func (s *Server) swapsFor(ctx context.Context, a rota.Actor, all bool) ([]rota.SwapRequest, error) {
	if a.Person == "" || all && a.Role == rota.RoleAdmin {
		return s.swapRequests.SwapRequests(ctx, "", 200)
	}
	if !all {
		return s.swapRequests.SwapRequests(ctx, a.Person, 200)
	}
	srs, err := s.swapRequests.SwapRequests(ctx, "", 1000)
	if err != nil {
		return nil, err
	}
	org := s.book.Roster().Org()
	var out []rota.SwapRequest
	for _, sr := range srs {
		rot := org.Rotation(sr.Rotation)
		if sr.Proposer == a.Person || sr.Partner == a.Person || rot != nil && org.Manages(a.Person, rot.Team) {
			out = append(out, sr)
		}
	}
	return out, nil
}

// proposeSwap serves POST /api/v1/swaps: the caller proposes to trade
// their shift for the partner's; the partner is told and accepts or
// declines.
func (s *Server) proposeSwap(w http.ResponseWriter, r *http.Request) error {
	var req proposeSwapRequest
	if err := decodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	sr, told, err := s.propose(r, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"swap": toSwapRequestJSON(sr), "told": told})
	return nil
}

func (s *Server) propose(r *http.Request, req proposeSwapRequest) (rota.SwapRequest, map[string]string, error) {
	a := actorOf(r)
	if a.Person == "" {
		return rota.SwapRequest{}, nil, rota.Errorf(rota.EFORBIDDEN, "a swap is proposed by a person, between their shift and another's: sign in or use a personal token")
	}
	org := s.book.Roster().Org()
	rot := org.Rotation(req.Rotation)
	switch {
	case req.Rotation == "":
		return rota.SwapRequest{}, nil, rota.FieldError("rotation", "is required")
	case rot == nil:
		return rota.SwapRequest{}, nil, rota.FieldError("rotation", "no rotation named %q", req.Rotation)
	case rot.IsSchedule():
		return rota.SwapRequest{}, nil, scheduleSwapError(rot)
	case req.Partner == "":
		return rota.SwapRequest{}, nil, rota.FieldError("partner", "is required")
	case org.Person(req.Partner) == nil:
		return rota.SwapRequest{}, nil, rota.FieldError("partner", "no person named %q", req.Partner)
	case req.Partner == a.Person:
		return rota.SwapRequest{}, nil, rota.FieldError("partner", "must be someone other than you")
	}
	if err := rota.CheckText("reason", req.Reason); err != nil {
		return rota.SwapRequest{}, nil, err
	}
	if len(req.Reason) > 500 {
		return rota.SwapRequest{}, nil, rota.FieldError("reason", "is longer than 500 characters")
	}
	mine, err := s.shiftAt(rot, "my_shift_start", a.Person, req.MyShiftStart)
	if err != nil {
		return rota.SwapRequest{}, nil, err
	}
	theirs, err := s.shiftAt(rot, "their_shift_start", req.Partner, req.TheirShiftStart)
	if err != nil {
		return rota.SwapRequest{}, nil, err
	}
	if !mine.End.After(s.now()) || !theirs.End.After(s.now()) {
		return rota.SwapRequest{}, nil, rota.Errorf(rota.EINVALID, "a shift that is over cannot be swapped")
	}
	sr := rota.SwapRequest{Rotation: rot.Name, Proposer: a.Person, ProposerShift: mine, Partner: req.Partner, PartnerShift: theirs, Reason: req.Reason}
	if err := s.swapRequests.ProposeSwap(r.Context(), &sr); err != nil {
		return rota.SwapRequest{}, nil, err
	}
	link := s.settings.Load().PublicURL + "/swaps"
	told := map[string]string{req.Partner: s.tell(r.Context(), req.Partner, fmt.Sprintf(
		"rota: %s asks to swap %s shifts: you would cover %s, and %s would cover yours, %s. Accept or decline at %s",
		a.Person, rot.Name, shiftWhen(rot, mine), a.Person, shiftWhen(rot, theirs), link))}
	s.audit(r.Context(), a, "swap.propose", "swap "+strconv.FormatInt(sr.ID, 10)+" on rotation "+rot.Name, rot.Team, "with "+req.Partner)
	return sr, told, nil
}

// decideSwap serves POST /api/v1/swaps/{id}/accept, /decline and /cancel.
func (s *Server) decideSwap(status rota.SwapStatus) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := idParam(r, "id")
		if err != nil {
			return err
		}
		sr, told, err := s.decide(r, id, status)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"swap": toSwapRequestJSON(sr), "told": told})
		return nil
	}
}

// decide moves a proposal on: only the partner accepts; the partner or
// the team's managers decline; the proposer or the managers cancel.
// Accepting checks both shifts are still as proposed, then makes the two
// overrides with the decision, in one transaction.
func (s *Server) decide(r *http.Request, id int64, status rota.SwapStatus) (rota.SwapRequest, map[string]string, error) {
	a := actorOf(r)
	sr, err := s.swapRequests.SwapRequest(r.Context(), id)
	if err != nil {
		return rota.SwapRequest{}, nil, err
	}
	org := s.book.Roster().Org()
	rot := org.Rotation(sr.Rotation)
	if rot == nil {
		return rota.SwapRequest{}, nil, rota.Errorf(rota.ECONFLICT, "rotation %s is no longer configured", sr.Rotation)
	}
	manager := s.canManage(a, rot.Team) == nil
	switch {
	case status == rota.SwapAccepted && a.Person != sr.Partner:
		return rota.SwapRequest{}, nil, rota.Errorf(rota.EFORBIDDEN, "only %s, who was asked, can accept swap %d", sr.Partner, id)
	case status == rota.SwapDeclined && a.Person != sr.Partner && !manager:
		return rota.SwapRequest{}, nil, rota.Errorf(rota.EFORBIDDEN, "only %s, who was asked, or team %s's managers can decline swap %d", sr.Partner, rot.Team, id)
	case status == rota.SwapCancelled && a.Person != sr.Proposer && !manager:
		return rota.SwapRequest{}, nil, rota.Errorf(rota.EFORBIDDEN, "only %s, who proposed it, or team %s's managers can cancel swap %d", sr.Proposer, rot.Team, id)
	}
	if status != rota.SwapAccepted {
		sr, err = s.swapRequests.DecideSwap(r.Context(), id, status, a.String(), nil)
		if err != nil {
			return rota.SwapRequest{}, nil, err
		}
		other := sr.Proposer
		if a.Person == sr.Proposer {
			other = sr.Partner
		}
		told := map[string]string{other: s.tell(r.Context(), other, fmt.Sprintf("rota: the swap of %s shifts between %s and %s was %s by %s.", rot.Name, sr.Proposer, sr.Partner, sr.Status, a))}
		s.audit(r.Context(), a, "swap."+verbOf(status), "swap "+strconv.FormatInt(id, 10)+" on rotation "+rot.Name, rot.Team, "")
		return sr, told, nil
	}
	mine, err := s.shiftStarting(rot, "proposer_shift", sr.Proposer, sr.ProposerShift.Start)
	if err == nil {
		_, err = s.shiftStarting(rot, "partner_shift", sr.Partner, sr.PartnerShift.Start)
	}
	if err != nil {
		return rota.SwapRequest{}, nil, rota.Errorf(rota.ECONFLICT, "the shifts changed since swap %d was proposed (%s): it can only be declined", id, rota.ErrorMessage(err))
	}
	theirs := sr.PartnerShift
	ovs := tradeOverrides(rot, sr.Proposer, sr.Partner, mine, theirs, sr.Reason)
	for _, o := range ovs {
		o.CreatedBy = a.String()
	}
	if err := s.book.Update(func(roster *scheduler.Roster) (*scheduler.Roster, error) {
		sr, err = s.swapRequests.DecideSwap(r.Context(), id, status, a.String(), ovs)
		if err != nil {
			return nil, err
		}
		return roster.WithOverride(*ovs[0]).WithOverride(*ovs[1]), nil
	}); err != nil {
		return rota.SwapRequest{}, nil, err
	}
	told := s.tellTraded(r.Context(), rot, sr.Proposer, sr.Partner, mine, theirs)
	s.audit(r.Context(), a, "swap.accept", "swap "+strconv.FormatInt(id, 10)+" on rotation "+rot.Name, rot.Team,
		fmt.Sprintf("overrides %d and %d", ovs[0].ID, ovs[1].ID))
	s.log.Info("swap accepted", "swap", id, "rotation", rot.Name, "proposer", sr.Proposer, "partner", sr.Partner)
	return sr, told, nil
}

func verbOf(st rota.SwapStatus) string {
	switch st {
	case rota.SwapDeclined:
		return "decline"
	case rota.SwapCancelled:
		return "cancel"
	}
	return "accept"
}

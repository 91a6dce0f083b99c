package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// FeedStore keeps calendar tokens and event versions.
type FeedStore interface {
	// IssueFeedToken makes a calendar's or team report's token (revoking
	// the one before) and returns it, shown once.
	IssueFeedToken(ctx context.Context, kind, name string) (string, error)
	// RevokeFeedToken ends one, or ENOTFOUND.
	RevokeFeedToken(ctx context.Context, kind, name string) error
	// CheckFeedToken says whether token is the live one of kind and name.
	CheckFeedToken(ctx context.Context, kind, name, token string) (bool, error)
	// HasFeedToken says whether kind and name have a live token.
	HasFeedToken(ctx context.Context, kind, name string) (bool, error)
	// Versions gives each calendar event its SEQUENCE and LAST-MODIFIED.
	Versions(ctx context.Context, events map[string]string) (map[string]rota.FeedVersion, error)
}

// Default calendar window: four weeks back, twenty-six ahead.
const (
	DefaultFeedPast   = 4 * rota.Week
	DefaultFeedFuture = 26 * rota.Week
)

// feed serves a person's or a rotation's calendar: GET and HEAD, with an
// ETag computed without rendering, so that clients polling an unchanged
// calendar get 304 for the price of a hash.
func (s *Server) feed(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
		roster := s.book.Roster()
		org := roster.Org()
		exists := ok && (kind == "person" && org.Person(name) != nil || kind == "rotation" && org.Rotation(name) != nil)
		valid := false
		if exists {
			var err error
			valid, err = s.feeds.CheckFeedToken(r.Context(), kind, name, r.URL.Query().Get("token"))
			if err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if !valid {
			// One answer for an unknown name, a wrong token and a revoked
			// one: a feed URL reveals nothing it does not own.
			writeJSON(w, http.StatusNotFound, errorBody{errorDetail{Code: rota.ENOTFOUND, Message: "not found"}})
			return
		}
		st := s.settings.Load()
		past, future := st.FeedPast, st.FeedFuture
		if past == 0 {
			past = DefaultFeedPast
		}
		if future == 0 {
			future = DefaultFeedFuture
		}
		// The window moves a day at a time, so a day's polls share an ETag.
		day := s.now().UTC().Truncate(rota.Day)
		from, to := day.Add(-past), day.Add(future+rota.Day)
		// The roster's generation is this process's count: with the
		// server's boot id, an ETag from before a restart never matches
		// (the schedule may have changed meanwhile), and the client
		// fetches the feed once.
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%d\x00%s", kind, name, s.boot, roster.Generation(), day.Unix(), st.PublicURL)))
		etag := `"` + hex.EncodeToString(sum[:12]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "private, max-age=300")
		if match := r.Header.Get("If-None-Match"); match != "" && (match == etag || match == "W/"+etag || match == "*") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		opts := scheduler.FeedOptions{BaseURL: st.PublicURL}
		var events []scheduler.FeedEvent
		title := ""
		if kind == "person" {
			events = roster.PersonFeed(name, from, to, opts)
			title = "On call: " + org.Person(name).Display()
		} else {
			events = roster.RotationFeed(name, from, to, opts)
			title = "On call: " + name
		}
		hashes := make(map[string]string, len(events))
		for _, e := range events {
			hashes[e.UID] = e.Hash()
		}
		versions, err := s.feeds.Versions(r.Context(), hashes)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for i := range events {
			v := versions[events[i].UID]
			events[i].Sequence, events[i].Modified = v.Sequence, v.Modified
		}
		var buf bytes.Buffer
		if err := scheduler.EncodeICal(&buf, title, events); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.ics"`, name))
		w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(buf.Bytes())
		}
	}
}

type feedTokenRequest struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// FeedURLs returns a token's feed addresses, for https and for webcal
// (what calendar applications subscribe to).
func FeedURLs(publicURL, kind, name, token string) (https, webcal string) {
	dir := "people"
	if kind == "rotation" {
		dir = "rotations"
	}
	https = fmt.Sprintf("%s/ical/%s/%s.ics?token=%s", publicURL, dir, name, token)
	webcal = "webcal://" + strings.TrimPrefix(strings.TrimPrefix(https, "https://"), "http://")
	return https, webcal
}

// ReportURL returns the address of a team's report page with its token.
func ReportURL(publicURL, team, token string) string {
	return fmt.Sprintf("%s/reports/teams/%s?token=%s", publicURL, team, token)
}

// issueFeedToken serves POST /api/v1/ical-tokens: a new token for a person
// or rotation, replacing any it had. The token is shown this once.
func (s *Server) issueFeedToken(w http.ResponseWriter, r *http.Request) error {
	var req feedTokenRequest
	if err := decodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	if err := s.feedTarget(req.Kind, req.Name); err != nil {
		return err
	}
	if err := s.mayIssueFeed(actorOf(r), req.Kind, req.Name); err != nil {
		return err
	}
	token, err := s.feeds.IssueFeedToken(r.Context(), req.Kind, req.Name)
	if err != nil {
		return err
	}
	s.log.Info("token issued", "kind", req.Kind, "name", req.Name)
	s.audit(r.Context(), actorOf(r), "feed-token.issue", req.Kind+" "+req.Name, s.feedTeam(req.Kind, req.Name), "")
	if req.Kind == "team" {
		writeJSON(w, http.StatusCreated, map[string]string{"kind": req.Kind, "name": req.Name, "token": token,
			"url": ReportURL(s.settings.Load().PublicURL, req.Name, token)})
		return nil
	}
	https, webcal := FeedURLs(s.settings.Load().PublicURL, req.Kind, req.Name, token)
	writeJSON(w, http.StatusCreated, map[string]string{"kind": req.Kind, "name": req.Name, "token": token, "url": https, "webcal": webcal})
	return nil
}

func (s *Server) revokeFeedToken(w http.ResponseWriter, r *http.Request) error {
	kind, name := r.PathValue("kind"), r.PathValue("name")
	if err := s.feedTarget(kind, name); err != nil {
		return err
	}
	if err := s.mayIssueFeed(actorOf(r), kind, name); err != nil {
		return err
	}
	if err := s.feeds.RevokeFeedToken(r.Context(), kind, name); err != nil {
		return err
	}
	s.log.Info("calendar token revoked", "kind", kind, "name", name)
	s.audit(r.Context(), actorOf(r), "feed-token.revoke", kind+" "+name, s.feedTeam(kind, name), "")
	writeJSON(w, http.StatusOK, map[string]string{"kind": kind, "name": name, "status": "revoked"})
	return nil
}

// mayIssueFeed says whether a may issue or revoke the token of a
// person's calendar (their own, or a member's of a team they manage), a
// rotation's calendar (its team's people and managers: reissuing a token
// breaks every subscription to the old one), or a team's report (its
// managers).
func (s *Server) mayIssueFeed(a rota.Actor, kind, name string) error {
	if a.Role == rota.RoleAdmin {
		return nil
	}
	if a.Person == "" {
		return errSignIn
	}
	org := s.book.Roster().Org()
	switch kind {
	case "rotation":
		rot := org.Rotation(name)
		if rot.Team == "" || slices.Contains(org.TeamsOf(a.Person), rot.Team) || org.Manages(a.Person, rot.Team) {
			return nil
		}
		return rota.Errorf(rota.EFORBIDDEN, "%s is not on team %s, whose rotation %s is: its people, its managers or an admin may issue or revoke its calendar", a.Person, rot.Team, name)
	case "team":
		return s.canManage(a, name)
	}
	if name == a.Person {
		return nil
	}
	for _, team := range org.TeamsOf(name) {
		if org.Manages(a.Person, team) {
			return nil
		}
	}
	return rota.Errorf(rota.EFORBIDDEN, "%s may issue only their own calendar, not %s's", a.Person, name)
}

// feedTeam is the team a feed belongs to, for the audit log: a
// rotation's or a report's team ("" for a person's calendar).
func (s *Server) feedTeam(kind, name string) string {
	switch kind {
	case "rotation":
		if rot := s.book.Roster().Org().Rotation(name); rot != nil {
			return rot.Team
		}
	case "team":
		return name
	}
	return ""
}

func (s *Server) feedTarget(kind, name string) error {
	org := s.book.Roster().Org()
	switch kind {
	case "person":
		if org.Person(name) == nil {
			return rota.FieldError("name", "no person named %q", name)
		}
	case "rotation":
		if org.Rotation(name) == nil {
			return rota.FieldError("name", "no rotation named %q", name)
		}
	case "team":
		if org.Team(name) == nil {
			return rota.FieldError("name", "no team named %q", name)
		}
	default:
		return rota.FieldError("kind", "must be person, rotation or team, not %q", kind)
	}
	return nil
}

package api

import (
	"net/http"
	"strconv"

	"github.com/rotahq/rota"
)

// me serves GET /api/v1/me: who the caller is, their role and teams.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	a := actorOf(r)
	org := s.book.Roster().Org()
	out := struct {
		Actor   string   `json:"actor"`
		Person  string   `json:"person,omitempty"`
		Name    string   `json:"name,omitempty"`
		Role    string   `json:"role"`
		Teams   []string `json:"teams"`
		Manages []string `json:"manages"`
	}{Actor: a.String(), Person: a.Person, Role: a.Role.String(), Teams: []string{}, Manages: []string{}}
	if p := org.Person(a.Person); p != nil {
		out.Name = p.Display()
		out.Teams = append(out.Teams, org.TeamsOf(p.Name)...)
		out.Manages = append(out.Manages, org.ManagedTeams(p.Name)...)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// tokenOwner is whose tokens a request means: the caller's own, or (for
// an admin) the person named by ?person=.
func (s *Server) tokenOwner(r *http.Request) (string, error) {
	a := actorOf(r)
	if p := r.URL.Query().Get("person"); p != "" && p != a.Person {
		if a.Role != rota.RoleAdmin {
			return "", rota.Errorf(rota.EFORBIDDEN, "only an admin sees another person's tokens")
		}
		if s.book.Roster().Org().Person(p) == nil {
			return "", rota.FieldError("person", "no person named %q", p)
		}
		return p, nil
	}
	if a.Person == "" {
		return "", rota.Errorf(rota.EINVALID, "the admin token has no tokens of its own: name a person with ?person=")
	}
	return a.Person, nil
}

// listTokens serves GET /api/v1/tokens.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	person, err := s.tokenOwner(r)
	if err != nil {
		return err
	}
	ts, err := s.identity.APITokens(r.Context(), person)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []rota.APIToken{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
	return nil
}

// createToken serves POST /api/v1/tokens: a personal token for the
// caller (an admin may make one for ?person=), shown once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	person, err := s.tokenOwner(r)
	if err != nil {
		return err
	}
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	secret, t, err := s.createTokenFor(r, person, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
	return nil
}

func (s *Server) createTokenFor(r *http.Request, person, name string) (string, rota.APIToken, error) {
	a := actorOf(r)
	secret, t, err := s.identity.CreateAPIToken(r.Context(), person, name, a.String())
	if err != nil {
		return "", rota.APIToken{}, err
	}
	s.audit(r.Context(), a, "token.create", "token "+strconv.FormatInt(t.ID, 10)+" of "+person, "", t.Name)
	s.log.Info("api token created", "id", t.ID, "person", person, "by", a.String())
	return secret, t, nil
}

// revokeToken serves DELETE /api/v1/tokens/{id}: one's own, or any for an
// admin.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	t, err := s.revokeTokenFor(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": t})
	return nil
}

func (s *Server) revokeTokenFor(r *http.Request, id int64) (rota.APIToken, error) {
	a := actorOf(r)
	owner := a.Person
	if a.Role == rota.RoleAdmin {
		owner = ""
	}
	t, err := s.identity.RevokeAPIToken(r.Context(), id, owner)
	if err != nil {
		return rota.APIToken{}, err
	}
	s.audit(r.Context(), a, "token.revoke", "token "+strconv.FormatInt(t.ID, 10)+" of "+t.Person, "", t.Name)
	return t, nil
}

// auditLog serves GET /api/v1/audit?before=ID&limit=N: everything for an
// admin; for a manager, what concerns their teams and what their
// members did.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	q, err := s.auditQuery(r)
	if err != nil {
		return err
	}
	es, err := s.identity.AuditLog(r.Context(), q)
	if err != nil {
		return err
	}
	if es == nil {
		es = []rota.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
	return nil
}

func (s *Server) auditQuery(r *http.Request) (rota.AuditQuery, error) {
	a := actorOf(r)
	q := rota.AuditQuery{All: a.Role == rota.RoleAdmin, Limit: 100}
	if !q.All {
		org := s.book.Roster().Org()
		q.Teams = org.ManagedTeams(a.Person)
		seen := map[string]bool{}
		for _, team := range q.Teams {
			t := org.Team(team)
			for _, p := range append(append([]string{}, t.Members...), t.Managers...) {
				if !seen[p] {
					seen[p] = true
					q.People = append(q.People, p)
				}
			}
		}
	}
	var err error
	if v := r.URL.Query().Get("before"); v != "" {
		if q.Before, err = strconv.ParseInt(v, 10, 64); err != nil || q.Before <= 0 {
			return q, rota.FieldError("before", "must be an entry's id, not %q", v)
		}
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 || q.Limit > 1000 {
			return q, rota.FieldError("limit", "must be 1 to 1000, not %q", v)
		}
	}
	return q, nil
}

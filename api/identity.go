package api

import (
	"context"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// IdentityStore keeps who may act: web sessions, personal API tokens, and
// the audit log of what they did.
type IdentityStore interface {
	// CreateSession signs person in for ttl; the secret is the cookie.
	CreateSession(ctx context.Context, person, via string, ttl time.Duration) (string, rota.Session, error)
	// Session returns the live session with secret, or EUNAUTHORIZED.
	Session(ctx context.Context, secret string, now time.Time) (rota.Session, error)
	// RevokeSession signs a session out.
	RevokeSession(ctx context.Context, id int64) error
	// CreateAPIToken makes person a token for scripts; the secret is
	// returned once.
	CreateAPIToken(ctx context.Context, person, name, createdBy string) (string, rota.APIToken, error)
	// APITokenFor returns the live token with secret, noting its use;
	// firstUse is the first use in an hour, which the audit log records.
	APITokenFor(ctx context.Context, secret string, now time.Time) (t rota.APIToken, firstUse bool, err error)
	// APITokens lists person's tokens (everyone's for "").
	APITokens(ctx context.Context, person string) ([]rota.APIToken, error)
	// RevokeAPIToken revokes a token, which must be person's unless
	// person is "".
	RevokeAPIToken(ctx context.Context, id int64, person string) (rota.APIToken, error)
	// Audit appends to the audit log; AuditLog reads it.
	Audit(ctx context.Context, e *rota.AuditEntry) error
	AuditLog(ctx context.Context, q rota.AuditQuery) ([]rota.AuditEntry, error)
}

// sessionCookie holds a web session's secret.
const sessionCookie = "rota_session"

// tokenPrefix begins personal API tokens (store.TokenPrefix, which api
// does not import).
const tokenPrefix = "rota_pat_"

// caller is who a request comes from, resolved once before any handler
// runs: the actor, and the web session when they came with one.
type caller struct {
	actor   rota.Actor
	session *rota.Session
	// problem is why a credential that came with the request was not
	// accepted; the request then goes on as anonymous, refused by any
	// route that needs someone.
	problem error
}

type callerKey struct{}

// callerOf returns who r comes from (anonymous for routes that are not
// guarded).
func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// actorOf returns who acts in r.
func actorOf(r *http.Request) rota.Actor { return callerOf(r).actor }

// identify resolves the caller of r: a bearer token (the admin token, a
// personal API token or an integration key), or else a session cookie.
func (s *Server) identify(r *http.Request) caller {
	st := s.settings.Load()
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, ok := strings.Cut(auth, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return caller{problem: rota.Errorf(rota.EUNAUTHORIZED, "send a token as \"Authorization: Bearer TOKEN\"")}
		}
		return s.identifyToken(r, st, token)
	}
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" && s.identity != nil {
		sess, err := s.identity.Session(r.Context(), ck.Value, s.now())
		if err != nil {
			return caller{problem: err}
		}
		role := s.book.Roster().Org().RoleOf(sess.Person, st.Admins)
		if role == rota.RoleNone {
			return caller{problem: rota.Errorf(rota.EUNAUTHORIZED, "%s is no longer in rota's configuration", sess.Person)}
		}
		return caller{actor: rota.Actor{Person: sess.Person, Via: rota.ViaWeb, Role: role, Session: sess.ID}, session: &sess}
	}
	// Senders that cannot set headers put an integration key in the URL.
	if key := r.URL.Query().Get("key"); key != "" {
		if svc, source := s.keys.lookup(s.book.Roster().Org(), key); svc != nil {
			return caller{actor: rota.Actor{Service: svc.Name, Key: source, Via: rota.ViaKey, Role: rota.RoleService}}
		}
		return caller{problem: rota.Errorf(rota.EUNAUTHORIZED, "unknown integration key")}
	}
	return caller{}
}

func (s *Server) identifyToken(r *http.Request, st *Settings, token string) caller {
	if st.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(st.AdminToken)) == 1 {
		return caller{actor: rota.AdminActor}
	}
	if strings.HasPrefix(token, tokenPrefix) && s.identity != nil {
		t, firstUse, err := s.identity.APITokenFor(r.Context(), token, s.now())
		if err != nil {
			return caller{problem: err}
		}
		role := s.book.Roster().Org().RoleOf(t.Person, st.Admins)
		if role == rota.RoleNone {
			return caller{problem: rota.Errorf(rota.EUNAUTHORIZED, "the token's person, %s, is no longer in rota's configuration", t.Person)}
		}
		a := rota.Actor{Person: t.Person, Via: rota.ViaToken, Role: role, TokenID: t.ID}
		if firstUse {
			s.audit(r.Context(), a, "token.use", "token "+t.Name, "", r.Method+" "+r.URL.Path)
		}
		return caller{actor: a}
	}
	if svc, source := s.keys.lookup(s.book.Roster().Org(), token); svc != nil {
		return caller{actor: rota.Actor{Service: svc.Name, Key: source, Via: rota.ViaKey, Role: rota.RoleService}}
	}
	return caller{problem: rota.Errorf(rota.EUNAUTHORIZED, "the token is not valid: not the admin token, a personal API token or an integration key")}
}

// audit records what actor did, logging (not failing the request) when
// the log cannot be written: the action itself is already recorded
// where it happened (the override, the incident's timeline).
func (s *Server) audit(ctx context.Context, a rota.Actor, action, subject, team, detail string) {
	if s.identity == nil {
		return
	}
	e := rota.AuditEntry{Actor: a.String(), Person: a.Person, Action: action, Subject: subject, Team: team, Detail: detail}
	if err := s.identity.Audit(context.WithoutCancel(ctx), &e); err != nil {
		s.log.Error("cannot write the audit log", "action", action, "actor", e.Actor, "err", err)
	}
}

// canRespond says whether a may acknowledge, resolve or escalate the
// incidents of service: its own integration key, a person of the
// service's team, or an admin.
func (s *Server) canRespond(a rota.Actor, service string) error {
	org := s.book.Roster().Org()
	team := ""
	if svc := org.Service(service); svc != nil {
		team = svc.Team
	}
	switch {
	case a.Role == rota.RoleAdmin:
		return nil
	case a.Service != "":
		if a.Service == service {
			return nil
		}
		return rota.Errorf(rota.EFORBIDDEN, "this integration key is service %s's, not service %s's", a.Service, service)
	case a.Person != "":
		if team == "" || slices.Contains(org.TeamsOf(a.Person), team) {
			return nil
		}
		return rota.Errorf(rota.EFORBIDDEN, "%s is not on team %s, which service %s belongs to", a.Person, team, service)
	}
	return errSignIn
}

// canManage says whether a manages team (or is an admin).
func (s *Server) canManage(a rota.Actor, team string) error {
	switch {
	case a.Role == rota.RoleAdmin:
		return nil
	case a.Person != "" && s.book.Roster().Org().Manages(a.Person, team):
		return nil
	case a.Person != "":
		return rota.Errorf(rota.EFORBIDDEN, "%s does not manage team %s: this needs its manager or an admin", a.Person, team)
	}
	return errSignIn
}

var errSignIn = rota.Errorf(rota.EUNAUTHORIZED, "sign in, or send a personal API token or the admin token as \"Authorization: Bearer TOKEN\"")

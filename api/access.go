package api

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/rotahq/rota"
)

// access is who may call a route, checked before its handler runs. A
// handler may narrow it further to the caller's teams (scope).
type access int

const (
	// accessPublic routes answer anyone.
	accessPublic access = iota
	// accessOwn routes authenticate callers themselves: a provider's
	// signature (Twilio, GitHub), an integration key, or a secret token
	// in the URL (calendar feeds, a team's report).
	accessOwn
	// accessActor routes take anyone authenticated, integration keys
	// included: acknowledging and resolving.
	accessActor
	// accessPerson routes take a signed-in person, a personal API token
	// or the admin token.
	accessPerson
	// accessManager routes take a team's manager or an admin.
	accessManager
	// accessAdmin routes take an admin.
	accessAdmin
)

var accessNames = [...]string{"anyone", "own check", "any actor", "person", "manager", "admin"}

func (a access) String() string { return accessNames[a] }

// route is one line of the table of who may do what.
type route struct {
	pattern string
	access  access
	// page routes answer in HTML: an anonymous caller is sent to sign in.
	page bool
	// scope says what the handler narrows access to, for the docs.
	scope   string
	handler http.Handler
}

// routeTable is every route rota serves, with who may call it. It is the
// one place access is decided; docs/ACCESS.md is written from it.
func (s *Server) routeTable() []route {
	h := func(f handlerFunc) http.Handler { return f.serve(s) }
	rs := []route{
		{"GET /healthz", accessPublic, false, "", http.HandlerFunc(s.healthz)},
		{"GET /readyz", accessPublic, false, "", http.HandlerFunc(s.readyz)},

		{"GET /api/v1/me", accessPerson, false, "", h(s.me)},
		{"GET /api/v1/oncall", accessPerson, false, "", h(s.getOnCall)},
		{"GET /api/v1/rotations", accessPerson, false, "", h(s.listRotations)},
		{"GET /api/v1/rotations/{name}", accessPerson, false, "", h(s.getRotation)},
		{"GET /api/v1/rotations/{name}/shifts", accessPerson, false, "", h(s.getShifts)},
		{"GET /api/v1/rotations/{name}/overrides", accessPerson, false, "", h(s.listOverrides)},
		{"POST /api/v1/rotations/{name}/overrides", accessPerson, false, "responders: themselves, on their teams' rotations; managers: their teams' rotations", h(s.createOverride)},
		{"DELETE /api/v1/overrides/{id}", accessPerson, false, "responders: overrides they made for themselves; managers: their teams' rotations", h(s.deleteOverride)},

		{"POST /api/v1/alerts", accessOwn, false, "a service's integration key (or the admin token)", h(s.postAlert)},
		{"POST /api/v1/heartbeats/{name}", accessActor, false, "a service's integration key, for its own; people of its team and admins with ?service=", h(s.beat)},
		{"GET /api/v1/heartbeats", accessPerson, false, "", h(s.listHeartbeats)},
		{"POST /api/v1/services/{name}/maintenance", accessActor, false, "the service's key, people of its team, admins", h(s.startMaintenance)},
		{"GET /api/v1/maintenance", accessPerson, false, "", h(s.listMaintenance)},
		{"DELETE /api/v1/maintenance/{id}", accessActor, false, "the service's key, people of its team, admins", h(s.endMaintenance)},
		{"POST /v2/enqueue", accessOwn, false, "a service's integration key in routing_key", http.HandlerFunc(s.enqueuePagerDuty)},
		{"POST /v2/alerts", accessOwn, false, "a service's integration key as \"Authorization: GenieKey KEY\" (Opsgenie's Alert API)", s.opsgenie(s.createOpsgenie)},
		{"POST /v2/alerts/{identifier}/acknowledge", accessOwn, false, "a service's integration key as GenieKey: its own service's alerts", s.opsgenie(s.actOpsgenie(rota.ActionAcknowledge))},
		{"POST /v2/alerts/{identifier}/close", accessOwn, false, "a service's integration key as GenieKey: its own service's alerts", s.opsgenie(s.actOpsgenie(rota.ActionResolve))},
		{"PUT /v2/alerts/{identifier}/{field}", accessOwn, false, "a service's integration key as GenieKey (answered 422: rota does not update alerts)", s.opsgenie(s.updateOpsgenie)},
		{"POST /api/v1/integrations/alertmanager", accessOwn, false, "a service's integration key", h(s.postWebhook("alertmanager", s.decodeAlertmanagerRequest))},
		{"POST /api/v1/integrations/grafana", accessOwn, false, "a service's integration key", h(s.postWebhook("grafana", s.decodeGrafanaRequest))},
		{"GET /api/v1/alerts", accessPerson, false, "", h(s.listAlerts)},
		{"GET /api/v1/alerts/{id}", accessPerson, false, "", h(s.getAlert)},
		{"POST /api/v1/alerts/{id}/ack", accessActor, false, "the service's key; people of the service's team and anyone paged for the incident (not as a shadow)", h(s.alertStatus(rota.ActionAcknowledge))},
		{"POST /api/v1/alerts/{id}/resolve", accessActor, false, "the service's key; people of the service's team and anyone paged for the incident (not as a shadow)", h(s.alertStatus(rota.ActionResolve))},
		{"GET /api/v1/incidents", accessPerson, false, "", h(s.listIncidents)},
		{"GET /api/v1/incidents/{id}", accessPerson, false, "", h(s.getIncident)},
		{"POST /api/v1/incidents/{id}/ack", accessActor, false, "the service's key; people of the service's team and anyone paged for the incident (not as a shadow)", h(s.incidentStatus(rota.ActionAcknowledge))},
		{"POST /api/v1/incidents/{id}/resolve", accessActor, false, "the service's key; people of the service's team and anyone paged for the incident (not as a shadow)", h(s.incidentStatus(rota.ActionResolve))},
		{"POST /api/v1/incidents/{id}/escalate", accessActor, false, "the service's key; people of the service's team and anyone paged for the incident (not as a shadow)", h(s.incidentStatus(rota.ActionEscalate))},

		{"POST /api/v1/deploys", accessOwn, false, "a service's integration key (or the admin token)", h(s.postDeploy)},
		{"GET /api/v1/deploys", accessPerson, false, "", h(s.listDeploys)},
		{"POST /v2/change/enqueue", accessOwn, false, "a service's integration key in routing_key", http.HandlerFunc(s.enqueueChange)},
		{"POST /api/v1/integrations/github", accessOwn, false, "GitHub's signature", h(s.postGitHub)},
	}
	if s.swaps != nil && s.teller != nil {
		rs = append(rs, route{"POST /api/v1/rotations/{name}/swaps", accessManager, false, "managers: their teams' rotations", h(s.swap)})
	}
	if s.swapRequests != nil {
		rs = append(rs,
			route{"GET /api/v1/swaps", accessPerson, false, "responders: their own; managers: their teams'", h(s.listSwapRequests)},
			route{"POST /api/v1/swaps", accessPerson, false, "proposing: the proposer is the caller", h(s.proposeSwap)},
			route{"POST /api/v1/swaps/{id}/accept", accessPerson, false, "the person asked", h(s.decideSwap(rota.SwapAccepted))},
			route{"POST /api/v1/swaps/{id}/decline", accessPerson, false, "the person asked; the team's managers", h(s.decideSwap(rota.SwapDeclined))},
			route{"POST /api/v1/swaps/{id}/cancel", accessPerson, false, "the proposer; the team's managers", h(s.decideSwap(rota.SwapCancelled))},
		)
	}
	if s.reports != nil {
		rs = append(rs,
			route{"GET /api/v1/reports/human", accessOwn, false, "the team's managers, or its report token", h(s.humanReport)},
			route{"GET /reports/teams/{team}", accessOwn, true, "the team's managers, or its report token", s.pageHandler(s.reportPage)},
		)
	}
	if s.feeds != nil {
		rs = append(rs,
			// GET also answers HEAD.
			route{"GET /ical/people/{file}", accessOwn, false, "the feed's token", http.HandlerFunc(s.feed("person"))},
			route{"GET /ical/rotations/{file}", accessOwn, false, "the feed's token", http.HandlerFunc(s.feed("rotation"))},
			route{"POST /api/v1/ical-tokens", accessPerson, false, "a person's own calendar; any rotation's; a team's report: its managers", h(s.issueFeedToken)},
			route{"DELETE /api/v1/ical-tokens/{kind}/{name}", accessPerson, false, "as issuing", h(s.revokeFeedToken)},
		)
	}
	if s.identity != nil {
		rs = append(rs,
			route{"GET /api/v1/tokens", accessPerson, false, "one's own; an admin's ?person= anyone's", h(s.listTokens)},
			route{"POST /api/v1/tokens", accessPerson, false, "for oneself", h(s.createToken)},
			route{"DELETE /api/v1/tokens/{id}", accessPerson, false, "one's own; admins any", h(s.revokeToken)},
			route{"GET /api/v1/audit", accessManager, false, "managers: their teams' entries and their members'", h(s.auditLog)},
		)
		rs = append(rs, s.uiRoutes()...)
	}
	if s.twilio != nil {
		rs = append(rs,
			route{"POST /twilio/sms", accessOwn, false, "Twilio's signature", http.HandlerFunc(s.twilioSMS)},
			route{"POST /twilio/voice", accessOwn, false, "Twilio's signature", http.HandlerFunc(s.twilioVoice)},
			route{"POST /twilio/status", accessOwn, false, "Twilio's signature", http.HandlerFunc(s.twilioStatus)},
		)
	}
	// Slack's routes answer 503 until the app is configured, so that
	// whoever set the Request URL learns what is missing.
	rs = append(rs,
		route{"POST /slack/interactions", accessOwn, false, "Slack's signature; acts as the Slack user's person, with their role", http.HandlerFunc(s.slackInteraction)},
		route{"POST /slack/commands", accessOwn, false, "Slack's signature; acts as the Slack user's person, with their role", http.HandlerFunc(s.slackCommand)},
	)
	if s.gatherer != nil {
		rs = append(rs, route{"GET /metrics", accessOwn, false, "anyone, or the metrics token when server.metrics_token is set", s.metricsHandler()})
	}
	return rs
}

// guard identifies the caller and admits them to rt, or refuses: 401
// for nobody (an HTML route sends them to sign in), 403 for someone
// without the role. Requests that ride a session cookie and change
// something must carry the session's CSRF token.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := s.identify(r)
		r = r.WithContext(contextWithCaller(r, c))
		if err := s.admit(rt.access, c, r); err != nil {
			if rt.page && rota.ErrorCode(err) == rota.EUNAUTHORIZED && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
				s.authFailed(r, err)
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.refuse(w, r, rt.page, err)
			return
		}
		if c.session != nil && !safeMethod(r.Method) {
			if err := checkCSRF(r, c.session); err != nil {
				s.refuse(w, r, rt.page, err)
				return
			}
		}
		rt.handler.ServeHTTP(w, r)
	})
}

// admit decides access for c; handlers narrow it to a scope.
func (s *Server) admit(a access, c caller, r *http.Request) error {
	actor := c.actor
	if a <= accessOwn {
		return nil
	}
	if actor.Anonymous() {
		if a == accessPerson && safeMethod(r.Method) && s.settings.Load().AnonymousReads {
			return nil
		}
		if c.problem != nil {
			return c.problem
		}
		return errSignIn
	}
	switch a {
	case accessActor:
		return nil
	case accessPerson:
		if actor.Person != "" || actor.Role == rota.RoleAdmin {
			return nil
		}
		return rota.Errorf(rota.EFORBIDDEN, "an integration key acts for its service (alerts, incidents, heartbeats, maintenance windows) but reads nothing: this needs a person's sign-in or token")
	case accessManager:
		if actor.Role >= rota.RoleManager {
			return nil
		}
	case accessAdmin:
		if actor.Role == rota.RoleAdmin {
			return nil
		}
	}
	return rota.Errorf(rota.EFORBIDDEN, "%s is a %s: this needs a %s", actor, actor.Role, a)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses a change made with a session cookie unless it carries
// the session's CSRF token: in the form (csrf) or the X-CSRF-Token
// header. Cross-origin requests are refused before this (CrossOriginProtection).
func checkCSRF(r *http.Request, sess *rota.Session) error {
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
			tok = r.PostFormValue("csrf")
		}
	}
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(sess.CSRF)) != 1 {
		return rota.Errorf(rota.EFORBIDDEN, "the form's CSRF token is missing or not this session's: reload the page and try again")
	}
	return nil
}

func contextWithCaller(r *http.Request, c caller) context.Context {
	return context.WithValue(r.Context(), callerKey{}, c)
}

package api

import (
	"bytes"
	"crypto/rand"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// The web UI: server-rendered pages for on-call engineers and managers,
// in the binary, with one stylesheet and no scripts. Each page is a
// template over the layout; handlers read the same interfaces as the JSON
// API and act through the same functions (addOverride, decide, ...).

//go:embed templates/ui/*.html
var uiFiles embed.FS

//go:embed static
var staticFiles embed.FS

// uiCSP is the pages' content security policy: nothing but this site's
// stylesheet, forms that post here, and no framing.
const uiCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

var uiFuncs = template.FuncMap{
	"join": strings.Join,
}

// uiPages are the page templates, each parsed over the layout.
var uiPages = func() map[string]*template.Template {
	base := template.Must(template.New("layout").Funcs(uiFuncs).ParseFS(uiFiles, "templates/ui/layout.html"))
	names, _ := fs.Glob(uiFiles, "templates/ui/*.html")
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/ui/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(uiFiles, n))
	}
	return out
}()

// pageData is what every page has; Data is the page's own.
type pageData struct {
	Title    string
	Nav      string
	Me       rota.Actor
	MyName   string
	CSRF     string
	Manages  []string
	CanAudit bool
	Flash    string
	Data     any
	// Live pages (Now, an incident) load live.js, allowed by the
	// response's CSP with Nonce: it refreshes their content in place.
	Live  bool
	Nonce string
}

// livePages are the pages that update in place while open.
var livePages = map[string]bool{"now": true, "incident": true}

// pageFunc is a UI handler: it renders a page or returns an error, shown
// as a page.
type pageFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) pageHandler(f pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := f(w, r)
		switch {
		case err == nil:
		case rota.ErrorCode(err) == rota.EUNAUTHORIZED && actorOf(r).Anonymous() && r.Method == http.MethodGet && !r.URL.Query().Has("token") &&
			!strings.HasPrefix(r.URL.Path, "/auth/"):
			// Someone not signed in (who brought no token of the
			// page's own) signs in, then comes back.
			s.authFailed(r, err)
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		default:
			s.refuse(w, r, true, err)
		}
	})
}

// render writes page name with data, answering status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) error {
	c := callerOf(r)
	pd := pageData{Title: title, Nav: nav, Me: c.actor, Data: data, Flash: r.URL.Query().Get("done")}
	if c.session != nil {
		pd.CSRF = c.session.CSRF
	}
	org := s.book.Roster().Org()
	if p := org.Person(c.actor.Person); p != nil {
		pd.MyName = p.Display()
		pd.Manages = org.ManagedTeams(p.Name)
	}
	pd.CanAudit = c.actor.Role >= rota.RoleManager && s.identity != nil
	csp := uiCSP
	if livePages[name] {
		pd.Live, pd.Nonce = true, rand.Text()
		csp += "; script-src 'nonce-" + pd.Nonce + "'; connect-src 'self'"
	}
	var buf bytes.Buffer
	if err := uiPages[name].ExecuteTemplate(&buf, "layout", pd); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// refuse answers an error: as a page for the UI, as JSON for the API.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, page bool, err error) {
	if !page {
		s.writeError(w, r, err)
		return
	}
	err = s.outage(r, err)
	code := rota.ErrorCode(err)
	if code == rota.EUNAUTHORIZED {
		s.authFailed(r, err)
	}
	msg := rota.ErrorMessage(err)
	if code == rota.EINTERNAL {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	data := struct {
		Code, Message string
		SignIn        bool
	}{code, msg, code == rota.EUNAUTHORIZED && actorOf(r).Anonymous()}
	if rerr := s.render(w, r, StatusOf(err), "error", "Not done", "", data); rerr != nil {
		s.writeError(w, r, err)
	}
}

// secureHeaders are sent with every answer: no sniffing, no framing, and
// no referrer beyond this site (tokens ride in some URLs).
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// static serves the embedded stylesheet.
func (s *Server) static() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// uiRoutes are the web UI's routes, for routeTable.
func (s *Server) uiRoutes() []route {
	p := func(f pageFunc) http.Handler { return s.pageHandler(f) }
	return []route{
		{"GET /static/{file}", accessPublic, false, "", s.static()},
		{"GET /signin", accessPublic, true, "", p(s.signInPage)},
		{"GET /auth/oidc/login", accessPublic, true, "", p(s.oidcLogin)},
		{"GET /auth/oidc/callback", accessPublic, true, "", p(s.oidcCallback)},
		{"POST /auth/dev", accessPublic, true, "only with rotad serve --dev-sign-in, from this machine", p(s.signInDev)},
		{"POST /signout", accessPerson, true, "", p(s.signOut)},

		{"GET /{$}", accessPerson, true, "", p(s.nowPage)},
		{"POST /calendar", accessPerson, true, "one's own calendar", p(s.issueMyCalendar)},
		{"GET /rotations", accessPerson, true, "", p(s.rotationsPage)},
		{"GET /rotations/{name}", accessPerson, true, "", p(s.rotationPage)},
		{"POST /rotations/{name}/overrides", accessPerson, true, "as the API's overrides", p(s.overrideForm)},
		{"POST /overrides/{id}/delete", accessPerson, true, "as the API's overrides", p(s.deleteOverrideForm)},
		{"GET /incidents", accessPerson, true, "", p(s.incidentsPage)},
		{"GET /incidents/{id}", accessPerson, true, "", p(s.incidentPage)},
		{"POST /incidents/{id}/ack", accessPerson, true, "people of the service's team and anyone paged for the incident (not as a shadow)", p(s.incidentForm(rota.ActionAcknowledge))},
		{"POST /incidents/{id}/resolve", accessPerson, true, "people of the service's team and anyone paged for the incident (not as a shadow)", p(s.incidentForm(rota.ActionResolve))},
		{"POST /incidents/{id}/escalate", accessPerson, true, "people of the service's team and anyone paged for the incident (not as a shadow)", p(s.incidentForm(rota.ActionEscalate))},
		{"GET /swaps", accessPerson, true, "", p(s.swapsPage)},
		{"POST /swaps", accessPerson, true, "proposing: the proposer is the caller", p(s.proposeSwapForm)},
		{"POST /swaps/{id}/{decision}", accessPerson, true, "as the API's swaps", p(s.decideSwapForm)},
		{"GET /tokens", accessPerson, true, "one's own", p(s.tokensPage)},
		{"POST /tokens", accessPerson, true, "for oneself", p(s.createTokenForm)},
		{"POST /tokens/{id}/revoke", accessPerson, true, "one's own", p(s.revokeTokenForm)},
		{"GET /audit", accessManager, true, "managers: their teams' entries and their members'", p(s.auditPage)},
		{"GET /maintenance", accessPerson, true, "", p(s.maintenancePage)},
		{"POST /maintenance", accessPerson, true, "people of the service's team, admins", p(s.startMaintenanceForm)},
		{"POST /maintenance/{id}/end", accessPerson, true, "people of the service's team, admins", p(s.endMaintenanceForm)},
	}
}

// signInPage serves GET /signin: the provider's button, and the
// development sign-in when it is on and the visitor is on this machine.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) error {
	st := s.settings.Load()
	type person struct{ Name, Display string }
	data := struct {
		Next     string
		Provider string
		Dev      bool
		People   []person
		Problem  string
	}{Next: localPath(r.URL.Query().Get("next"))}
	if st.OIDC != nil {
		data.Provider = st.OIDC.Name
	}
	if s.devSignIn && fromLoopback(r) {
		data.Dev = true
		for _, p := range s.book.Roster().Org().People {
			data.People = append(data.People, person{p.Name, p.Display()})
		}
	}
	if data.Provider == "" && !data.Dev {
		data.Problem = "No identity provider is configured ([auth.oidc] in the configuration), so nobody can sign in here yet. Scripts can use a personal API token (rotad token create PERSON)."
	}
	return s.render(w, r, http.StatusOK, "signin", "Sign in", "", data)
}

// viewer is the signed-in person, for times in their zone.
func (s *Server) viewer(r *http.Request) *rota.Person {
	return s.book.Roster().Org().Person(actorOf(r).Person)
}

// zoneOf is where times are shown to r's caller: their own zone, or UTC.
func (s *Server) zoneOf(r *http.Request) *time.Location {
	if p := s.viewer(r); p != nil && p.Location != nil {
		return p.Location
	}
	return time.UTC
}

// when formats t for people: "Tue 10 Mar 10:00 CET".
func when(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
}

// whenSeconds formats t to the second, for timelines: "Tue 10 Mar
// 10:00:05 CET".
func whenSeconds(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("Mon 2 Jan 15:04:05 MST")
}

// backTo sends the browser back to path after a change, with a note.
func backTo(w http.ResponseWriter, r *http.Request, path, done string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"done="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}

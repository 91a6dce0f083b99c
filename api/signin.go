package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rotahq/rota"
)

// OIDCSettings are the OpenID Connect provider people sign in with.
type OIDCSettings struct {
	// Name labels the button: "Sign in with Name".
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string
	Scopes       []string
	// Client, when set, is the HTTP client rota talks to the provider
	// with (one trusting a private CA: [tls] ca_file).
	Client *http.Client
}

// oidcClient is a provider discovered for one OIDCSettings.
type oidcClient struct {
	settings OIDCSettings
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// oidcClients discovers the provider when it is first needed (rotad
// starts, and pages, while the provider is down) and again when a reload
// changes it.
type oidcClients struct {
	mu  sync.Mutex
	cur *oidcClient
}

func (c *oidcClients) get(ctx context.Context, st OIDCSettings) (*oidcClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && equalOIDC(c.cur.settings, st) {
		return c.cur, nil
	}
	dctx, cancel := context.WithTimeout(st.context(ctx), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, st.Issuer)
	if err != nil {
		return nil, rota.Errorf(rota.EUNAVAILABLE, "the identity provider %s does not answer: %v", st.Issuer, err)
	}
	ep := p.Endpoint()
	cl := &oidcClient{settings: st,
		config:   oauth2.Config{ClientID: st.ClientID, ClientSecret: st.ClientSecret, Endpoint: ep, RedirectURL: st.RedirectURL, Scopes: st.Scopes},
		verifier: p.Verifier(&oidc.Config{ClientID: st.ClientID})}
	c.cur = cl
	return cl, nil
}

// context carries the settings' HTTP client, for go-oidc and oauth2.
func (st OIDCSettings) context(ctx context.Context) context.Context {
	if st.Client == nil {
		return ctx
	}
	return context.WithValue(oidc.ClientContext(ctx, st.Client), oauth2.HTTPClient, st.Client)
}

func equalOIDC(a, b OIDCSettings) bool {
	return a.Issuer == b.Issuer && a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret && a.RedirectURL == b.RedirectURL &&
		strings.Join(a.Scopes, " ") == strings.Join(b.Scopes, " ")
}

// oidcCookie carries a sign-in's state between leaving for the provider
// and coming back: HttpOnly, for ten minutes, on the callback's path.
const oidcCookie = "rota_oidc"

type oidcState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"next"`
}

// secureCookies reports whether cookies must be Secure: rota is served
// over https (its public URL says so, or the request came over TLS).
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.settings.Load().PublicURL, "https://")
}

// oidcLogin serves GET /auth/oidc/login?next=: off to the provider, with
// state, nonce and a PKCE challenge.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	st := s.settings.Load().OIDC
	if st == nil {
		return rota.Errorf(rota.ENOTFOUND, "no identity provider is configured ([auth.oidc])")
	}
	cl, err := s.oidc.get(r.Context(), *st)
	if err != nil {
		return err
	}
	state := oidcState{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(), Next: localPath(r.URL.Query().Get("next"))}
	b, _ := json.Marshal(state)
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/auth/oidc/", MaxAge: 600,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, cl.config.AuthCodeURL(state.State, oidc.Nonce(state.Nonce), oauth2.S256ChallengeOption(state.Verifier)), http.StatusFound)
	return nil
}

// oidcCallback serves GET /auth/oidc/callback: the provider's answer is
// checked (state, PKCE, the ID token's signature, audience, expiry and
// nonce), its verified email or subject is matched to a configured
// person, and a session begins.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	st := s.settings.Load().OIDC
	if st == nil {
		return rota.Errorf(rota.ENOTFOUND, "no identity provider is configured ([auth.oidc])")
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return rota.Errorf(rota.EUNAUTHORIZED, "the identity provider refused the sign-in: %s %s", e, q.Get("error_description"))
	}
	ck, err := r.Cookie(oidcCookie)
	if err != nil {
		return rota.Errorf(rota.EUNAUTHORIZED, "the sign-in took too long or began elsewhere: start again")
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Path: "/auth/oidc/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	var state oidcState
	if b, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil || json.Unmarshal(b, &state) != nil || state.State == "" {
		return rota.Errorf(rota.EUNAUTHORIZED, "the sign-in cookie is damaged: start again")
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state.State)) != 1 {
		return rota.Errorf(rota.EUNAUTHORIZED, "the sign-in's state does not match: start again")
	}
	cl, err := s.oidc.get(r.Context(), *st)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(st.context(r.Context()), 15*time.Second)
	defer cancel()
	tok, err := cl.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(state.Verifier))
	if err != nil {
		return rota.Errorf(rota.EUNAUTHORIZED, "the identity provider did not accept the sign-in code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return rota.Errorf(rota.EUNAUTHORIZED, "the identity provider sent no ID token")
	}
	idt, err := cl.verifier.Verify(ctx, raw)
	if err != nil {
		return rota.Errorf(rota.EUNAUTHORIZED, "the ID token is not valid: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(state.Nonce)) != 1 {
		return rota.Errorf(rota.EUNAUTHORIZED, "the ID token's nonce does not match: start again")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return rota.Errorf(rota.EUNAUTHORIZED, "the ID token's claims cannot be read: %v", err)
	}
	email := ""
	if claims.EmailVerified != nil && *claims.EmailVerified {
		email = claims.Email
	}
	p := s.book.Roster().Org().SignIn(idt.Subject, email)
	if p == nil {
		who := idt.Subject
		if claims.Email != "" {
			who = claims.Email
			if email == "" {
				who += " (not verified by the provider)"
			}
		}
		s.log.Warn("sign-in refused: no such person", "subject", idt.Subject, "email", claims.Email)
		s.audit(r.Context(), rota.Actor{Via: "oidc"}, "sign-in.refused", who, "", "no configured person")
		return rota.Errorf(rota.EFORBIDDEN, "you signed in as %s, but no person in rota's configuration has that verified email (or oidc_subject): ask an admin to add it to your [[people]] emails", who)
	}
	return s.startSession(w, r, p.Name, "oidc", state.Next)
}

// startSession signs person in and sends them on to next.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, person, via, next string) error {
	st := s.settings.Load()
	ttl := st.SessionLifetime
	if ttl <= 0 {
		ttl = 7 * rota.Day
	}
	secret, sess, err := s.identity.CreateSession(r.Context(), person, via, ttl)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", Expires: sess.Expires, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	a := rota.Actor{Person: person, Via: rota.ViaWeb, Role: s.book.Roster().Org().RoleOf(person, st.Admins), Session: sess.ID}
	s.audit(r.Context(), a, "sign-in", "session "+fmt.Sprint(sess.ID), "", via)
	s.log.Info("signed in", "person", person, "via", via, "session", sess.ID)
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
	return nil
}

// signInDev serves POST /auth/dev: with the development sign-in on (a
// flag, only on loopback), anyone on this machine signs in as anyone.
func (s *Server) signInDev(w http.ResponseWriter, r *http.Request) error {
	if !s.devSignIn {
		return rota.Errorf(rota.ENOTFOUND, "the development sign-in is off (rotad serve --dev-sign-in, on a loopback address)")
	}
	if !fromLoopback(r) {
		return rota.Errorf(rota.EFORBIDDEN, "the development sign-in answers only requests from this machine")
	}
	if h := forwardedBy(r); h != "" {
		// A reverse proxy on this machine connects from loopback for
		// anyone anywhere: the connection's address says nothing then.
		s.log.Warn("development sign-in refused: the request came through a proxy", "header", h, "remote", r.RemoteAddr)
		return rota.Errorf(rota.EFORBIDDEN, "the development sign-in answers only requests made on this machine, not through a proxy (the request has %s)", h)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	person := r.PostFormValue("person")
	if s.book.Roster().Org().Person(person) == nil {
		return rota.FieldError("person", "no person named %q", person)
	}
	s.log.Warn("DEVELOPMENT SIGN-IN: signed in without an identity provider", "person", person, "remote", r.RemoteAddr)
	return s.startSession(w, r, person, rota.ViaDevLogin, r.PostFormValue("next"))
}

// signOut serves POST /signout: the session ends here and on the server.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r)
	if c.session != nil {
		if err := s.identity.RevokeSession(r.Context(), c.session.ID); err != nil {
			return err
		}
		s.audit(r.Context(), c.actor, "sign-out", "session "+fmt.Sprint(c.session.ID), "", "")
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// forwardedBy names the forwarding header r carries, if any: a proxy
// passed it on.
func forwardedBy(r *http.Request) string {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Via"} {
		if _, ok := r.Header[h]; ok {
			return h
		}
	}
	return ""
}

// fromLoopback reports whether r came from this machine.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// localPath keeps a redirect on this site: a path, never another host
// ("//evil.example", "https://..."), checked as a browser will read it
// and returned as http.Redirect will send it. Browsers drop tabs and
// newlines from a URL ("/\t/evil" is "//evil") and read a backslash as a
// slash ("/\\evil" is "//evil"); http.Redirect cleans dot segments, so
// "/./\\evil" would become "/\\evil" after any check of the raw text.
func localPath(next string) string {
	if strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "/"
	}
	next = strings.ReplaceAll(next, `\`, "/")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") ||
		strings.ContainsAny(u.Path, `\`) {
		// An escaped backslash ("/%5Cevil") is one once decoded.
		return "/"
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	if strings.HasPrefix(clean, "//") {
		return "/"
	}
	out := (&url.URL{Path: clean, RawQuery: u.RawQuery}).String()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
		return "/"
	}
	return out
}

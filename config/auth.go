package config

import (
	"net/url"
	"slices"
	"time"

	"github.com/rotahq/rota"
)

// DefaultSessionLifetime is how long a web sign-in lasts when
// auth.session_lifetime is not set.
const DefaultSessionLifetime = 7 * rota.Day

// Auth is who may sign in and what they may do.
type Auth struct {
	// Admins are the people with the admin role; managers are the teams'
	// managers, and every other configured person is a responder.
	Admins []string
	// SessionLifetime bounds a web sign-in.
	SessionLifetime time.Duration
	// OIDC is the identity provider people sign in with; nil for none
	// (then only the development sign-in, on loopback, signs people in).
	OIDC *OIDC
}

// OIDC is an OpenID Connect provider.
type OIDC struct {
	// Name labels the sign-in button ("Sign in with Name").
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is where the provider sends people back: the public
	// URL's /auth/oidc/callback unless set.
	RedirectURL string
	Scopes      []string
}

type authSection struct {
	Admins          []string     `toml:"admins"`
	SessionLifetime string       `toml:"session_lifetime"`
	OIDC            *oidcSection `toml:"oidc"`
}

type oidcSection struct {
	Name         string         `toml:"name"`
	Issuer       string         `toml:"issuer"`
	ClientID     string         `toml:"client_id"`
	ClientSecret *secretSection `toml:"client_secret"`
	RedirectURL  string         `toml:"redirect_url"`
	Scopes       []string       `toml:"scopes"`
}

func (v *validator) auth(a authSection, people *named[rota.Person], publicURL string) Auth {
	out := Auth{SessionLifetime: v.window("auth.session_lifetime", a.SessionLifetime, DefaultSessionLifetime, 5*time.Minute, 90*rota.Day)}
	for i, name := range a.Admins {
		switch {
		case people.get(name) == nil:
			v.addf(at("auth.admins", i, ""), "no person named %q", name)
		case slices.Contains(out.Admins, name):
			v.addf(at("auth.admins", i, ""), "%q is listed twice", name)
		default:
			out.Admins = append(out.Admins, name)
		}
	}
	if a.OIDC != nil {
		out.OIDC = v.oidc(a.OIDC, publicURL)
	}
	return out
}

func (v *validator) oidc(s *oidcSection, publicURL string) *OIDC {
	out := &OIDC{Name: s.Name, Issuer: s.Issuer, ClientID: s.ClientID, RedirectURL: s.RedirectURL, Scopes: s.Scopes}
	if out.Name == "" {
		out.Name = "single sign-on"
	}
	if s.Issuer == "" {
		v.required("auth.oidc", "issuer", ": the provider's issuer URL, as in its /.well-known/openid-configuration")
	} else if !secureURL(s.Issuer) {
		v.addf("auth.oidc.issuer", "%q is not an https URL (plain http is allowed only on this machine)", s.Issuer)
	}
	if s.ClientID == "" {
		v.required("auth.oidc", "client_id", ": the client id rota is registered with at the provider")
	}
	if s.ClientSecret == nil {
		v.required("auth.oidc", "client_secret", ": { env = \"NAME\" } or { file = \"PATH\" }")
	} else if sec, ok := v.optionalSecret("auth.oidc.client_secret", *s.ClientSecret); ok {
		out.ClientSecret = sec
	} else {
		v.warnf("auth.oidc.client_secret", "the client secret is not set (%s): sign-in is off until it is", sourceOf(*s.ClientSecret))
		return nil
	}
	switch {
	case out.RedirectURL != "":
		if !secureURL(out.RedirectURL) {
			v.addf("auth.oidc.redirect_url", "%q is not an https URL (plain http is allowed only on this machine)", s.RedirectURL)
		}
	case publicURL != "":
		out.RedirectURL = publicURL + "/auth/oidc/callback"
	default:
		v.required("auth.oidc", "redirect_url", " when server.public_url is not set")
	}
	if len(out.Scopes) == 0 {
		out.Scopes = []string{"openid", "email", "profile"}
	} else if !slices.Contains(out.Scopes, "openid") {
		out.Scopes = append([]string{"openid"}, out.Scopes...)
	}
	return out
}

// secureURL reports whether s is an https URL, or an http one on this
// machine (a provider under test, a development setup).
func secureURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && loopback(u.Hostname())
}

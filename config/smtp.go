package config

import (
	"crypto/x509"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"
)

// DefaultSMTPTimeout bounds sending one email when smtp.timeout is not set.
const DefaultSMTPTimeout = 10 * time.Second

// The security modes and their usual ports repeat those of
// paging/notify/email, which config does not import (it imports only the
// root and scheduler).
const (
	securityStartTLS = "starttls"
	securityTLS      = "tls"
	securityNone     = "none"
)

var smtpPorts = map[string]int{securityStartTLS: 587, securityTLS: 465, securityNone: 25}

// smtp resolves the relay email goes through. A password whose
// environment variable is unset leaves email off, with a warning, as
// Twilio's credentials do, so that a file can name a relay before the
// secret is deployed.
func (v *validator) smtp(s *smtpSection) *SMTP {
	out := &SMTP{Host: s.Host, Security: s.Security, Username: s.Username, From: s.From}
	if out.Security == "" {
		out.Security = securityStartTLS
	}
	if _, ok := smtpPorts[out.Security]; !ok {
		v.addf("smtp.security", "%q is not a security mode: use %q (STARTTLS, required; the default), %q (implicit TLS) or %q (plain text, for a relay on this machine)",
			s.Security, securityStartTLS, securityTLS, securityNone)
	}
	if _, _, err := net.SplitHostPort(s.Host); err == nil {
		v.addf("smtp.host", "%q has a port: set it in port", s.Host)
	} else if strings.ContainsAny(s.Host, "/@ ") {
		v.addf("smtp.host", "%q is not a host name or an IP address", s.Host)
	} else if s.Host == "" {
		v.required("smtp", "host", ": the relay's host name")
	}
	out.Port = smtpPorts[out.Security]
	if s.Port != nil {
		if *s.Port < 1 || *s.Port > 65535 {
			v.addf("smtp.port", "%d is not a port (1 to 65535)", *s.Port)
		}
		out.Port = *s.Port
	}
	if s.From == "" {
		v.required("smtp", "from", ": the address email comes from, as \"Rota <rota@example.com>\"")
	} else if _, err := mail.ParseAddress(s.From); err != nil {
		v.addf("smtp.from", "%q is not an email address (as in \"rota@example.com\" or \"Rota <rota@example.com>\")", s.From)
	}
	out.Timeout = v.window("smtp.timeout", s.Timeout, DefaultSMTPTimeout, time.Second, 5*time.Minute)
	if s.CAFile != "" {
		out.CAFile = v.path(s.CAFile)
		if out.Security == securityNone {
			v.addf("smtp.ca_file", "a CA file is for TLS, and security is %q", securityNone)
		} else {
			out.CAs = v.caFile("smtp.ca_file", s.CAFile)
		}
	}

	switch {
	case s.Password == nil && s.Username != "":
		v.required("smtp", "password", " with a username: { env = \"NAME\" } or { file = \"PATH\" }")
	case s.Password != nil && s.Username == "":
		v.required("smtp", "username", " with a password")
	case s.Password != nil && out.Security == securityNone && s.Host != "" && !loopback(s.Host):
		v.addf("smtp.security", "%q would send the password in clear to %s: use %q or %q, or a relay on this machine", securityNone, s.Host, securityStartTLS, securityTLS)
	}
	if s.Password != nil {
		pass, ok := v.optionalSecret("smtp.password", *s.Password)
		if !ok {
			v.warnf("smtp.password", "the SMTP password is not set (%s): email goes to the log until it is", sourceOf(*s.Password))
			return nil
		}
		out.Password = pass
	}
	return out
}

// loopback reports whether host is this machine, the one place plain text
// does not expose a password to the network.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// caFile reads a PEM file of CA certificates named at key, relative to
// the configuration's directory: nil, with a problem, when it cannot be
// read or holds no certificate.
func (v *validator) caFile(key, file string) []byte {
	path := v.path(file)
	pem, err := os.ReadFile(path)
	switch {
	case err != nil:
		v.addf(key, "read %s: %s", path, readError(err))
	case !x509.NewCertPool().AppendCertsFromPEM(pem):
		v.addf(key, "%s holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")", path)
	default:
		return pem
	}
	return nil
}

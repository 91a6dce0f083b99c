package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

const (
	testUser = "rota-relay"
	testPass = "correct-horse-battery-staple"
)

func TestSendDelivers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		security string
		user     string
	}{
		{"starttls with auth", SecurityStartTLS, testUser},
		{"implicit tls with auth", SecurityTLS, testUser},
		{"plain on loopback", SecurityNone, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := serverOptions{security: tc.security}
			if tc.user != "" {
				opts.user, opts.pass = tc.user, testPass
			}
			srv := startServer(t, opts)
			s, err := New(srv.config(tc.security))
			if err != nil {
				t.Fatal(err)
			}
			subject := "Budget burnt: payments, Chloé"
			body := "Chloé was paged 3 times this week (budget 2).\nSee https://rota.example.com/teams/payments/report\n"
			id, err := s.Send(context.Background(), "Chloé Dubois <chloe@example.com>", subject, body)
			if err != nil {
				t.Fatal(err)
			}

			msgs := srv.received()
			if len(msgs) != 1 {
				t.Fatalf("server received %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.From != "rota@example.com" || len(got.To) != 1 || got.To[0] != "chloe@example.com" {
				t.Errorf("envelope: MAIL FROM %q, RCPT TO %q", got.From, got.To)
			}
			if got.User != tc.user {
				t.Errorf("authenticated as %q, want %q", got.User, tc.user)
			}
			if wantTLS := tc.security != SecurityNone; got.TLS != wantTLS {
				t.Errorf("TLS = %v, want %v", got.TLS, wantTLS)
			}

			m, err := mail.ReadMessage(bytes.NewReader(got.Data))
			if err != nil {
				t.Fatalf("not a message: %v\n%s", err, got.Data)
			}
			h := m.Header
			if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "rota@example.com" || from[0].Name != "Rota" {
				t.Errorf("From: %q (%v)", h.Get("From"), err)
			}
			if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "chloe@example.com" || to[0].Name != "Chloé Dubois" {
				t.Errorf("To: %q (%v)", h.Get("To"), err)
			}
			if s, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil || s != subject {
				t.Errorf("Subject: %q decodes to %q (%v), want %q", h.Get("Subject"), s, err, subject)
			}
			if d, err := h.Date(); err != nil || time.Since(d).Abs() > time.Minute {
				t.Errorf("Date: %q (%v)", h.Get("Date"), err)
			}
			if h.Get("Message-Id") != id || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
				t.Errorf("Message-ID header %q, Send returned %q", h.Get("Message-Id"), id)
			}
			if h.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("Auto-Submitted: %q", h.Get("Auto-Submitted"))
			}
			mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
			if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
				t.Errorf("Content-Type: %q", h.Get("Content-Type"))
			}
			var text []byte
			switch cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte {
			case "quoted-printable":
				text, err = io.ReadAll(quotedprintable.NewReader(m.Body))
			case "", "7bit", "8bit":
				text, err = io.ReadAll(m.Body)
			default:
				t.Fatalf("Content-Transfer-Encoding %q", cte)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(string(text), "\r\n", "\n"); got != body {
				t.Errorf("body:\n%q\nwant\n%q", got, body)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		server    serverOptions
		security  string // the Sender's, when it differs from the server's
		password  string // the Sender's, when it differs from the server's
		to        string
		permanent bool
		contains  string
	}{
		{
			name:      "wrong password",
			server:    serverOptions{security: SecurityStartTLS, user: testUser, pass: testPass},
			password:  "wrong-password-s3cret",
			permanent: true, contains: "535",
		},
		{
			name:      "sender refused",
			server:    serverOptions{security: SecurityStartTLS, mailErr: &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 8}, Message: "Sender address rejected"}},
			permanent: true, contains: "553",
		},
		{
			name:      "mailbox unavailable",
			server:    serverOptions{security: SecurityStartTLS, rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}},
			permanent: true, contains: "Mailbox unavailable",
		},
		{
			name:      "greylisted",
			server:    serverOptions{security: SecurityStartTLS, rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, try again later"}},
			permanent: false, contains: "451",
		},
		{
			name:      "message refused after DATA",
			server:    serverOptions{security: SecurityStartTLS, dataErr: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Content rejected"}},
			permanent: true, contains: "554",
		},
		{
			name:      "recipient not an address",
			server:    serverOptions{security: SecurityStartTLS},
			to:        "chloe at example dot com",
			permanent: true, contains: `"chloe at example dot com" is not an email address`,
		},
		{
			name:      "no STARTTLS offered",
			server:    serverOptions{security: SecurityNone},
			security:  SecurityStartTLS,
			permanent: false, contains: "STARTTLS",
		},
		{
			name:      "implicit TLS against a plain server",
			server:    serverOptions{security: SecurityNone},
			security:  SecurityTLS,
			permanent: false, contains: "tls",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.server)
			security := tc.security
			if security == "" {
				security = tc.server.security
			}
			cfg := srv.config(security)
			if tc.password != "" {
				cfg.Password = tc.password
			}
			to := tc.to
			if to == "" {
				to = "chloe@example.com"
			}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			id, err := s.Send(context.Background(), to, "subject", "body")
			if err == nil {
				t.Fatalf("sent (%s), want an error", id)
			}
			t.Log(err)
			if Permanent(err) != tc.permanent {
				t.Errorf("Permanent(%v) = %v, want %v", err, Permanent(err), tc.permanent)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not say %q", err, tc.contains)
			}
			for _, secret := range []string{cfg.Password, testPass} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the password", err)
				}
			}
			if n := len(srv.received()); n != 0 {
				t.Errorf("server received %d messages", n)
			}
			if tc.to != "" && srv.sessionCount() != 0 {
				t.Errorf("a bad address still reached the server")
			}
		})
	}
}

// A certificate the system does not trust is refused, not skipped.
func TestSendUntrustedCertificate(t *testing.T) {
	srv := startServer(t, serverOptions{security: SecurityStartTLS})
	cfg := srv.config(SecurityStartTLS)
	cfg.TLSConfig = nil
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), "chloe@example.com", "s", "b"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want a certificate error", err)
	}
	if n := len(srv.received()); n != 0 {
		t.Errorf("server received %d messages", n)
	}
}

func TestSendUnreachable(t *testing.T) {
	s, err := New(Config{Host: "127.0.0.1", Port: closedPort(t), From: "rota@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), "chloe@example.com", "s", "b")
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v, want connection refused", err)
	}
	if Permanent(err) {
		t.Errorf("a refused connection is permanent: %v", err)
	}
}

// An IPv6 literal is dialled as one, in brackets.
func TestSendIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	srv := startServer(t, serverOptions{security: SecurityNone, listen: "[::1]:0"})
	cfg := srv.config(SecurityNone)
	cfg.Host = "::1"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), "chloe@example.com", "s", "b"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.received()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}
}

// Once the relay has taken the message, a failure to close the session
// must not report an error: the caller would send the message again.
func TestSendDeliveredThenHungUp(t *testing.T) {
	s, err := New(Config{Host: "127.0.0.1", Port: hangUpAfterData(t), Security: SecurityNone, From: "rota@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Send(context.Background(), "chloe@example.com", "s", "b")
	if err != nil || id == "" {
		t.Fatalf("got %q, %v; want the message ID and no error", id, err)
	}
}

// A relay that accepts the connection and then says nothing must not hold
// Send past its context or its timeout.
func TestSendStalledRelay(t *testing.T) {
	port := silentServer(t)
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		cancel   time.Duration // cancel the context after this; 0 for never
		is       error
		contains string
	}{
		{"context cancelled", time.Minute, 100 * time.Millisecond, context.Canceled, "context canceled"},
		{"timeout", 200 * time.Millisecond, 0, context.DeadlineExceeded, "no answer within 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{Host: "127.0.0.1", Port: port, From: "rota@example.com", Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel > 0 {
				time.AfterFunc(tc.cancel, cancel)
			}
			start := time.Now()
			_, err = s.Send(ctx, "chloe@example.com", "s", "b")
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("Send took %v", took)
			}
			if !errors.Is(err, tc.is) || !strings.Contains(fmtErr(err), tc.contains) {
				t.Errorf("got %v, want %v saying %q", err, tc.is, tc.contains)
			}
			if Permanent(err) {
				t.Errorf("Permanent(%v) = true", err)
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestNew(t *testing.T) {
	ok := Config{Host: "smtp.example.com", From: "rota@example.com"}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // part of the error; "" for none
		port   int
	}{
		{"defaults", func(*Config) {}, "", 587},
		{"implicit tls port", func(c *Config) { c.Security = SecurityTLS }, "", 465},
		{"plain port", func(c *Config) { c.Security = SecurityNone }, "", 25},
		{"own port", func(c *Config) { c.Port = 2525 }, "", 2525},
		{"plain auth on loopback", func(c *Config) {
			c.Host, c.Security, c.Username, c.Password = "127.0.0.1", SecurityNone, "u", "p"
		}, "", 25},
		{"no host", func(c *Config) { c.Host = "" }, "host is required", 0},
		{"no from", func(c *Config) { c.From = "" }, "from is required", 0},
		{"bad from", func(c *Config) { c.From = "rota" }, `from "rota" is not an email address`, 0},
		{"bad security", func(c *Config) { c.Security = "ssl" }, `security "ssl" is not "starttls", "tls" or "none"`, 0},
		{"bad port", func(c *Config) { c.Port = 70000 }, "port 70000 is not between 1 and 65535", 0},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout must not be negative", 0},
		{"user without password", func(c *Config) { c.Username = "u" }, "a password is required with a username", 0},
		{"password without user", func(c *Config) { c.Password = "hunter2-hunter2" }, "a username is required with a password", 0},
		{"password in clear", func(c *Config) { c.Security, c.Username, c.Password = SecurityNone, "u", "hunter2-hunter2" },
			`security "none" would send the password in clear to smtp.example.com`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			cfg.TLSConfig = &tls.Config{}
			tc.change(&cfg)
			s, err := New(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New: got %v, want %q", err, tc.want)
			case tc.want == "":
				if s.port != tc.port {
					t.Errorf("port %d, want %d", s.port, tc.port)
				}
				if s.tls.ServerName != cfg.Host {
					t.Errorf("TLS server name %q, want %q", s.tls.ServerName, cfg.Host)
				}
				if s.timeout != DefaultTimeout {
					t.Errorf("timeout %v", s.timeout)
				}
			}
			if err != nil && cfg.Password != "" && strings.Contains(err.Error(), cfg.Password) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	// New keeps its own copy of the caller's TLS configuration.
	shared := &tls.Config{}
	if _, err := New(Config{Host: "h", From: "a@b.c", TLSConfig: shared}); err != nil || shared.ServerName != "" {
		t.Errorf("New changed the caller's tls.Config: %v", err)
	}
}

// TestTextSaysHowToAct: a page's email links each incident's page in the
// web UI, where whoever was paged acts on it; an update only links.
func TestTextSaysHowToAct(t *testing.T) {
	incs := []rota.Incident{{ID: 9, Service: "payments-api", Summary: "5xx"}}
	subject, body := Text(notify.Message{Kind: notify.KindPage, Text: "payments-api: 5xx [critical] #9 - you deployed abc1234 just now", Incidents: incs, PublicURL: "https://rota.example.com"})
	if subject != "rota page: payments-api: 5xx [critical] #9 - you deployed abc1234 just now" ||
		!strings.Contains(body, "Acknowledge, escalate or resolve on rota:\n#9 payments-api: https://rota.example.com/incidents/9") {
		t.Errorf("page: %q\n%s", subject, body)
	}
	_, body = Text(notify.Message{Kind: notify.KindUpdate, Text: "#9 acknowledged by alice", Incidents: incs, PublicURL: "https://rota.example.com"})
	if strings.Contains(body, "Acknowledge") || !strings.Contains(body, "https://rota.example.com/incidents/9") {
		t.Errorf("update: %s", body)
	}
}

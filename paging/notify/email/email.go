// Package email sends plain-text notices by SMTP, through a relay such as
// a company mail server or a sending service. It knows nothing of pages or
// people: the paging engine adapts a Sender to its Notifier, and Permanent
// tells it whether trying again could help.
package email

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Security modes: how the connection to the relay is encrypted.
const (
	// SecurityStartTLS connects in plain text and requires STARTTLS
	// before anything else is said; a relay that does not offer it is
	// an error, never a silent fallback to plain text.
	SecurityStartTLS = "starttls"
	// SecurityTLS speaks TLS from the first byte (implicit TLS, usually
	// port 465).
	SecurityTLS = "tls"
	// SecurityNone sends in plain text: only sensible for a relay on
	// the same machine.
	SecurityNone = "none"
)

// DefaultTimeout bounds one Send when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultPort is the port each security mode usually listens on.
func DefaultPort(security string) int {
	switch security {
	case SecurityTLS:
		return 465
	case SecurityNone:
		return 25
	}
	return 587
}

// Config names the relay and the sender.
type Config struct {
	Host string
	// Port is DefaultPort(Security) when zero.
	Port int
	// Security is SecurityStartTLS (the default when empty), SecurityTLS
	// or SecurityNone.
	Security string
	// Username and Password authenticate to the relay (PLAIN, or LOGIN
	// where PLAIN is not offered); no authentication when both are empty.
	Username, Password string
	// From is the sender's address, as "rota@example.com" or
	// "Rota <rota@example.com>".
	From string
	// Timeout bounds one Send, from connecting to the relay's last reply;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// TLSConfig verifies the relay's certificate; nil means the system's
	// roots. Its ServerName defaults to Host.
	TLSConfig *tls.Config
}

// Sender sends mail through one relay. It is safe for concurrent use: each
// Send opens its own connection.
type Sender struct {
	addr     string
	host     string
	port     int
	security string
	username string
	password string
	from     *mail.Address
	domain   string
	timeout  time.Duration
	tls      *tls.Config
}

// New checks cfg and returns a Sender for it. It does not connect.
func New(cfg Config) (*Sender, error) {
	s := &Sender{host: cfg.Host, port: cfg.Port, security: cfg.Security, username: cfg.Username, password: cfg.Password, timeout: cfg.Timeout}
	var problems []string
	if s.security == "" {
		s.security = SecurityStartTLS
	}
	switch s.security {
	case SecurityStartTLS, SecurityTLS, SecurityNone:
	default:
		problems = append(problems, fmt.Sprintf("security %q is not %q, %q or %q", cfg.Security, SecurityStartTLS, SecurityTLS, SecurityNone))
	}
	if s.host == "" {
		problems = append(problems, "host is required")
	}
	if s.port == 0 {
		s.port = DefaultPort(s.security)
	} else if s.port < 1 || s.port > 65535 {
		problems = append(problems, fmt.Sprintf("port %d is not between 1 and 65535", s.port))
	}
	switch {
	case s.username != "" && s.password == "":
		problems = append(problems, "a password is required with a username")
	case s.username == "" && s.password != "":
		problems = append(problems, "a username is required with a password")
	case s.username != "" && s.security == SecurityNone && !Loopback(s.host):
		problems = append(problems, fmt.Sprintf("security %q would send the password in clear to %s: use %q or %q", SecurityNone, s.host, SecurityStartTLS, SecurityTLS))
	}
	if cfg.From == "" {
		problems = append(problems, "from is required")
	} else if from, err := mail.ParseAddress(cfg.From); err != nil {
		problems = append(problems, fmt.Sprintf("from %q is not an email address", cfg.From))
	} else {
		s.from = from
		s.domain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	} else if s.timeout < 0 {
		problems = append(problems, "timeout must not be negative")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("email: %s", strings.Join(problems, "; "))
	}
	s.addr = net.JoinHostPort(s.host, strconv.Itoa(s.port))
	if cfg.TLSConfig != nil {
		s.tls = cfg.TLSConfig.Clone()
	} else {
		s.tls = &tls.Config{}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = s.host
	}
	if s.tls.MinVersion == 0 {
		s.tls.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

// Loopback reports whether host names this machine, the one place where
// SecurityNone does not expose mail (or a password) to the network.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers one plain-text UTF-8 message to the relay and returns its
// Message-ID header, angle brackets included. The relay accepting it is
// all Send can know; a bounce comes later, by mail, to From. ctx and the
// Timeout both bound the whole exchange. Permanent(err) tells whether the
// same message could succeed later; err never contains the password.
func (s *Sender) Send(ctx context.Context, to, subject, body string) (messageID string, err error) {
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return "", &sendError{msg: fmt.Sprintf("send email: %q is not an email address", to), permanent: true, err: err}
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(s.from)
	m.ToMailAddress(rcpt)
	// A line break in the subject would start a header of the caller's
	// making.
	m.Subject(strings.Join(strings.Fields(subject), " "))
	m.SetDateWithValue(time.Now())
	messageID = "<" + randomID() + "@" + s.domain + ">"
	m.SetMessageIDWithValue(strings.Trim(messageID, "<>"))
	// RFC 3834: vacation responders should not answer a notice.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, body)

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// go-mail heeds the context only while dialling; closing the
	// connection when ctx ends stops a relay that stalls later, in
	// the greeting, TLS, AUTH or DATA.
	var stop func() bool
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := s.dial(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		stop = context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	c, err := gomail.NewClient(s.host, s.options(dial)...)
	if err != nil {
		return "", s.wrap(to, err, nil)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		if m.IsDelivered() {
			// The relay took the message; what failed is the RSET or
			// QUIT after it. Reporting an error would send it twice.
			return messageID, nil
		}
		var ctxErr error
		switch {
		case parent.Err() != nil:
			ctxErr = parent.Err()
		case ctx.Err() != nil:
			ctxErr = fmt.Errorf("no answer within %s: %w", s.timeout, ctx.Err())
		}
		return "", s.wrap(to, err, ctxErr)
	}
	return messageID, nil
}

func (s *Sender) options(dial gomail.DialContextFunc) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		// The context bounds the whole Send (see Send); go-mail's own
		// deadline, per command, is a backstop set later so that a
		// stalled relay is reported as the context's timeout.
		gomail.WithTimeout(s.timeout + time.Second),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(dial),
	}
	switch s.security {
	case SecurityTLS:
		// The connection is TLS already (see dial): no STARTTLS.
		opts = append(opts, gomail.WithSSL())
	case SecurityNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.username != "" {
		// PLAIN and LOGIN refuse to send the password unless the
		// connection is encrypted or the relay is on loopback.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.username), gomail.WithPassword(s.password))
	}
	return opts
}

// dial connects to the relay, with TLS from the start in SecurityTLS.
// go-mail would do the TLS itself, but a custom dialer is the only way to
// hold the connection and close it when the context ends. It dials s.addr,
// not the address go-mail passes: go-mail v0.8.1 joins host and port
// without brackets, which breaks IPv6 literals.
func (s *Sender) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	d := &net.Dialer{}
	if s.security == SecurityTLS {
		return (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, network, s.addr)
	}
	return d.DialContext(ctx, network, s.addr)
}

// randomID is the local part of a Message-ID: unique without naming the
// machine, as go-mail's own (the host name) would.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// wrap turns a go-mail error into a sendError. ctxErr is set when the
// context ended, which then explains the failure better than the closed
// connection it caused.
func (s *Sender) wrap(to string, err, ctxErr error) error {
	code := replyCode(err)
	if ctxErr != nil {
		code, err = 0, ctxErr
	}
	text := err.Error()
	if s.password != "" {
		// Defence in depth: go-mail never puts the password in an
		// error, but a relay's reply could echo it.
		text = strings.ReplaceAll(text, s.password, "[password]")
	}
	return &sendError{
		msg:       fmt.Sprintf("send email to %s via %s: %s", to, s.addr, text),
		code:      code,
		permanent: code >= 500 && code <= 599,
		err:       err,
	}
}

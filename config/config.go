// Package config reads rota's TOML configuration: people, teams, rotations,
// services and escalation policies, plus the daemon's own settings. Loading
// is strict and has no side effects: every problem in the file is reported
// at once with its line, and a valid file yields an immutable *rota.Org.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/rotahq/rota"
)

// Defaults.
const (
	DefaultListen        = "127.0.0.1:8080"
	DefaultDatabase      = "data/rota.db"
	DefaultAdminTokenEnv = "ROTA_ADMIN_TOKEN"
)

// Config is a validated configuration file.
type Config struct {
	File   string
	Server Server
	Log    Log
	// Twilio is nil when SMS and voice are not sent through Twilio (they
	// go to the log).
	Twilio *Twilio
	// SMTP is nil when email is not sent through an SMTP relay (it goes
	// to the log).
	SMTP *SMTP
	// TrustedCAs, from [tls] ca_file, is PEM certificates rota trusts
	// beside the system's in the TLS connections it makes: webhooks and
	// Teams, the OpenID provider, PTO calendars, and the SMTP relay
	// unless [smtp] ca_file names its own. Nil trusts the system's only.
	TrustedCAs []byte
	// Slack is nil when there is no Slack app (Slack contacts that are
	// incoming webhooks still work; the others go to the log).
	Slack *Slack
	// Paging tunes the outbox.
	Paging Paging
	// GitHubSecret checks GitHub webhooks' signatures; empty when GitHub
	// webhooks are not configured, and then refused.
	GitHubSecret string
	// FeedPast and FeedFuture bound calendar feeds around today.
	FeedPast, FeedFuture time.Duration
	// PTORefresh is the cron spec PTO calendars are fetched on.
	PTORefresh string
	// Auth is who signs in, and the admins.
	Auth Auth
	Org  *rota.Org
	// Warnings are things that work but deserve a look, such as an
	// integration key whose environment variable is not set.
	Warnings []Problem
	// Deaf are the services that cannot receive alerts (no integration
	// key is set): the daemon serves, and says so at start and in
	// /readyz; check-config fails.
	Deaf []Problem
}

// Server holds the daemon's own settings.
type Server struct {
	Listen string
	// Database is the SQLite file, resolved against the config file's
	// directory when relative.
	Database  string
	PublicURL string
	// AdminTokenSource names where the admin token was looked for, and
	// AdminToken is its value: empty when none is set, in which case
	// writes are refused.
	AdminTokenSource string
	AdminToken       string
	// AnonymousReads is the explicit opt-out reads_require_token = false:
	// the API's reads are open to anyone (logged loudly at every start).
	AnonymousReads bool
	// MetricsTokenSet is whether /metrics needs a bearer token, and
	// MetricsToken is its value (empty while unset: /metrics is refused
	// then, not opened).
	MetricsTokenSet bool
	MetricsToken    string
}

// Twilio holds the Twilio account rota sends SMS and calls with.
type Twilio struct {
	AccountSID string
	// AuthTokens are the primary token and, during a rotation, the
	// secondary: webhooks signed with either are accepted; the API is
	// called with the first.
	AuthTokens          []string
	From                string
	MessagingServiceSID string
	APIURL              string
}

// Paging tunes how notifications go out.
type Paging struct {
	// RateLimit is the least time between two messages to one person on
	// one channel: what comes sooner waits and goes as one message
	// listing the incidents.
	RateLimit time.Duration
	// RetryFor is how long a page whose person has no other contact is
	// retried; MaxBackoff the longest wait between two tries.
	RetryFor, MaxBackoff time.Duration
	// PerDestination bounds messages under way to one webhook host.
	PerDestination int
	// Timeout bounds one send; Timeouts, one channel's.
	Timeout  time.Duration
	Timeouts map[rota.Channel]time.Duration
}

// DefaultRateLimit is Paging.RateLimit's default.
const DefaultRateLimit = time.Minute

// SMTP holds the relay rota sends email through.
type SMTP struct {
	Host string
	// Port defaults to the usual one for Security: 587, 465 or 25.
	Port int
	// Security is "starttls" (required, the default), "tls" (implicit
	// TLS) or "none" (plain text, for a relay on loopback).
	Security string
	// Username and Password authenticate to the relay; both empty for
	// none.
	Username string
	Password string
	// From is the sender, as "rota@example.com" or
	// "Rota <rota@example.com>".
	From string
	// Timeout bounds sending one message.
	Timeout time.Duration
	// CAFile, when set, is a PEM file of the certificates the relay's
	// must chain to (a private CA), instead of the system's; CAs are
	// their contents, read and checked when the file is loaded.
	CAFile string
	CAs    []byte
}

// Log holds the logging settings.
type Log struct {
	Format string // "text" or "json"
	Level  string // "debug", "info", "warn" or "error"
}

// Load reads and validates the file at path. Its error is a Problems listing
// everything wrong with the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Message: readError(err)}}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, Problems{{File: path, Message: err.Error()}}
	}
	return Parse(path, data, filepath.Dir(abs), os.LookupEnv)
}

func readError(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "no such file"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse validates data, named name in problems. Relative paths in it resolve
// against dir; secrets are looked up with lookupEnv.
func Parse(name string, data []byte, dir string, lookupEnv func(string) (string, bool)) (*Config, error) {
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, Problems{{File: name, Line: line, Message: "invalid TOML: " + de.Error()}}
		}
		return nil, Problems{{File: name, Message: "invalid TOML: " + err.Error()}}
	}
	d := &decoder{pos: indexPositions(data)}
	var f fileConfig
	d.decode("", raw, reflect.ValueOf(&f).Elem())

	v := &validator{decoder: d, dir: dir, lookupEnv: lookupEnv}
	cfg := v.build(&f)
	cfg.File = name

	var problems Problems
	for _, p := range d.problems {
		problems = append(problems, Problem{File: name, Line: d.pos.line(p.path), Path: p.path, Message: p.msg})
	}
	for _, p := range v.warnings {
		cfg.Warnings = append(cfg.Warnings, Problem{File: name, Line: d.pos.line(p.path), Path: p.path, Message: p.msg})
	}
	Problems(cfg.Warnings).sorted()
	for _, p := range v.deafs {
		cfg.Deaf = append(cfg.Deaf, Problem{File: name, Line: d.pos.line(p.path), Path: p.path, Message: p.msg})
	}
	if len(problems) > 0 {
		return nil, problems.sorted()
	}
	return cfg, nil
}

// Summary describes a loaded configuration in one line.
func (c *Config) Summary() string {
	o := c.Org
	schedules := 0
	for _, r := range o.Rotations {
		if r.IsSchedule() {
			schedules++
		}
	}
	rotations := fmt.Sprintf("%d rotations", len(o.Rotations)-schedules)
	switch {
	case schedules == 1:
		rotations += ", 1 schedule"
	case schedules > 1:
		rotations += fmt.Sprintf(", %d schedules", schedules)
	}
	return fmt.Sprintf("%d people, %d teams, %s, %d services, %d escalation policies",
		len(o.People), len(o.Teams), rotations, len(o.Services), len(o.Policies))
}

func listOf(names []string) string { return strings.Join(names, ", ") }

// channels lists the contact types.
func channels() string {
	names := make([]string, len(rota.ContactTypes))
	for i, c := range rota.ContactTypes {
		names[i] = string(c)
	}
	return listOf(names)
}

package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// validator turns the decoded file into rota values, adding a problem for
// every rule broken and carrying on, so that one run reports them all.
type validator struct {
	*decoder
	dir       string
	lookupEnv func(string) (string, bool)
	warnings  []problemAt
	deafs     []problemAt
	// channels are the chat channels, resolved before what names them.
	channels *named[rota.ChatChannel]
}

func (v *validator) warnf(path, format string, args ...any) {
	v.warnings = append(v.warnings, problemAt{path, fmt.Sprintf(format, args...)})
}

// deaf reports a service that cannot receive alerts: a warning to serve
// with, an error to check-config.
func (v *validator) deaf(path, format string, args ...any) {
	v.warnf(path, format, args...)
	v.deafs = append(v.deafs, problemAt{path, fmt.Sprintf(format, args...)})
}

// required reports that key is missing from the table at path, unless the
// key was present and already reported for its type.
func (v *validator) required(path, key, why string) {
	for _, p := range v.problems {
		if p.path == join(path, key) {
			return
		}
	}
	v.addf(path, "%s is required%s", key, why)
}

func at(section string, i int, key string) string {
	p := section + "[" + strconv.Itoa(i) + "]"
	if key != "" {
		p += "." + key
	}
	return p
}

func (v *validator) build(f *fileConfig) *Config {
	cfg := &Config{Server: v.server(f.Server), Log: v.log(f.Log)}
	if f.Twilio != nil {
		cfg.Twilio = v.twilio(f.Twilio, cfg.Server.PublicURL)
	}
	if f.SMTP != nil {
		cfg.SMTP = v.smtp(f.SMTP)
	}
	if f.TLS.CAFile != "" {
		cfg.TrustedCAs = v.caFile("tls.ca_file", f.TLS.CAFile)
	}
	if f.Slack != nil {
		cfg.Slack = v.slack(f.Slack, cfg.Server.PublicURL)
	}
	v.channels = v.chatChannels(f.Channels, cfg.Slack)
	cfg.Paging = v.paging(f.Paging)
	cfg.FeedPast = v.window("calendar.past", f.Calendar.Past, 4*rota.Week, 0, 366*rota.Day)
	cfg.FeedFuture = v.window("calendar.future", f.Calendar.Future, 26*rota.Week, rota.Day, 2*366*rota.Day)
	cfg.PTORefresh = f.Calendar.PTORefresh
	if cfg.PTORefresh == "" {
		cfg.PTORefresh = "*/30 * * * *"
	} else if _, err := scheduler.ParseCron(cfg.PTORefresh); err != nil {
		v.addf("calendar.pto_refresh", "%v", err)
	}
	if f.GitHub != nil {
		if sec, ok := v.secret("github.webhook_secret", f.GitHub.WebhookSecret); ok {
			cfg.GitHubSecret = sec.Value
		}
	}

	people := v.people(f.People)
	teams := v.teams(f.Teams, people)
	v.managersReachable(f, teams, people, cfg)
	v.inheritFromTeams(f.People, people, teams)
	v.pto(f.People, people)
	rotations := v.rotations(f.Rotations, people, teams)
	v.schedules(f.Schedules, rotations, teams)
	policies := v.policies(f.Policies, people, rotations)
	services := v.services(f.Services, teams, policies)

	cfg.Auth = v.auth(f.Auth, people, cfg.Server.PublicURL)

	cfg.Org = rota.NewOrg(values(people), values(teams), values(rotations), values(services), values(policies))
	cfg.Org.SetChatChannels(values(v.channels))
	return cfg
}

// named keeps values in file order and finds them by name or by the index
// of the section that declared them (nil where that section was rejected).
type named[T any] struct {
	order     []*T
	by        map[string]*T
	bySection []*T
}

func values[T any](n *named[T]) []*T { return n.order }

func (n *named[T]) get(name string) *T { return n.by[name] }

// add registers a value unless its name is empty or taken; it reports which.
func add[T any](v *validator, n *named[T], section string, i int, name string, x *T) bool {
	path := at(section, i, "name")
	n.bySection = append(n.bySection, nil)
	switch {
	case name == "":
		v.addf(at(section, i, ""), "name is required")
		return false
	case !validName(name):
		v.addf(path, "%q is not a valid name: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
		return false
	case n.by[name] != nil:
		v.addf(path, "duplicate name %q", name)
		return false
	}
	if n.by == nil {
		n.by = map[string]*T{}
	}
	n.by[name] = x
	n.order = append(n.order, x)
	n.bySection[i] = x
	return true
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || (r != '-' && r != '_' && r != '.')) {
			return false
		}
	}
	return true
}

func (v *validator) server(s serverSection) Server {
	out := Server{Listen: s.Listen, Database: s.Database, PublicURL: strings.TrimRight(s.PublicURL, "/")}
	if out.Listen == "" {
		out.Listen = DefaultListen
	} else if _, _, err := net.SplitHostPort(out.Listen); err != nil {
		v.addf("server.listen", "%q is not a host:port address", s.Listen)
	}
	if out.Database == "" {
		out.Database = DefaultDatabase
	}
	if IsPostgres(out.Database) {
		out.Database = v.postgresURL(out.Database, s.DatabasePassword)
	} else {
		if s.DatabasePassword != nil {
			v.addf("server.database_password", "is for a PostgreSQL database (database = \"postgres://…\"); an SQLite file has none")
		}
		out.Database = v.path(out.Database)
	}
	if out.PublicURL != "" {
		if u, err := url.Parse(out.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.addf("server.public_url", "%q is not an http or https URL", s.PublicURL)
		}
	}
	switch {
	case s.AdminTokenEnv != "" && s.AdminTokenFile != "":
		v.addf("server.admin_token_file", "set admin_token_env or admin_token_file, not both")
	case s.AdminTokenFile != "":
		out.AdminTokenSource = "file:" + v.path(s.AdminTokenFile)
		out.AdminToken = v.readSecretFile("server.admin_token_file", v.path(s.AdminTokenFile))
	default:
		env := s.AdminTokenEnv
		if env == "" {
			env = DefaultAdminTokenEnv
		}
		out.AdminTokenSource = "env:" + env
		out.AdminToken, _ = v.lookupEnv(env)
		out.AdminToken = strings.TrimSpace(out.AdminToken)
	}
	if s.ReadsRequireToken != nil && !*s.ReadsRequireToken {
		out.AnonymousReads = true
		v.warnf("server.reads_require_token", "false opens every read of the API (incidents, timelines, schedules, people's pages) to anyone who can reach rotad: remove it to require sign-in")
	}
	if s.MetricsToken != nil {
		out.MetricsTokenSet = true
		if sec, ok := v.secret("server.metrics_token", *s.MetricsToken); ok {
			out.MetricsToken = sec.Value
		}
	}
	if out.AdminToken == "" {
		v.warnf("server", "no admin token is set (%s): automation has no admin token (people act by signing in or with personal tokens)", out.AdminTokenSource)
	} else if len(out.AdminToken) < 16 {
		v.addf("server", "the admin token from %s is shorter than 16 characters", out.AdminTokenSource)
	}
	return out
}

func (v *validator) path(p string) string {
	if filepath.IsAbs(p) || v.dir == "" {
		return p
	}
	return filepath.Join(v.dir, p)
}

func (v *validator) readSecretFile(path, file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		v.addf(path, "read %s: %s", file, readError(err))
		return ""
	}
	return strings.TrimSpace(string(b))
}

func (v *validator) log(l logSection) Log {
	out := Log{Format: l.Format, Level: l.Level}
	switch out.Format {
	case "":
		out.Format = "text"
	case "text", "json":
	default:
		v.addf("log.format", "%q is not a log format: use \"text\" or \"json\"", l.Format)
	}
	switch out.Level {
	case "":
		out.Level = "info"
	case "debug", "info", "warn", "error":
	default:
		v.addf("log.level", "%q is not a log level: use \"debug\", \"info\", \"warn\" or \"error\"", l.Level)
	}
	return out
}

func (v *validator) location(path, name string) *time.Location {
	if name == "" {
		return nil
	}
	// time.LoadLocation accepts "" and "Local" as the machine's zone;
	// a schedule must not depend on where the daemon runs.
	if name == "Local" {
		v.addf(path, "%q is not allowed: name an IANA time zone such as \"Europe/Berlin\"", name)
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		v.addf(path, "unknown time zone %q (use an IANA name such as \"Europe/Berlin\" or \"America/New_York\")", name)
		return nil
	}
	return loc
}

func (v *validator) hours(path string, h *hoursSection, fallback rota.BusinessHours) rota.BusinessHours {
	if h == nil {
		return fallback
	}
	out := fallback
	if h.Days != nil {
		out.Days = [7]bool{}
		for i, d := range h.Days {
			if err := addDays(&out.Days, d); err != nil {
				v.addf(fmt.Sprintf("%s.days[%d]", path, i), "%v", err)
			}
		}
	}
	if h.Start != "" {
		c, err := rota.ParseClock(h.Start)
		if err != nil {
			v.addf(path+".start", "%v", err)
		}
		out.Start = c
	}
	if h.End != "" {
		c, err := rota.ParseClock(h.End)
		if err != nil {
			v.addf(path+".end", "%v", err)
		}
		out.End = c
	}
	if out.End <= out.Start {
		v.addf(path, "business hours end (%s) must be after they start (%s)", out.End, out.Start)
	}
	out.Holidays = nil
	for i, d := range h.Holidays {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			v.addf(fmt.Sprintf("%s.holidays[%d]", path, i), "%q is not a date (want YYYY-MM-DD)", d)
			continue
		}
		out.Holidays = append(out.Holidays, d)
	}
	return out
}

// addDays reads "monday", "mon" or a range "mon-fri".
func addDays(days *[7]bool, s string) error {
	from, to, isRange := strings.Cut(s, "-")
	a, ok := rota.ParseWeekday(from)
	if !ok {
		return fmt.Errorf("%q is not a weekday or a range such as \"mon-fri\"", s)
	}
	b := a
	if isRange {
		if b, ok = rota.ParseWeekday(to); !ok {
			return fmt.Errorf("%q is not a weekday or a range such as \"mon-fri\"", s)
		}
	}
	for d := a; ; d = (d + 1) % 7 {
		days[d] = true
		if d == b {
			return nil
		}
	}
}

func (v *validator) people(ps []personSection) *named[rota.Person] {
	out := &named[rota.Person]{}
	github := map[string]string{}
	emails := map[string]string{}
	for i, s := range ps {
		p := &rota.Person{Name: s.Name, FullName: s.FullName, GitHub: s.GitHub, Emails: s.Emails, OIDCSubject: s.OIDCSubject}
		if !add(v, out, "people", i, s.Name, p) {
			continue
		}
		p.Location = v.location(at("people", i, "timezone"), s.Timezone)
		for j, c := range s.Contacts {
			path := fmt.Sprintf("%s.contacts[%d]", at("people", i, ""), j)
			p.Contacts = append(p.Contacts, v.contact(path, c))
		}
		if len(s.Contacts) == 0 {
			v.warnf(at("people", i, ""), "%s has no contact methods and cannot be paged", s.Name)
		}
		for j, g := range s.GitHub {
			key := strings.ToLower(g)
			if other, dup := github[key]; dup {
				v.addf(fmt.Sprintf("%s[%d]", at("people", i, "github"), j), "GitHub login %q is also %s's", g, other)
			}
			github[key] = s.Name
		}
		for j, e := range s.Emails {
			key := strings.ToLower(e)
			path := fmt.Sprintf("%s[%d]", at("people", i, "emails"), j)
			if !strings.Contains(e, "@") {
				v.addf(path, "%q is not an email address", e)
			}
			if other, dup := emails[key]; dup {
				v.addf(path, "email %q is also %s's", e, other)
			}
			emails[key] = s.Name
		}
	}
	return out
}

func (v *validator) contact(path string, c contactSection) rota.ContactMethod {
	out := rota.ContactMethod{Type: rota.Channel(c.Type), Address: c.Address}
	switch out.Type {
	case rota.ContactSMS, rota.ContactVoice:
		if !rota.ValidE164(c.Address) {
			v.addf(path+".address", "%q is not a phone number in E.164 form (a '+', the country code and the number, digits only, as in \"+4915112345678\")", c.Address)
		}
	case rota.ContactWebhook, rota.ContactTeams:
		if u, err := url.Parse(c.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.addf(path+".address", "%q is not an http or https URL", c.Address)
		}
	case rota.ContactSlack:
		v.slackContact(path+".address", c.Address)
	case rota.ContactEmail:
		if !strings.Contains(c.Address, "@") {
			v.addf(path+".address", "%q is not an email address", c.Address)
		}
	case "":
		v.required(path, "type", " (one of "+channels()+")")
	default:
		v.addf(path+".type", "unknown contact type %q (use one of %s)", c.Type, channels())
	}
	if c.Delay != "" {
		d, err := rota.ParseDuration(c.Delay)
		if err != nil {
			v.addf(path+".delay", "%v", err)
		}
		out.Delay = d
	}
	out.Updates = rota.UpdatesByDefault(out.Type)
	if c.Updates != nil {
		if *c.Updates && out.Type == rota.ContactVoice {
			v.addf(path+".updates", "a call is never an update: updates go to text contacts (sms, email, slack, teams, webhook)")
		}
		out.Updates = *c.Updates
	}
	return out
}

func (v *validator) teams(ts []teamSection, people *named[rota.Person]) *named[rota.Team] {
	out := &named[rota.Team]{}
	for i, s := range ts {
		t := &rota.Team{Name: s.Name, Members: s.Members, Managers: s.Managers}
		if !add(v, out, "teams", i, s.Name, t) {
			continue
		}
		if s.Timezone == "" {
			v.required(at("teams", i, ""), "timezone", "")
		}
		t.Location = v.location(at("teams", i, "timezone"), s.Timezone)
		t.Hours = v.hours(at("teams", i, "business_hours"), s.BusinessHours, rota.DefaultBusinessHours())
		t.SLO = v.slo(at("teams", i, "slo"), s.SLO)
		// The managers' weekly digest: Monday 09:00 team time by default,
		// a cron spec, or "off".
		t.Digest = "0 9 * * 1"
		if s.Digest != nil {
			switch *s.Digest {
			case "off", "":
				t.Digest = ""
			default:
				if _, err := scheduler.ParseCron(*s.Digest); err != nil {
					v.addf(at("teams", i, "digest"), "%v (or \"off\")", err)
				}
				t.Digest = *s.Digest
			}
		}
		v.refs(at("teams", i, "members"), "person", s.Members, func(n string) bool { return people.get(n) != nil })
		v.refs(at("teams", i, "managers"), "person", s.Managers, func(n string) bool { return people.get(n) != nil })
		if len(s.Members) == 0 {
			v.required(at("teams", i, ""), "members", ": a team has at least one person")
		}
		if len(s.Managers) == 0 {
			v.warnf(at("teams", i, ""), "team %s has no managers: nobody will hear when it burns its human budget", s.Name)
		}
	}
	return out
}

func (v *validator) slo(path string, s *sloSection) rota.HumanSLO {
	out := rota.DefaultHumanSLO()
	if s == nil {
		return out
	}
	if s.PagesPerWeek != nil {
		if *s.PagesPerWeek < 0 {
			v.addf(path+".pages_per_week", "must not be negative")
		}
		out.PagesPerWeek = *s.PagesPerWeek
	}
	if s.OffhoursIncidents != nil {
		if *s.OffhoursIncidents < 0 {
			v.addf(path+".offhours_incidents", "must not be negative")
		}
		out.OffhoursIncidents = *s.OffhoursIncidents
	}
	if s.OffhoursWindow != "" {
		d, err := rota.ParseDuration(s.OffhoursWindow)
		switch {
		case err != nil:
			v.addf(path+".offhours_window", "%v", err)
		case d < rota.Day || d > 366*rota.Day:
			v.addf(path+".offhours_window", "%q must be between 1d and 366d", s.OffhoursWindow)
		default:
			out.OffhoursWindow = d
		}
	}
	if s.InterruptionGap != "" {
		d, err := rota.ParseDuration(s.InterruptionGap)
		switch {
		case err != nil:
			v.addf(path+".interruption_gap", "%v", err)
		case d < time.Second || d > rota.Day:
			v.addf(path+".interruption_gap", "%q must be between 1s and 1d", s.InterruptionGap)
		default:
			out.InterruptionGap = d
		}
	}
	return out
}

// refs reports each name in list that does not resolve.
func (v *validator) refs(path, kind string, list []string, exists func(string) bool) {
	for j, n := range list {
		if !exists(n) {
			v.addf(fmt.Sprintf("%s[%d]", path, j), "unknown %s %q", kind, n)
		}
	}
}

// inheritFromTeams gives a person without their own time zone or business
// hours those of the first team that lists them.
func (v *validator) inheritFromTeams(ps []personSection, people *named[rota.Person], teams *named[rota.Team]) {
	for i, s := range ps {
		p := people.bySection[i]
		if p == nil {
			continue
		}
		var team *rota.Team
		for _, t := range teams.order {
			if team == nil && contains(t.Members, p.Name) {
				team = t
			}
		}
		fallback := rota.DefaultBusinessHours()
		if team != nil {
			fallback = team.Hours
		}
		p.Hours = v.hours(at("people", i, "business_hours"), s.BusinessHours, fallback)
		switch {
		case s.Timezone != "":
		case team == nil:
			v.addf(at("people", i, ""), "timezone is required for %s, who is in no team to take it from", s.Name)
		default:
			p.Location = team.Location
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *validator) rotations(rs []rotationSection, people *named[rota.Person], teams *named[rota.Team]) *named[rota.Rotation] {
	out := &named[rota.Rotation]{}
	for i, s := range rs {
		r := &rota.Rotation{Name: s.Name, Team: s.Team, Description: s.Description, Members: s.Members, ShiftDays: 7, Handoff: rota.DefaultHandoff}
		if !add(v, out, "rotations", i, s.Name, r) {
			continue
		}
		team := teams.get(s.Team)
		switch {
		case s.Team == "":
			v.required(at("rotations", i, ""), "team", "")
		case team == nil:
			v.addf(at("rotations", i, "team"), "unknown team %q", s.Team)
		}
		if len(s.Members) == 0 {
			v.required(at("rotations", i, ""), "members", ": a rotation has at least one person")
		}
		v.refs(at("rotations", i, "members"), "person", s.Members, func(n string) bool { return people.get(n) != nil })
		if s.Shift != "" {
			r.ShiftDays = v.shiftDays(at("rotations", i, "shift"), s.Shift)
		}
		if s.Handoff != "" {
			h, err := rota.ParseHandoff(s.Handoff)
			switch {
			case err != nil:
				v.addf(at("rotations", i, "handoff"), "%v", err)
			case h.AnyDay && r.ShiftDays == rota.MaxShiftDays:
				v.addf(at("rotations", i, "handoff"), "%q has no day: a weekly rotation names the day it hands off on, as in \"tuesday %s\"", s.Handoff, h.Time)
			}
			r.Handoff = h
		}
		for j, a := range s.Active {
			w, err := rota.ParseWindow(a)
			if err != nil {
				v.addf(fmt.Sprintf("%s[%d]", at("rotations", i, "active"), j), "%v", err)
				continue
			}
			r.Active = append(r.Active, w)
		}
		r.Location = v.location(at("rotations", i, "timezone"), s.Timezone)
		if r.Location == nil && s.Timezone == "" && team != nil {
			r.Location = team.Location
		}
		if s.Start == "" {
			v.required(at("rotations", i, ""), "start", ": the date (YYYY-MM-DD) from which the first member's first shift is counted")
		} else if d, err := time.Parse("2006-01-02", s.Start); err != nil {
			v.addf(at("rotations", i, "start"), "%q is not a date (want YYYY-MM-DD)", s.Start)
		} else if r.Location != nil {
			r.Start = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, r.Location)
		}
		if len(s.Members) == 1 && s.ShadowOf == "" {
			v.warnf(at("rotations", i, "members"), "rotation %s has one member, who is always on call", s.Name)
		}
		r.ShadowOf = s.ShadowOf
		if s.Reminder != "" {
			r.Reminder = v.window(at("rotations", i, "handover_reminder"), s.Reminder, 0, time.Minute, 2*rota.Day)
		}
		v.channelRefs(at("rotations", i, "announce"), s.Announce, v.channels)
		r.Announce = s.Announce
		if s.SlackUserGroup != "" && !slackID(s.SlackUserGroup, "S") {
			v.addf(at("rotations", i, "slack_usergroup"), "%q is not a Slack user group id (S0123ABCD)", s.SlackUserGroup)
		}
		r.SlackUserGroup = s.SlackUserGroup
	}
	for i, s := range rs {
		if s.ShadowOf == "" || out.bySection[i] == nil {
			continue
		}
		switch primary := out.get(s.ShadowOf); {
		case primary == nil:
			v.addf(at("rotations", i, "shadow_of"), "unknown rotation %q", s.ShadowOf)
		case primary.ShadowOf != "":
			v.addf(at("rotations", i, "shadow_of"), "%s shadows %s itself: shadow a rotation that pages", s.ShadowOf, primary.ShadowOf)
		case s.ShadowOf == s.Name:
			v.addf(at("rotations", i, "shadow_of"), "a rotation cannot shadow itself")
		default:
			// A shadow follows what it shadows, unless it says
			// otherwise: its learner's shifts line up with the on-call's.
			r := out.bySection[i]
			if s.Shift == "" {
				r.ShiftDays = primary.ShiftDays
			}
			if s.Handoff == "" {
				r.Handoff = primary.Handoff
			}
			if s.Timezone == "" {
				r.Location = primary.Location
				if d, err := time.Parse("2006-01-02", s.Start); err == nil && r.Location != nil {
					r.Start = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, r.Location)
				}
			}
			if s.Active == nil {
				r.Active = primary.Active
			}
		}
	}
	return out
}

func (v *validator) shiftDays(path, s string) int {
	d, err := rota.ParseDuration(s)
	switch {
	case err != nil:
		v.addf(path, "%v", err)
	case d > rota.MaxShiftDays*rota.Day:
		v.addf(path, "%q is longer than a week: shifts are at most 7 days", s)
	case d < rota.Day || d%rota.Day != 0:
		v.addf(path, "%q is not a whole number of days: shifts are 1 to 7 days (\"1d\" to \"7d\", or \"1w\"); for part of a day, restrict a rotation with active = [\"mon-fri 08:00-20:00\"] and stack rotations in a [[schedules]] (day and night, follow the sun)", s)
	default:
		return int(d / rota.Day)
	}
	return 7
}

func (v *validator) policies(ps []policySection, people *named[rota.Person], rotations *named[rota.Rotation]) *named[rota.EscalationPolicy] {
	out := &named[rota.EscalationPolicy]{}
	for i, s := range ps {
		p := &rota.EscalationPolicy{Name: s.Name, Repeat: s.Repeat}
		if !add(v, out, "escalation_policies", i, s.Name, p) {
			continue
		}
		if s.Repeat < 0 || s.Repeat > 20 {
			v.addf(at("escalation_policies", i, "repeat"), "must be between 0 and 20")
		}
		if len(s.Steps) == 0 {
			v.required(at("escalation_policies", i, ""), "steps", ": a policy has at least one step")
		}
		for j, st := range s.Steps {
			path := fmt.Sprintf("%s.steps[%d]", at("escalation_policies", i, ""), j)
			step := rota.EscalationStep{Delay: DefaultStepDelay}
			if st.Delay != "" {
				d, err := rota.ParseDuration(st.Delay)
				switch {
				case err != nil:
					v.addf(path+".delay", "%v", err)
				case d < time.Second:
					v.addf(path+".delay", "%q is shorter than a second", st.Delay)
				default:
					if d < time.Minute {
						v.warnf(path+".delay", "%q is shorter than a minute: is that time enough to acknowledge?", st.Delay)
					}
					step.Delay = d
				}
			}
			if len(st.Targets) == 0 {
				v.required(path, "targets", ": a step pages at least one target")
			}
			for k, t := range st.Targets {
				tgt, err := parseTarget(t, people, rotations, v.channels)
				if err != nil {
					v.addf(fmt.Sprintf("%s.targets[%d]", path, k), "%v", err)
					continue
				}
				step.Targets = append(step.Targets, tgt)
			}
			p.Steps = append(p.Steps, step)
		}
	}
	return out
}

// DefaultStepDelay is how long a step waits for an acknowledgement when its
// delay is not set.
const DefaultStepDelay = 5 * time.Minute

func parseTarget(s string, people *named[rota.Person], rotations *named[rota.Rotation], channels *named[rota.ChatChannel]) (rota.Target, error) {
	if s == rota.TargetDeployAuthor {
		return rota.Target{Kind: rota.TargetDeployAuthor}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok {
		return rota.Target{}, fmt.Errorf("%q is not a target: use \"rotation:NAME\", \"schedule:NAME\", \"person:NAME\", \"channel:NAME\" or \"deploy-author\"", s)
	}
	switch kind {
	case rota.TargetRotation:
		if rotations.get(name) == nil {
			return rota.Target{}, fmt.Errorf("unknown rotation %q", name)
		}
	case "schedule":
		if r := rotations.get(name); r == nil || !r.IsSchedule() {
			return rota.Target{}, fmt.Errorf("unknown schedule %q", name)
		}
		kind = rota.TargetRotation // a schedule is paged as a rotation is
	case rota.TargetPerson:
		if people.get(name) == nil {
			return rota.Target{}, fmt.Errorf("unknown person %q", name)
		}
	case rota.TargetChannel:
		if channels == nil || channels.get(name) == nil {
			return rota.Target{}, fmt.Errorf("unknown channel %q (declare it in [[channels]])", name)
		}
	default:
		return rota.Target{}, fmt.Errorf("%q is not a target: use \"rotation:NAME\", \"schedule:NAME\", \"person:NAME\", \"channel:NAME\" or \"deploy-author\"", s)
	}
	return rota.Target{Kind: kind, Name: name}, nil
}

func (v *validator) services(ss []serviceSection, teams *named[rota.Team], policies *named[rota.EscalationPolicy]) *named[rota.Service] {
	out := &named[rota.Service]{}
	keys := map[string]string{}
	githubSources := map[string]string{}
	for i, s := range ss {
		svc := &rota.Service{Name: s.Name, Team: s.Team, Description: s.Description, EscalationPolicy: s.EscalationPolicy}
		if !add(v, out, "services", i, s.Name, svc) {
			continue
		}
		switch {
		case s.Team == "":
			v.required(at("services", i, ""), "team", "")
		case teams.get(s.Team) == nil:
			v.addf(at("services", i, "team"), "unknown team %q", s.Team)
		default:
			svc.Location = teams.get(s.Team).Location
		}
		for j, m := range s.Maintenance {
			w, err := rota.ParseWindow(m)
			if err != nil {
				v.addf(fmt.Sprintf("%s[%d]", at("services", i, "maintenance"), j), "%v", err)
				continue
			}
			svc.Maintenance = append(svc.Maintenance, w)
		}
		switch {
		case s.EscalationPolicy == "":
			v.required(at("services", i, ""), "escalation_policy", "")
		case policies.get(s.EscalationPolicy) == nil:
			v.addf(at("services", i, "escalation_policy"), "unknown escalation policy %q", s.EscalationPolicy)
		}
		for j, k := range s.IntegrationKeys {
			path := fmt.Sprintf("%s[%d]", at("services", i, "integration_keys"), j)
			sec, ok := v.secret(path, k)
			if !ok {
				continue
			}
			if other, dup := keys[sec.Value]; dup {
				v.addf(path, "the key from %s is also %s", sec.Source, other)
				continue
			}
			keys[sec.Value] = fmt.Sprintf("service %s's", s.Name)
			svc.IntegrationKeys = append(svc.IntegrationKeys, sec)
		}
		switch {
		case len(s.IntegrationKeys) == 0:
			v.deaf(at("services", i, ""), "service %s has no integration keys: it cannot receive alerts", s.Name)
		case len(svc.IntegrationKeys) == 0:
			v.deaf(at("services", i, "integration_keys"), "service %s cannot receive alerts: none of its integration keys is set", s.Name)
		}
		svc.DeployRouting, svc.DeployWindow, svc.DeployAuthors = rota.DeployAuthorFirst, rota.DefaultDeployWindow, rota.DeployAuthorsTeam
		v.channelRefs(at("services", i, "channels"), s.Channels, v.channels)
		svc.Channels = s.Channels
		svc.Heartbeats = v.heartbeats(at("services", i, "heartbeats"), s.Heartbeats)
		svc.LowUrgency = []string{rota.SeverityWarning, rota.SeverityInfo}
		if s.LowUrgency != nil {
			svc.LowUrgency = nil
			for j, sev := range *s.LowUrgency {
				if !rota.ValidSeverity(sev) {
					v.addf(fmt.Sprintf("%s[%d]", at("services", i, "low_urgency"), j), "%q is not a severity (critical, error, warning, info)", sev)
					continue
				}
				svc.LowUrgency = append(svc.LowUrgency, sev)
			}
		}
		svc.Group = rota.Grouping{Window: rota.DefaultGroupWindow}
		switch s.Group {
		case "", "window":
		case "off":
			svc.Group.Off = true
			if len(s.GroupBy) > 0 || s.GroupWindow != "" {
				v.addf(at("services", i, "group"), "grouping is off: group_by and group_window would be ignored")
			}
		default:
			v.addf(at("services", i, "group"), "%q is not a grouping: use \"window\" (the default: source groups, then group_window) or \"off\" (one incident per alert)", s.Group)
		}
		for j, f := range s.GroupBy {
			if strings.TrimSpace(f) == "" {
				v.addf(fmt.Sprintf("%s[%d]", at("services", i, "group_by"), j), "a field name is required")
				continue
			}
			svc.Group.By = append(svc.Group.By, f)
		}
		if s.GroupWindow != "" {
			d, err := rota.ParseDuration(s.GroupWindow)
			switch {
			case err != nil:
				v.addf(at("services", i, "group_window"), "%v", err)
			case d < time.Second || d > rota.Day:
				v.addf(at("services", i, "group_window"), "%q must be between 1s and 1d", s.GroupWindow)
			case len(s.GroupBy) > 0:
				v.addf(at("services", i, "group_window"), "alerts grouped by group_by join their group while it is open: group_window does not apply")
			default:
				svc.Group.Window = d
			}
		}
		switch s.DeployRouting {
		case "":
		case rota.DeployAuthorFirst, rota.DeployWithOnCall, rota.DeployOff:
			svc.DeployRouting = s.DeployRouting
		default:
			v.addf(at("services", i, "deploy_routing"), "%q is not a routing: use %q, %q or %q", s.DeployRouting, rota.DeployAuthorFirst, rota.DeployWithOnCall, rota.DeployOff)
		}
		if s.DeployWindow != "" {
			d, err := rota.ParseDuration(s.DeployWindow)
			switch {
			case err != nil:
				v.addf(at("services", i, "deploy_window"), "%v", err)
			case d < time.Minute || d > rota.Week:
				v.addf(at("services", i, "deploy_window"), "%q must be between 1m and 1w", s.DeployWindow)
			default:
				svc.DeployWindow = d
			}
		}
		switch s.DeployAuthors {
		case "":
		case rota.DeployAuthorsTeam, rota.DeployAuthorsOrg:
			svc.DeployAuthors = s.DeployAuthors
		default:
			v.addf(at("services", i, "deploy_authors"), "%q is not a scope: use %q (the service's team, the default) or %q (anyone configured)", s.DeployAuthors, rota.DeployAuthorsTeam, rota.DeployAuthorsOrg)
		}
		if s.DeployGrace != "" {
			d, err := rota.ParseDuration(s.DeployGrace)
			switch {
			case err != nil:
				v.addf(at("services", i, "deploy_grace"), "%v", err)
			case d < time.Second || d > rota.Day:
				v.addf(at("services", i, "deploy_grace"), "%q must be between 1s and 1d (to page the author with the on-call, set deploy_routing = %q)", s.DeployGrace, rota.DeployWithOnCall)
			case s.DeployRouting != "" && s.DeployRouting != rota.DeployAuthorFirst:
				v.addf(at("services", i, "deploy_grace"), "applies to deploy_routing = %q only, not %q", rota.DeployAuthorFirst, s.DeployRouting)
			default:
				svc.DeployGrace = d
			}
		}
		for j, g := range s.GitHub {
			path := fmt.Sprintf("%s[%d]", at("services", i, "github"), j)
			owner, repo, ok := strings.Cut(g.Repository, "/")
			if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
				v.addf(path+".repository", "%q is not a repository: use OWNER/NAME", g.Repository)
				continue
			}
			key := strings.ToLower(g.Repository) + "@" + strings.ToLower(g.Environment)
			if other, dup := githubSources[key]; dup {
				v.addf(path, "repository %s (environment %q) already rolls out service %s", g.Repository, g.Environment, other)
				continue
			}
			githubSources[key] = s.Name
			svc.GitHub = append(svc.GitHub, rota.GitHubSource{Repository: g.Repository, Environment: g.Environment})
		}
		if g := s.GrafanaSignature; g != nil {
			path := at("services", i, "grafana_signature")
			svc.Grafana = rota.WebhookSignature{Header: g.Header, TimestampHeader: g.TimestampHeader}
			if svc.Grafana.Header == "" {
				svc.Grafana.Header = "X-Grafana-Alert-Signature"
			}
			if sec, ok := v.secret(path+".secret", g.Secret); ok {
				svc.Grafana.Secret = sec.Value
			} else if g.Secret.Env != "" {
				// A signature required but its secret unset must not
				// silently accept unsigned requests.
				v.addf(path+".secret", "the signing secret is required once grafana_signature is set")
			}
		}
	}
	return out
}

// secret resolves an {env = ...} or {file = ...} reference. An unset
// environment variable is a warning, not an error, so that the example
// configuration runs on a machine with none of them set.
func (v *validator) secret(path string, s secretSection) (rota.Secret, bool) {
	switch {
	case s.Env != "" && s.File != "":
		v.addf(path, "set env or file, not both")
	case s.Env != "":
		val, ok := v.lookupEnv(s.Env)
		val = strings.TrimSpace(val)
		if !ok || val == "" {
			v.warnf(path+".env", "environment variable %s is not set: this key is disabled until it is", s.Env)
			return rota.Secret{}, false
		}
		if len(val) < 16 {
			v.addf(path+".env", "the key in %s is shorter than 16 characters", s.Env)
			return rota.Secret{}, false
		}
		return rota.Secret{Source: "env:" + s.Env, Value: val}, true
	case s.File != "":
		file := v.path(s.File)
		val := v.readSecretFile(path+".file", file)
		if val == "" {
			return rota.Secret{}, false
		}
		if len(val) < 16 {
			v.addf(path+".file", "the key in %s is shorter than 16 characters", file)
			return rota.Secret{}, false
		}
		return rota.Secret{Source: "file:" + file, Value: val}, true
	default:
		v.addf(path, "set env (an environment variable's name) or file (a path) to the key")
	}
	return rota.Secret{}, false
}

// twilio resolves the Twilio account. Unset credentials leave Twilio off,
// with a warning, so that the example runs with no account.
func (v *validator) twilio(t *twilioSection, publicURL string) *Twilio {
	sid, okSID := v.optionalSecret("twilio.account_sid", t.AccountSID)
	token, okToken := v.optionalSecret("twilio.auth_token", t.AuthToken)
	out := &Twilio{AccountSID: sid, AuthTokens: []string{token}, From: t.From, MessagingServiceSID: t.MessagingServiceSID, APIURL: strings.TrimRight(t.APIURL, "/")}
	if t.SecondaryAuthToken != nil {
		if tok, ok := v.optionalSecret("twilio.secondary_auth_token", *t.SecondaryAuthToken); ok {
			out.AuthTokens = append(out.AuthTokens, tok)
		}
	}
	if t.From == "" {
		v.addf("twilio", "from is required: the number calls (and SMS, without a messaging service) come from")
	} else if !rota.ValidE164(t.From) {
		v.addf("twilio.from", "%q is not a phone number in E.164 form", t.From)
	}
	if t.MessagingServiceSID != "" && !sidLike(t.MessagingServiceSID, "MG") {
		v.addf("twilio.messaging_service_sid", "%q is not a messaging service SID (MG and 32 hexadecimal digits)", t.MessagingServiceSID)
	}
	if out.APIURL != "" {
		if u, err := url.Parse(out.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.addf("twilio.api_url", "%q is not an http or https URL", t.APIURL)
		}
	}
	if !okSID || !okToken {
		v.warnf("twilio", "Twilio credentials are not set: SMS and voice pages go to the log until they are")
		return nil
	}
	if !sidLike(sid, "AC") {
		v.addf("twilio.account_sid", "the account SID from %s is not AC and 32 hexadecimal digits", sourceOf(t.AccountSID))
	}
	for i, tok := range out.AuthTokens {
		if !alphanumeric(tok) {
			v.addf("twilio.auth_token", "auth token %d has characters other than letters and digits", i+1)
		}
	}
	if publicURL == "" {
		v.addf("twilio", "server.public_url is required with Twilio: it is where Twilio sends replies, key presses and delivery reports")
	}
	return out
}

// optionalSecret resolves a secret whose absence is not an error.
func (v *validator) optionalSecret(path string, s secretSection) (string, bool) {
	if s.Env == "" && s.File == "" {
		v.required(path, "env", " or file")
		return "", false
	}
	if s.Env != "" && s.File == "" {
		val, ok := v.lookupEnv(s.Env)
		val = strings.TrimSpace(val)
		return val, ok && val != ""
	}
	if s.Env != "" {
		v.addf(path, "set env or file, not both")
		return "", false
	}
	val := v.readSecretFile(path+".file", v.path(s.File))
	return val, val != ""
}

func sourceOf(s secretSection) string {
	if s.Env != "" {
		return "env:" + s.Env
	}
	return "file:" + s.File
}

func sidLike(s, prefix string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, r := range s[2:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

func alphanumeric(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// window parses an optional duration within [lo, hi].
func (v *validator) paging(p pagingSection) Paging {
	out := Paging{
		RateLimit:      v.window("paging.rate_limit", p.RateLimit, DefaultRateLimit, time.Second, time.Hour),
		RetryFor:       v.window("paging.retry_for", p.RetryFor, 10*time.Minute, time.Minute, rota.Day),
		MaxBackoff:     v.window("paging.max_backoff", p.MaxBackoff, 30*time.Second, time.Second, 10*time.Minute),
		Timeout:        v.window("paging.timeout", p.Timeout, 30*time.Second, time.Second, 5*time.Minute),
		PerDestination: 4,
		Timeouts:       map[rota.Channel]time.Duration{},
	}
	if p.PerDestination != nil {
		if n := *p.PerDestination; n < 1 || n > 64 {
			v.addf("paging.per_destination", "%d must be from 1 to 64", n)
		} else {
			out.PerDestination = n
		}
	}
	for c, d := range map[rota.Channel]string{rota.ContactSMS: p.Timeouts.SMS, rota.ContactVoice: p.Timeouts.Voice,
		rota.ContactWebhook: p.Timeouts.Webhook, rota.ContactSlack: p.Timeouts.Slack, rota.ContactEmail: p.Timeouts.Email, rota.ContactTeams: p.Timeouts.Teams} {
		out.Timeouts[c] = v.window("paging.timeouts."+string(c), d, out.Timeout, time.Second, 5*time.Minute)
	}
	return out
}

func (v *validator) window(path, s string, def, lo, hi time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := rota.ParseDuration(s)
	if err != nil {
		v.addf(path, "%v", err)
		return def
	}
	if d < lo || d > hi {
		v.addf(path, "%q must be between %s and %s", s, rota.FormatDuration(lo), rota.FormatDuration(hi))
		return def
	}
	return d
}

// pto reads people's configured leave: whole local days, "2026-07-01" to
// "2026-07-14" inclusive, or RFC 3339 instants, end exclusive.
func (v *validator) pto(ps []personSection, people *named[rota.Person]) {
	for i, s := range ps {
		p := people.bySection[i]
		if p == nil {
			continue
		}
		if s.PTOCalendar != "" {
			if u, err := url.Parse(s.PTOCalendar); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "webcal") || u.Host == "" {
				v.addf(at("people", i, "pto_ical_url"), "%q is not an http, https or webcal URL", s.PTOCalendar)
			} else {
				p.PTOCalendar = strings.Replace(s.PTOCalendar, "webcal://", "https://", 1)
			}
		}
		if p.Location == nil {
			continue
		}
		for j, l := range s.PTO {
			path := fmt.Sprintf("%s[%d]", at("people", i, "pto"), j)
			start, _, err1 := dateOrTime(l.Start, p.Location)
			end, endDay, err2 := dateOrTime(l.End, p.Location)
			switch {
			case err1 != nil:
				v.addf(path+".start", "%q is not a date (YYYY-MM-DD) or an RFC 3339 time", l.Start)
			case err2 != nil:
				v.addf(path+".end", "%q is not a date (YYYY-MM-DD) or an RFC 3339 time", l.End)
			default:
				if endDay {
					end = time.Date(end.Year(), end.Month(), end.Day()+1, 0, 0, 0, 0, p.Location) // inclusive day
				}
				if !end.After(start) {
					v.addf(path+".end", "must not be before start")
					continue
				}
				p.PTO = append(p.PTO, rota.Leave{Start: start.UTC(), End: end.UTC(), Source: "config", Summary: l.Reason})
			}
		}
	}
}

func dateOrTime(s string, loc *time.Location) (time.Time, bool, error) {
	if d, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return d, true, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, false, err
}

// IsPostgres reports whether server.database names PostgreSQL.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// postgresURL checks a PostgreSQL URL and puts the password into it from
// database_password: the file holds no secret.
func (v *validator) postgresURL(raw string, password *secretSection) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		v.addf("server.database", "%q is not a PostgreSQL URL such as postgres://rota@db.example.com/rota", redactURL(raw))
		return raw
	}
	if _, has := u.User.Password(); has {
		v.addf("server.database", "the URL holds a password: put it in database_password = { env = \"NAME\" } or { file = \"PATH\" } instead")
		return raw
	}
	if u.Path == "" || u.Path == "/" {
		v.addf("server.database", "%q names no database: add it as the URL's path (postgres://HOST/rota)", u.Redacted())
	}
	if password != nil {
		if pw, ok := v.optionalSecret("server.database_password", *password); ok {
			name := "rota"
			if u.User != nil {
				name = u.User.Username()
			}
			u.User = url.UserPassword(name, pw)
		} else {
			v.addf("server.database_password", "the database password is not set (%s)", sourceOf(*password))
		}
	}
	return u.String()
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(an unparsable URL)"
}

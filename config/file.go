package config

// The structs below mirror the TOML file. Strings are parsed during
// validation rather than by the decoder so that a bad duration or time zone
// is reported with every other problem, not instead of them.

type fileConfig struct {
	Server    serverSection     `toml:"server"`
	Log       logSection        `toml:"log"`
	Twilio    *twilioSection    `toml:"twilio"`
	SMTP      *smtpSection      `toml:"smtp"`
	TLS       tlsSection        `toml:"tls"`
	Slack     *slackSection     `toml:"slack"`
	Channels  []channelSection  `toml:"channels"`
	Paging    pagingSection     `toml:"paging"`
	GitHub    *githubSection    `toml:"github"`
	Calendar  calendarSection   `toml:"calendar"`
	Auth      authSection       `toml:"auth"`
	People    []personSection   `toml:"people"`
	Teams     []teamSection     `toml:"teams"`
	Rotations []rotationSection `toml:"rotations"`
	Schedules []scheduleSection `toml:"schedules"`
	Services  []serviceSection  `toml:"services"`
	Policies  []policySection   `toml:"escalation_policies"`
}

// tlsSection is what rota trusts in the TLS connections it makes.
type tlsSection struct {
	CAFile string `toml:"ca_file"`
}

type serverSection struct {
	Listen   string `toml:"listen"`
	Database string `toml:"database"`
	// DatabasePassword is PostgreSQL's password, kept out of the URL.
	DatabasePassword  *secretSection `toml:"database_password"`
	PublicURL         string         `toml:"public_url"`
	AdminTokenEnv     string         `toml:"admin_token_env"`
	AdminTokenFile    string         `toml:"admin_token_file"`
	ReadsRequireToken *bool          `toml:"reads_require_token"`
	// MetricsToken, when set, closes /metrics to all but its bearer.
	MetricsToken *secretSection `toml:"metrics_token"`
}

type pagingSection struct {
	RateLimit      string          `toml:"rate_limit"`
	RetryFor       string          `toml:"retry_for"`
	MaxBackoff     string          `toml:"max_backoff"`
	PerDestination *int            `toml:"per_destination"`
	Timeout        string          `toml:"timeout"`
	Timeouts       timeoutsSection `toml:"timeouts"`
}

type timeoutsSection struct {
	SMS     string `toml:"sms"`
	Voice   string `toml:"voice"`
	Webhook string `toml:"webhook"`
	Slack   string `toml:"slack"`
	Email   string `toml:"email"`
	Teams   string `toml:"teams"`
}

type logSection struct {
	Format string `toml:"format"`
	Level  string `toml:"level"`
}

type personSection struct {
	Name          string           `toml:"name"`
	FullName      string           `toml:"full_name"`
	Timezone      string           `toml:"timezone"`
	BusinessHours *hoursSection    `toml:"business_hours"`
	Contacts      []contactSection `toml:"contacts"`
	GitHub        []string         `toml:"github"`
	Emails        []string         `toml:"emails"`
	PTO           []ptoSection     `toml:"pto"`
	PTOCalendar   string           `toml:"pto_ical_url"`
	OIDCSubject   string           `toml:"oidc_subject"`
}

type ptoSection struct {
	Start  string `toml:"start"`
	End    string `toml:"end"`
	Reason string `toml:"reason"`
}

type hoursSection struct {
	Days     []string `toml:"days"`
	Start    string   `toml:"start"`
	End      string   `toml:"end"`
	Holidays []string `toml:"holidays"`
}

type contactSection struct {
	Type    string `toml:"type"`
	Address string `toml:"address"`
	Delay   string `toml:"delay"`
	Updates *bool  `toml:"updates"`
}

type teamSection struct {
	Name          string        `toml:"name"`
	Members       []string      `toml:"members"`
	Managers      []string      `toml:"managers"`
	Timezone      string        `toml:"timezone"`
	BusinessHours *hoursSection `toml:"business_hours"`
	SLO           *sloSection   `toml:"slo"`
	Digest        *string       `toml:"digest"`
}

type sloSection struct {
	PagesPerWeek      *int   `toml:"pages_per_week"`
	OffhoursIncidents *int   `toml:"offhours_incidents"`
	OffhoursWindow    string `toml:"offhours_window"`
	InterruptionGap   string `toml:"interruption_gap"`
}

type rotationSection struct {
	Name           string   `toml:"name"`
	Team           string   `toml:"team"`
	Description    string   `toml:"description"`
	Members        []string `toml:"members"`
	Shift          string   `toml:"shift"`
	Handoff        string   `toml:"handoff"`
	Timezone       string   `toml:"timezone"`
	Start          string   `toml:"start"`
	ShadowOf       string   `toml:"shadow_of"`
	Reminder       string   `toml:"handover_reminder"`
	Announce       []string `toml:"announce"`
	SlackUserGroup string   `toml:"slack_usergroup"`
	Active         []string `toml:"active"`
}

type scheduleSection struct {
	Name           string   `toml:"name"`
	Team           string   `toml:"team"`
	Description    string   `toml:"description"`
	Layers         []string `toml:"layers"`
	Timezone       string   `toml:"timezone"`
	Reminder       string   `toml:"handover_reminder"`
	Announce       []string `toml:"announce"`
	SlackUserGroup string   `toml:"slack_usergroup"`
}

type serviceSection struct {
	Name             string             `toml:"name"`
	Team             string             `toml:"team"`
	Description      string             `toml:"description"`
	EscalationPolicy string             `toml:"escalation_policy"`
	IntegrationKeys  []secretSection    `toml:"integration_keys"`
	GrafanaSignature *signatureSection  `toml:"grafana_signature"`
	DeployRouting    string             `toml:"deploy_routing"`
	DeployWindow     string             `toml:"deploy_window"`
	DeployAuthors    string             `toml:"deploy_authors"`
	DeployGrace      string             `toml:"deploy_grace"`
	GitHub           []githubSource     `toml:"github"`
	LowUrgency       *[]string          `toml:"low_urgency"`
	Group            string             `toml:"group"`
	GroupBy          []string           `toml:"group_by"`
	GroupWindow      string             `toml:"group_window"`
	Channels         []string           `toml:"channels"`
	Heartbeats       []heartbeatSection `toml:"heartbeats"`
	Maintenance      []string           `toml:"maintenance"`
}

type heartbeatSection struct {
	Name     string `toml:"name"`
	Timeout  string `toml:"timeout"`
	Severity string `toml:"severity"`
}

type githubSource struct {
	Repository  string `toml:"repository"`
	Environment string `toml:"environment"`
}

type githubSection struct {
	WebhookSecret secretSection `toml:"webhook_secret"`
}

type signatureSection struct {
	Secret          secretSection `toml:"secret"`
	Header          string        `toml:"header"`
	TimestampHeader string        `toml:"timestamp_header"`
}

type secretSection struct {
	Env  string `toml:"env"`
	File string `toml:"file"`
}

type policySection struct {
	Name   string        `toml:"name"`
	Repeat int           `toml:"repeat"`
	Steps  []stepSection `toml:"steps"`
}

type stepSection struct {
	Targets []string `toml:"targets"`
	Delay   string   `toml:"delay"`
}

type twilioSection struct {
	AccountSID          secretSection  `toml:"account_sid"`
	AuthToken           secretSection  `toml:"auth_token"`
	SecondaryAuthToken  *secretSection `toml:"secondary_auth_token"`
	From                string         `toml:"from"`
	MessagingServiceSID string         `toml:"messaging_service_sid"`
	APIURL              string         `toml:"api_url"`
}

type smtpSection struct {
	Host     string         `toml:"host"`
	Port     *int           `toml:"port"`
	Security string         `toml:"security"`
	Username string         `toml:"username"`
	Password *secretSection `toml:"password"`
	From     string         `toml:"from"`
	Timeout  string         `toml:"timeout"`
	CAFile   string         `toml:"ca_file"`
}

type calendarSection struct {
	Past       string `toml:"past"`
	Future     string `toml:"future"`
	PTORefresh string `toml:"pto_refresh"`
}

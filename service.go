package rota

import "time"

// Service is something that alerts. It belongs to a team, is reached by
// integration keys and escalates through a policy.
type Service struct {
	Name             string
	Team             string
	Description      string
	EscalationPolicy string
	// IntegrationKeys authenticate alert sources posting for this service.
	// Their values come from the environment or files, never the config.
	IntegrationKeys []Secret
	// Grafana, when its secret is set, requires Grafana webhooks to be
	// signed.
	Grafana WebhookSignature
	// DeployRouting is author-first, with-oncall or off; DeployWindow how
	// long after a deploy an alert suspects it.
	DeployRouting string
	DeployWindow  time.Duration
	// DeployAuthors is whom a deploy to the service may page as its
	// author or merger: DeployAuthorsTeam (the service's team) or
	// DeployAuthorsOrg (anyone configured).
	DeployAuthors string
	// DeployGrace is how long author-first routing pages the author
	// alone before the policy runs; zero is the policy's first delay,
	// at most DefaultDeployGrace.
	DeployGrace time.Duration
	// GitHub maps repositories (and environments) to this service, for
	// deployment_status webhooks.
	GitHub []GitHubSource
	// Group is how the service's alerts group into incidents.
	Group Grouping
	// LowUrgency lists the severities that wait for the responder's
	// business hours instead of paging them off-hours.
	LowUrgency []string
	// Channels name the chat channels every incident of the service is
	// posted to when it opens, with buttons where the tool has them.
	Channels []string
	// Heartbeats are the jobs that must report in.
	Heartbeats []HeartbeatCheck
	// Maintenance are recurring windows of planned work ("sun
	// 02:00-04:00"), in Location: alerts then page nobody.
	Maintenance []Window
	// Location is the service's team's zone.
	Location *time.Location
}

// IsLowUrgency reports whether severity waits for business hours on s.
func (s *Service) IsLowUrgency(severity string) bool {
	for _, l := range s.LowUrgency {
		if l == severity {
			return true
		}
	}
	return false
}

// GitHubSource is a repository whose deployments, to Environment (any
// when empty), roll out a service.
type GitHubSource struct {
	Repository  string
	Environment string
}

// Secret is a value read from outside the configuration file; Source says
// where from ("env:NAME" or "file:PATH") so that it can be named in logs
// without revealing the value.
type Secret struct {
	Source string
	Value  string
}

// EscalationPolicy is ordered steps, each paging targets and then waiting
// Delay for an acknowledgement; the whole policy runs Repeat more times.
type EscalationPolicy struct {
	Name   string
	Steps  []EscalationStep
	Repeat int
}

// EscalationStep pages its targets, then waits Delay before the next step;
// a step with no delay runs together with the next.
type EscalationStep struct {
	Targets []Target
	Delay   time.Duration
	// FirstRoundOnly steps are not repeated: the deploy-author step rota
	// puts before a policy.
	FirstRoundOnly bool `json:",omitempty"`
}

// Target kinds.
const (
	TargetRotation     = "rotation"
	TargetPerson       = "person"
	TargetDeployAuthor = "deploy-author"
	// TargetChannel posts the incident to a chat channel: it pages
	// nobody, so a step of channels alone waits for nobody.
	TargetChannel = "channel"
)

// Target is who a step pages: a rotation's on-call, a person, or the author
// of a recent deploy to the service.
type Target struct {
	Kind string
	Name string
}

func (t Target) String() string {
	if t.Name == "" {
		return t.Kind
	}
	return t.Kind + ":" + t.Name
}

// WebhookSignature is how a service's signed webhooks are checked: the
// HMAC secret, the header that carries the signature, and the header of
// the timestamp that is signed with the body, if any.
type WebhookSignature struct {
	Secret          string
	Header          string
	TimestampHeader string
}

// HeartbeatCheck is a job's promise to beat (POST
// /api/v1/heartbeats/{name}) at least every Timeout: a missed beat opens
// an incident on its service, the next beat resolves it.
type HeartbeatCheck struct {
	Name    string
	Timeout time.Duration
	// Severity of the incident a missed beat opens (critical by default).
	Severity string
}

// Heartbeat is a heartbeat's state: when it last beat, when it is due
// again, and whether it is up (not missed).
type Heartbeat struct {
	Service, Name  string
	Last, Deadline time.Time
	Up             bool
}

// Heartbeat returns the service's heartbeat check named name, or nil.
func (s *Service) Heartbeat(name string) *HeartbeatCheck {
	for i := range s.Heartbeats {
		if s.Heartbeats[i].Name == name {
			return &s.Heartbeats[i]
		}
	}
	return nil
}

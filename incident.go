package rota

import "time"

// Status is where an incident or an alert is: triggered, then
// acknowledged, then resolved.
type Status string

// Statuses.
const (
	StatusTriggered    Status = "triggered"
	StatusAcknowledged Status = "acknowledged"
	StatusResolved     Status = "resolved"
)

// Incident is what people respond to: alerts on one service grouped by
// their source's group key, their content (group_by) or a time window,
// escalated, acknowledged and resolved as one.
type Incident struct {
	ID      int64
	Service string
	// GroupKey is the key alerts join the incident by ("" when they join
	// by the time window only).
	GroupKey string
	Status   Status
	// Summary is the first alert's; Severity the highest of its alerts'.
	Summary  string
	Severity string
	// AlertCount is how many alerts the incident holds.
	AlertCount int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	AckedAt    time.Time
	AckedBy    string
	ResolvedAt time.Time
	ResolvedBy string
	// Policy is the escalation policy as it was when the incident
	// triggered; a configuration reload does not change an open
	// incident's steps.
	Policy     EscalationPolicy
	Escalation Escalation
	// StartedAt is the incident's time for deploy routing: when its first
	// alert was received, or the source's earlier start time when
	// trustworthy.
	StartedAt time.Time
	// Deploy is the deploy the incident suspects (nil for none), as it was
	// when the incident triggered.
	Deploy *Deploy
	// InMaintenance is whether the incident opened in a maintenance
	// window: it paged nobody then (a page avoided, in reports).
	InMaintenance bool
	// Maintenance are, while a step runs, the service's ad hoc windows
	// that end after now; not stored.
	Maintenance []Maintenance `json:"-"`
}

// IsOpen reports whether the incident is not resolved.
func (i *Incident) IsOpen() bool { return i.Status != StatusResolved }

// SeverityRank orders severities, critical highest; an unknown one ranks
// lowest.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return len(Severities) - i
		}
	}
	return 0
}

// IncidentFilter selects incidents (or alerts) to list. Zero fields select
// everything.
type IncidentFilter struct {
	Status  string // a status, or "open" for triggered and acknowledged
	Service string
	// Services, when not nil, keeps those of these services (a team's).
	Services []string
	// PagedTo keeps those that paged this person (reached them, not as a
	// shadow's copy).
	PagedTo string
	// Before lists those with a lower ID, for paging through results.
	Before int64
	Limit  int
}

// Grouping is how a service's alerts group into incidents.
type Grouping struct {
	// Off keeps one incident per alert.
	Off bool
	// By lists the fields (labels, custom details) whose values group
	// alerts by content; empty for grouping by source group key and time
	// window.
	By []string
	// Window groups whatever arrives on the service while an incident is
	// open and younger than it.
	Window time.Duration
}

// DefaultGroupWindow is how long an open incident gathers the service's
// other alerts.
const DefaultGroupWindow = 5 * time.Minute

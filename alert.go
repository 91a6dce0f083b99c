package rota

import (
	"encoding/json"
	"strings"
	"time"
)

// Severities, as the PagerDuty Events API v2 names them.
const (
	SeverityCritical = "critical"
	SeverityError    = "error"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Severities lists the valid severities, most severe first.
var Severities = []string{SeverityCritical, SeverityError, SeverityWarning, SeverityInfo}

// ValidSeverity reports whether s is one of Severities.
func ValidSeverity(s string) bool {
	for _, v := range Severities {
		if s == v {
			return true
		}
	}
	return false
}

// Action is what an event or a responder does to an alert or incident.
type Action string

// Actions.
const (
	ActionTrigger     Action = "trigger"
	ActionAcknowledge Action = "acknowledge"
	ActionResolve     Action = "resolve"
	// ActionEscalate runs an open incident's next escalation step now
	// (taking an acknowledged one back to triggered).
	ActionEscalate Action = "escalate"
)

// PastTense is "acknowledged" or "resolved" (and "triggered").
func (a Action) PastTense() string {
	switch a {
	case ActionAcknowledge:
		return "acknowledged"
	case ActionResolve:
		return "resolved"
	case ActionEscalate:
		return "escalated"
	}
	return "triggered"
}

// Limits on alert fields, after PagerDuty's.
const (
	MaxSummaryLength  = 1024
	MaxDedupKeyLength = 255
	MaxSourceLength   = 255
	MaxLinks          = 50
)

// Event is one message from an alert source about a problem on a service:
// trigger, acknowledge or resolve, matched to an open alert by DedupKey.
type Event struct {
	Service  string
	Action   Action
	DedupKey string
	Summary  string
	Severity string
	Source   string
	Details  json.RawMessage // a JSON object, or nil
	Links    []Link
	// Integration names the format it arrived in: native, pagerduty,
	// alertmanager, grafana.
	Integration string
	// Actor is who acknowledged or resolved, for those actions.
	Actor string
	// StartedAt is when the source says the problem began, if it says:
	// Alertmanager's and Grafana's startsAt, PagerDuty's timestamp.
	StartedAt time.Time
	// GroupKey is the source's own grouping, if it has one: an
	// Alertmanager or Grafana group key. Alerts of one group are one
	// incident.
	GroupKey string
	// Labels are the alert's fields that group_by can name: Alertmanager
	// and Grafana labels, PagerDuty's component, group, class and custom
	// details, a native alert's details (string values).
	Labels map[string]string
}

// Link is a URL attached to an alert.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Validate checks a trigger's fields; follow-ups need only a dedup key.
func (e *Event) Validate() error {
	switch e.Action {
	case ActionTrigger, ActionAcknowledge, ActionResolve:
	default:
		return FieldError("event_action", "must be trigger, acknowledge or resolve, not %q", e.Action)
	}
	if len(e.DedupKey) > MaxDedupKeyLength {
		return FieldError("dedup_key", "is longer than %d characters", MaxDedupKeyLength)
	}
	if err := checkTexts("dedup_key", e.DedupKey, "group_key", e.GroupKey); err != nil {
		return err
	}
	if e.Action != ActionTrigger {
		if e.DedupKey == "" {
			return FieldError("dedup_key", "is required to %s an alert", e.Action)
		}
		return nil
	}
	if err := checkTexts("summary", e.Summary, "source", e.Source); err != nil {
		return err
	}
	if !e.StartedAt.IsZero() {
		if err := CheckTime("timestamp", e.StartedAt); err != nil {
			return err
		}
	}
	switch {
	case e.Summary == "":
		return FieldError("summary", "is required")
	case len(e.Summary) > MaxSummaryLength:
		return FieldError("summary", "is longer than %d characters", MaxSummaryLength)
	case !ValidSeverity(e.Severity):
		return FieldError("severity", "must be critical, error, warning or info, not %q", e.Severity)
	case len(e.Source) > MaxSourceLength:
		return FieldError("source", "is longer than %d characters", MaxSourceLength)
	case len(e.Links) > MaxLinks:
		return FieldError("links", "has more than %d links", MaxLinks)
	}
	for _, l := range e.Links {
		if l.Href == "" {
			return FieldError("links", "every link needs an href")
		}
		if err := checkTexts("links", l.Href, "links", l.Text); err != nil {
			return err
		}
	}

	return nil
}

// Alert is one signal from a source about a problem on a service,
// deduplicated by DedupKey while open. It belongs to an incident: its
// status follows the incident's, and it resolves on its own when its
// source says so.
type Alert struct {
	ID          int64
	IncidentID  int64
	Service     string
	DedupKey    string
	Status      Status
	Summary     string
	Severity    string
	Source      string
	Details     json.RawMessage
	Links       []Link
	Integration string
	// GroupKey is what grouped the alert: its source's group key (an
	// Alertmanager or Grafana group) or the service's group_by values.
	GroupKey string
	// Count is how many trigger events the alert absorbed.
	Count      int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  time.Time
	ResolvedAt time.Time
	ResolvedBy string
}

// IsOpen reports whether the alert is not resolved.
func (a *Alert) IsOpen() bool { return a.Status != StatusResolved }

// Escalation states.
const (
	EscalationActive    = "active"
	EscalationExhausted = "exhausted"
	EscalationStopped   = "stopped" // acknowledged or resolved
)

// Escalation is where an incident is in its policy: Step is the next step to
// run, in round Round (0 for the first pass), at DueAt.
type Escalation struct {
	Step  int
	Round int
	DueAt time.Time
	State string
	// Wave counts the steps run so far; notifications carry the wave that
	// sent them, so failover stays within one step.
	Wave int
}

// IncidentEvent is one line of an incident's timeline; AlertID names the
// alert it is about, if one (an alert joining or resolving).
type IncidentEvent struct {
	ID         int64
	IncidentID int64
	AlertID    int64
	At         time.Time
	Kind       string
	Actor      string
	Message    string
}

// Timeline event kinds.
const (
	EventTriggered = "triggered"
	// EventAlert notes an alert joining an open incident; it pages nobody
	// new. EventAlertResolved notes one of its alerts resolving.
	EventAlert         = "alert"
	EventAlertResolved = "alert_resolved"
	EventEscalated     = "escalated"
	EventNotified      = "notified"
	EventNotifyFailed  = "notification_failed"
	EventSkipped       = "skipped"
	EventAcknowledged  = "acknowledged"
	EventResolved      = "resolved"
	EventExhausted     = "exhausted"
	EventBurn          = "burn"
	// EventHeld notes a notification held by the rate limit, and until
	// when; EventNotSent one cancelled before it went out.
	EventHeld = "held"
	// EventMaintenance notes paging held for a maintenance window.
	EventMaintenance = "maintenance"
	EventNotSent     = "not_sent"
	// EventStepFailed notes a step none of whose notifications reached
	// anyone; EventUnreached an incident whose policy ran out with nobody
	// reached.
	EventStepFailed = "step_failed"
	EventUnreached  = "unreached"
	// EventQuiet notes an off-hours page avoided: a low-urgency alert
	// waiting for a responder's business hours (Actor is the responder).
	EventQuiet = "quiet_hours"
	// EventDeploy notes the deploy an incident suspects, and who recorded
	// it (which key, which webhook).
	EventDeploy = "deploy"
	// EventReload notes a reload moving the incident's next step (a
	// policy's delay or a maintenance window changed).
	EventReload = "reload"
)

// Notification statuses.
const (
	NotifyPending   = "pending"
	NotifySent      = "sent"
	NotifyFailed    = "failed"
	NotifyCancelled = "cancelled"
)

// PagesFor counts the pages rota made for one person on one incident,
// whatever became of them: whom an incident paged may act on it.
type PagesFor struct {
	// Pages are all of them; Shadows the shadow copies among them.
	Pages, Shadows int
}

// ShadowOnly reports whether every page was a shadow copy: the person
// watches the incident and cannot stop its escalation.
func (p PagesFor) ShadowOnly() bool { return p.Pages > 0 && p.Pages == p.Shadows }

// Notification is one message over one channel to one person, in the
// outbox until sent, failed or cancelled.
type Notification struct {
	ID           int64
	IncidentID   int64
	Person       string
	Channel      Channel
	Address      string
	ContactIndex int
	Wave         int
	Status       string
	Attempts     int
	NextAttempt  time.Time
	LastError    string
	CreatedAt    time.Time
	SentAt       time.Time
	// BundleID is the notification that carried this one, when several
	// were bundled into one message.
	BundleID int64
	// Reason says why this person is paged when it is not simply their
	// turn: "you deployed abc1234 12 min ago (merged by bob)".
	Reason string
	// Shadow marks a learner's copy: it records no page and its person
	// cannot acknowledge.
	Shadow bool
	// ExternalID is the provider's id of the message or call (a Twilio
	// SID); ProviderStatus its last reported status; DeliveredAt when the
	// provider reported it delivered or completed.
	ExternalID     string
	ProviderStatus string
	DeliveredAt    time.Time
	// Kind is KindPage, KindNotice (text alone, Body), KindUpdate (news
	// of an incident: Update, and Body its text) or KindPost (an incident
	// posted to a chat channel).
	Kind string
	Body string
	// Update is what an update tells (KindUpdate).
	Update Update
	// ChatChannel names the configured chat channel a post, or an
	// update to it, goes to (Address is where that is: a secret, for a
	// webhook).
	ChatChannel string
	// Updates is whether this contact is told what becomes of the
	// incident (acknowledged, escalated, resolved) once it is sent.
	Updates bool
	// Thread is, on an update, the provider's id of the first message
	// sent to the same contact about the incident (a Slack message, to
	// edit in place and reply under).
	Thread string
}

// Page is an incident reaching a person: one per (incident, person), at
// the first notification that reached them. OffHours is whether it
// reached them outside their business hours: an off-hours incident, the
// unit of the six-month budget. Interruptions, the unit of the weekly
// budget, are read as pages too: At is when the interruption began,
// IncidentID the incident that began it.
type Page struct {
	IncidentID int64
	Person     string
	At         time.Time
	Channel    Channel
	OffHours   bool
	// AsAuthor is a page to the person as the author or merger of the
	// deploy the incident suspects (Pages reads it).
	AsAuthor bool `json:",omitempty"`
	// Gap is the person's interruption_gap, for recording: a page
	// reaching them this long after the last notification that did
	// begins an interruption.
	Gap time.Duration `json:"-"`
}

// AccountItem is a page still to be accounted against its person's
// budgets: a new interruption, a new off-hours incident, or both.
type AccountItem struct {
	ID           int64
	Person       string
	IncidentID   int64
	At           time.Time
	Interruption bool
	OffHours     bool
}

// BurnNotice is what accounting records of one burn, in one transaction
// with the item accounted: the burn (once per window), and, only when the
// burn is new, the managers' notices for the outbox and a timeline note.
type BurnNotice struct {
	Burn BurnRecord
	// Rolling, when not zero, makes any burn of the budget within it
	// before this one the same window (the off-hours budget).
	Rolling time.Duration
	Notices []Notification
	Event   IncidentEvent
}

// Notification kinds.
const (
	// KindPage is an incident for a person to answer.
	KindPage = "page"
	// KindNotice is text alone (Body): a manager's notice, a digest, an
	// on-call announcement. Not cancelled with an incident.
	KindNotice = "notice"
	// KindUpdate tells someone already notified of an incident what
	// became of it (Body says what, and who): never a page, never
	// counted against a budget.
	KindUpdate = "update"
	// KindPost is an incident posted to a chat channel rather than to a
	// person (Person is empty): it pages nobody, and is cancelled with
	// its incident like a page.
	KindPost = "post"
)

// StatusChange is what acknowledging, resolving or escalating an incident
// does: policy.ChangeStatus decides it from the incident as stored, and
// the store applies it in the transaction that read it.
type StatusChange struct {
	// Incident is the incident as it becomes.
	Incident Incident
	// Changed is false when there is nothing to write (acknowledging an
	// acknowledged incident).
	Changed bool
	// Alerts is the status the incident's alerts take: acknowledged (the
	// triggered ones), resolved (the open ones), triggered again (the
	// acknowledged ones); empty leaves them.
	Alerts Status
	// Cancel, when set, cancels the incident's pending pages and posts,
	// with this reason.
	Cancel string
	// Rearm clears the mark of a policy run out with nobody reached: it
	// runs again.
	Rearm bool
	// Update is what the change tells; News decides who hears it, from
	// what was sent about the incident (nil: nobody).
	Update Update
	News   func(NewsFacts) News `json:"-"`
	Event  IncidentEvent
}

// AlertFacts are what acting on one alert is decided on: the alert, its
// incident, and how many of the incident's other alerts are still open.
type AlertFacts struct {
	Now        time.Time
	Alert      Alert
	Incident   Incident
	OthersOpen int
}

// AlertChange is that decision: the alert as it becomes (written when
// AlertChanged), its incident's change (nil: none), and a timeline note
// (nil: none).
type AlertChange struct {
	Alert        Alert
	AlertChanged bool
	Incident     *StatusChange
	Event        *IncidentEvent
}

// NewsFacts are what deciding who hears of an incident's change reads:
// its pages and channel posts sent, oldest first, and (on an escalation)
// the updates of an escalation requested and not yet sent.
type NewsFacts struct {
	Sent      []Notification
	Requested []Notification
}

// News is that decision: updates to queue, and requested updates to
// amend (by ID: their Update and Body replaced).
type News struct {
	Tell  []Notification
	Amend []Notification
}

// Update is a status update: what was done to an incident, by whom, and
// for an escalation to whom.
type Update struct {
	Action Action
	By     string
	To     []string
}

// Text is the update as its notifications show it: "acknowledged by
// alice (sms)", "escalated by bruno (web) to chloe", "escalated to
// chloe, dmitri".
func (u Update) Text() string {
	s := u.Action.PastTense()
	if u.By != "" {
		s += " by " + u.By
	}
	if len(u.To) > 0 {
		s += " to " + strings.Join(u.To, ", ")
	}
	return s
}

// StepOutcome is what running an escalation step decides: the incident's new
// escalation state, the notifications for the outbox and the notes for its
// timeline. The policy package computes it; the store writes it in the
// transaction that read the alert.
type StepOutcome struct {
	Escalation    Escalation
	Notifications []Notification
	Events        []IncidentEvent
	// News decides who, told of the incident before, hears whom it went
	// on to (nil: nobody).
	News func(NewsFacts) News `json:"-"`
}

// Delivery outcomes.
const (
	DeliverySent = "sent"
	// DeliveryLogged is a sent notification's outcome as metrics and
	// the UI tell it when it only went to the log (Delivery.Logged).
	DeliveryLogged   = "logged"
	DeliveryRetry    = "retry"    // a temporary failure: try again at NextAttempt
	DeliveryDeferred = "deferred" // held back by a rate limit until NextAttempt
	DeliveryFailed   = "failed"   // given up: Failover, if any, is tried now
	// DeliveryCancelled: the alert was acknowledged or resolved before the
	// notification went out.
	DeliveryCancelled = "cancelled"
	// DeliveryUndelivered: the provider accepted a notification recorded as
	// sent, then reported it failed (undelivered, busy, no answer):
	// Failover is tried at once, and the page stands only if another
	// notification reached the person.
	DeliveryUndelivered = "undelivered"
)

// ProviderReport is what a provider's status callback says of a
// notification.
type ProviderReport struct {
	NotificationID int64
	ExternalID     string
	Status         string
	// Delivered is set for delivered messages and completed calls;
	// Failed for undelivered or failed messages and busy, failed or
	// unanswered calls.
	Delivered, Failed bool
	Error             string
	// Gap is the person's interruption_gap: a failed message's
	// interruption passes to the next notification that reached them
	// within it.
	Gap time.Duration
}

// Delivery is the outcome of one attempt to send a notification, recorded
// by the store in one transaction with the page and timeline notes it
// implies.
type Delivery struct {
	NotificationID int64
	IncidentID     int64
	Outcome        string
	At             time.Time
	NextAttempt    time.Time
	Error          string
	// BundleID, for a sent notification, is the one whose message carried
	// it (itself when it was sent alone).
	BundleID int64
	// ExternalID is the provider's id for a sent message or call.
	ExternalID string
	// Logged, on a sent notification, says it was written to rotad's
	// log, not sent: no provider is configured for its channel. It counts
	// as delivered (rota did all it was set up to do) and says so.
	Logged bool
	// Page is recorded (once per alert and person) when sent.
	Page *Page
	// Failover is the person's next contact method, tried at once when
	// this one failed and the alert is still triggered.
	Failover *Notification
	Events   []IncidentEvent
	// KeepAttempts, on a retry, does not count the attempt: the provider
	// asked to wait (a 429 with Retry-After), the contact is fine.
	KeepAttempts bool
}

// BurnRecord is a human budget burned: by a person (or, for a warning, a
// team), in a budget window, with the pages that burned it.
type BurnRecord struct {
	Team, Person, Budget string
	Window, At           time.Time
	Pages                []Page
}

// ReportQuery says what a team's report reads: its members and services
// over [From, To), and the off-hours window ending at To.
type ReportQuery struct {
	Team             string
	People, Services []string
	From, To         time.Time
	OffHoursWindow   time.Duration
}

// ReportData is what a team's human-SLO report is computed from, read by
// the store in one call.
type ReportData struct {
	// Interruptions of each of the team's members in [From, To), oldest
	// first, read as pages.
	Interruptions map[string][]Page
	// Reached counts, per member, the incidents that reached them in
	// [From, To).
	Reached map[string]Reached
	// OffHoursInWindow counts, per member, the off-hours incidents in the
	// rolling off-hours window ending at To.
	OffHoursInWindow map[string]int
	// Incidents of the team's services created in [From, To), and of
	// every page and interruption.
	Incidents map[int64]Incident
	// Alerts of the team's services created in [From, To), counted by
	// service and summary.
	Alerts []AlertCount
	// Burns of the team in [From, To); Avoided the quiet-hours notes of
	// its services in [From, To).
	Burns   []BurnRecord
	Avoided []IncidentEvent
}

// Reached is how many incidents reached a person, how many of them
// off-hours, and when each off-hours one did.
type Reached struct {
	Incidents, OffHours int
	OffHoursAt          []time.Time
}

// AlertCount is how many alerts a service raised with one summary.
type AlertCount struct {
	Service, Summary string
	Alerts           int
}

// OutboxPlan is what the engine decides of the due notifications it is
// offered: those to send now (claimed for it), those the rate limit holds
// (deferred, with when they may go), and the rate-limit slots the sends
// take, by person and channel.
type OutboxPlan struct {
	Claim    []int64
	Deferred []Delivery
	Slots    map[[2]string]time.Time
	// Busy counts the due notifications left to another daemon's
	// transaction, which holds their person (PostgreSQL): it claims them,
	// or its daemon looks again when it is done.
	Busy int
}

// ExportedAlert is an alert as a replay reads it: the alert, and when its
// incident opened and was acknowledged (zero: never).
type ExportedAlert struct {
	Alert                          Alert
	IncidentCreated, IncidentAcked time.Time
	// IncidentAckedBy is who acknowledged it ("alice (slack)").
	IncidentAckedBy string
}

package rota

import "time"

// TriggerFacts is what the store reads, in the transaction of a trigger
// event, for policy to decide on: whether the event repeats an open
// alert, and which open incidents it could join.
type TriggerFacts struct {
	Now time.Time
	// Open is the service's open alert with the event's dedup key.
	Open *Alert
	// Grouped is the service's open incident with the event's group key;
	// Recent its youngest open incident created inside the group window.
	// Either may be nil.
	Grouped, Recent *Incident
	// Maintenance are the service's ad hoc maintenance windows that end
	// after Now (the configuration's recurring ones are in the service).
	Maintenance []Maintenance
}

// Trigger outcomes.
const (
	// TriggerCreated: a new incident, whose first step ran.
	TriggerCreated = "created"
	// TriggerGrouped: a new alert joined an open incident; nobody new
	// was paged.
	TriggerGrouped = "grouped"
	// TriggerDeduplicated: the event repeated an open alert.
	TriggerDeduplicated = "deduplicated"
)

// TriggerDecision is what a trigger event becomes. The policy package
// decides it from TriggerFacts; the store writes it in the transaction
// that read them.
type TriggerDecision struct {
	Outcome string
	// Alert is the new alert (created or grouped), without its ids.
	Alert Alert
	// Incident is, for TriggerCreated, the incident to open with its
	// policy snapshot and first step (Step, whose ids the store fills
	// in); for TriggerGrouped, the joined incident as it is to be
	// written: its severity raised, its escalation brought forward when
	// an urgent alert joins an incident waiting for business hours.
	Incident Incident
	Step     StepOutcome
	// Events go on the incident's timeline.
	Events []IncidentEvent
}

// TriggerResult is what a trigger event became, as stored.
type TriggerResult struct {
	Outcome  string
	Alert    Alert
	Incident Incident
}

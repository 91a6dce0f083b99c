package rota

import "time"

// Team is a group of people with managers, a home time zone, default
// business hours and a human SLO.
type Team struct {
	Name     string
	Members  []string
	Managers []string
	Location *time.Location
	Hours    BusinessHours
	SLO      HumanSLO
	// Digest is the cron schedule (in the team's zone) of the managers'
	// weekly digest; empty for none.
	Digest string
}

// HumanSLO is a team's per-person budget of interruptions.
type HumanSLO struct {
	// PagesPerWeek is how many pages (interruptions) a person may take per
	// ISO week in their own time zone.
	PagesPerWeek int
	// OffhoursIncidents is how many incidents a person may work outside
	// business hours in any rolling OffhoursWindow.
	OffhoursIncidents int
	OffhoursWindow    time.Duration
	// InterruptionGap is how long a person is left alone before the next
	// notification that reaches them is a new page (interruption).
	InterruptionGap time.Duration
}

// DefaultInterruptionGap is the quiet time after which a notification is
// a new interruption.
const DefaultInterruptionGap = 30 * time.Minute

// DefaultHumanSLO is two pages a week and one off-hours incident in 182 days.
func DefaultHumanSLO() HumanSLO {
	return HumanSLO{PagesPerWeek: 2, OffhoursIncidents: 1, OffhoursWindow: 182 * Day, InterruptionGap: DefaultInterruptionGap}
}

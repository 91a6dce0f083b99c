package rota

import "time"

// Shift is one person's on-call window on a rotation, after overrides are
// applied: [Start, End). Start and End are in UTC.
type Shift struct {
	Rotation string
	Person   string
	Start    time.Time
	End      time.Time
	// OverrideID is the override that put Person here, or 0 when Person is
	// simply scheduled.
	OverrideID int64
	// CoveringFor is the member whose turn it was, on leave, when Person
	// covers in their place.
	CoveringFor string
	// Layer is, on a schedule, the rotation whose shift this is ("" for
	// the schedule's own overrides).
	Layer string `json:",omitempty"`
}

// IsOverride reports whether the shift comes from an override.
func (s Shift) IsOverride() bool { return s.OverrideID != 0 }

// Duration returns End - Start.
func (s Shift) Duration() time.Duration { return s.End.Sub(s.Start) }

// Contains reports whether t falls in [Start, End).
func (s Shift) Contains(t time.Time) bool { return !t.Before(s.Start) && t.Before(s.End) }

// FeedVersion is what a published calendar event looked like: its
// content hash, and the SEQUENCE and LAST-MODIFIED it was published with.
type FeedVersion struct {
	Hash     string
	Sequence int
	Modified time.Time
}

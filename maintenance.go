package rota

import "time"

// Maintenance is a window in which a service's alerts are recorded but
// page nobody and charge no budget: planned work. Windows from the
// configuration recur (Service.Maintenance); these are set ad hoc, for
// now or for later, through the API, the CLI or the web UI.
type Maintenance struct {
	ID         int64     `json:"id"`
	Service    string    `json:"service"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Reason     string    `json:"reason,omitempty"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	EndedEarly bool      `json:"ended_early,omitempty"`
}

// Active reports whether m holds at t.
func (m Maintenance) Active(t time.Time) bool { return !t.Before(m.Start) && t.Before(m.End) }

// Validate checks a window before it is stored.
func (m Maintenance) Validate() error {
	switch {
	case m.Service == "":
		return FieldError("service", "is required")
	case m.Start.IsZero():
		return FieldError("start", "is required")
	case !m.End.After(m.Start):
		return FieldError("end", "must be after start")
	case m.End.Sub(m.Start) > 7*Day:
		return FieldError("end", "is more than a week after start: planned work that long is a reason to change the policy, not to silence it")
	case len(m.Reason) > 500:
		return FieldError("reason", "is longer than 500 characters")
	}
	return nil
}

package policy

import (
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/scheduler"
)

// InMaintenance says whether svc is in planned maintenance at now: in
// one of its recurring windows or an ad hoc one. until is when it ends,
// windows that touch or overlap chained; why names the window.
func InMaintenance(svc *rota.Service, adhoc []rota.Maintenance, now time.Time) (until time.Time, why string, ok bool) {
	if svc == nil {
		return time.Time{}, "", false
	}
	loc := svc.Location
	if loc == nil {
		loc = time.UTC
	}
	until = now
	for {
		moved := false
		if _, end, in := scheduler.WindowAt(svc.Maintenance, loc, until); in && end.After(until) {
			if why == "" {
				why = "recurring maintenance"
			}
			until, moved = end, true
		}
		for _, m := range adhoc {
			if m.Service == svc.Name && m.Active(until) && m.End.After(until) {
				if why == "" {
					why = "maintenance"
					if m.Reason != "" {
						why += " (" + m.Reason + ")"
					}
				}
				until, moved = m.End, true
			}
		}
		if !moved {
			break
		}
	}
	return until, why, until.After(now)
}

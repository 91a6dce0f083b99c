package paging

import (
	"context"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

// RemindHandovers tells each incoming on-call whose shift starts within
// its rotation's handover_reminder of now, once per shift: when, for how
// long and from whom they take over. A reminder is recorded before it is
// sent, so a crash between the two loses it rather than repeats it.
func (e *Engine) RemindHandovers(ctx context.Context) {
	now := e.now()
	roster := e.book.Roster()
	for _, rot := range roster.Org().Rotations {
		if rot.Reminder == 0 {
			continue
		}
		for _, sh := range roster.Shifts(rot.Name, now, now.Add(rot.Reminder)) {
			if !sh.Start.After(now) {
				continue
			}
			prev, ok := roster.OnCall(rot.Name, sh.Start.Add(-time.Nanosecond))
			if ok && prev.Person == sh.Person {
				continue // no handover: the same person carries on
			}
			first, err := e.store.MarkReminded(ctx, rot.Name, sh.Person, sh.Start)
			if err != nil {
				e.log.Error("cannot record a handover reminder", "rotation", rot.Name, "person", sh.Person, "err", err)
				continue
			}
			if !first {
				continue
			}
			loc := rot.Location
			text := fmt.Sprintf("rota: you are on call for %s from %s to %s", rot.Name,
				sh.Start.In(loc).Format("Mon 2 Jan 15:04"), sh.End.In(loc).Format("Mon 2 Jan 15:04 MST"))
			if ok {
				text += ", taking over from " + prev.Person
			}
			if sh.CoveringFor != "" {
				text += ", covering for " + sh.CoveringFor + " (on leave)"
			}
			if sh.IsOverride() {
				text += fmt.Sprintf(" (override #%d)", sh.OverrideID)
			}
			if _, err := e.Tell(ctx, sh.Person, text+"."); err != nil && rota.ErrorCode(err) != rota.ENOTFOUND {
				e.log.Warn("handover reminder not delivered", "rotation", rot.Name, "person", sh.Person, "err", err)
			}
		}
	}
}

package paging

import (
	"context"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

// RemindHandovers tells each incoming on-call whose shift starts within
// its rotation's handover_reminder of now, once per shift (across
// daemons): when, for how long and from whom they take over. The reminder
// is queued in the outbox in the transaction that marks it, so it is
// retried like a page and not lost at a crash.
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
			first, err := e.store.QueueReminder(ctx, rot.Name, sh.Person, sh.Start, e.notices([]string{sh.Person}, text+"."))
			if err != nil {
				e.log.Error("cannot queue a handover reminder", "rotation", rot.Name, "person", sh.Person, "err", err)
				continue
			}
			if first {
				e.Wake()
			}
		}
	}
}

// notices are outbox notices of text to people, each by their first
// contact method for text (not a call).
func (e *Engine) notices(people []string, text string) []rota.Notification {
	org := e.book.Roster().Org()
	var out []rota.Notification
	for _, name := range people {
		p := org.Person(name)
		if p == nil {
			continue
		}
		for ci, c := range p.Contacts {
			if c.Type == rota.ContactVoice {
				continue
			}
			out = append(out, rota.Notification{Person: name, Channel: c.Type, Address: c.Address, ContactIndex: ci,
				Status: rota.NotifyPending, Kind: rota.KindNotice, Body: text})
			break
		}
	}
	return out
}

// QueueOnce queues text to people through the outbox the first time key
// is seen by any daemon on the database (a team's digest of one minute),
// and says whether it was the first.
func (e *Engine) QueueOnce(ctx context.Context, key string, people []string, text string) (bool, error) {
	first, err := e.store.QueueOnce(ctx, key, e.notices(people, text))
	if first {
		e.Wake()
	}
	return first, err
}

// announceWithin is how late after a handoff it is still announced: a
// daemon that was down longer than this at a handoff does not announce
// it when it comes back.
const announceWithin = 15 * time.Minute

// AnnounceHandoffs tells each rotation's announce channels, once per
// handoff (across daemons), who is on call now, until when, and who is
// next: "alice is on call for payments-primary until Tue 8 Dec 10:00 CET;
// bob next". Run it every minute.
func (e *Engine) AnnounceHandoffs(ctx context.Context) {
	now := e.now()
	roster := e.book.Roster()
	org := roster.Org()
	for _, rot := range org.Rotations {
		if len(rot.Announce) == 0 {
			continue
		}
		sh, ok := roster.OnCall(rot.Name, now)
		if !ok || now.Sub(sh.Start) > announceWithin {
			continue
		}
		if prev, ok := roster.OnCall(rot.Name, sh.Start.Add(-time.Nanosecond)); ok && prev.Person == sh.Person {
			continue // the same person carries on: nothing to announce
		}
		var next *rota.Shift
		if n, ok := roster.OnCall(rot.Name, sh.End); ok {
			next = &n
		}
		text := HandoffText(rot, sh, next)
		var notes []rota.Notification
		for _, name := range rot.Announce {
			ch := org.ChatChannel(name)
			if ch == nil {
				continue
			}
			notes = append(notes, rota.Notification{Channel: ch.Type, Address: ch.Address, Status: rota.NotifyPending, Kind: rota.KindNotice, Body: text})
		}
		key := fmt.Sprintf("announce:%s:%d", rot.Name, sh.Start.UnixMilli())
		first, err := e.store.QueueOnce(ctx, key, notes)
		if err != nil {
			e.log.Error("cannot queue a handoff announcement", "rotation", rot.Name, "err", err)
			continue
		}
		if first {
			e.Wake()
		}
	}
}

// HandoffText announces a shift: who, on what, until when (in the
// rotation's zone), and who is next.
func HandoffText(rot *rota.Rotation, sh rota.Shift, next *rota.Shift) string {
	loc := rot.Location
	text := fmt.Sprintf("%s is on call for %s until %s", sh.Person, rot.Name, sh.End.In(loc).Format("Mon 2 Jan 15:04 MST"))
	if sh.CoveringFor != "" {
		text += ", covering for " + sh.CoveringFor
	}
	if next != nil && next.Person != sh.Person {
		text += "; " + next.Person + " next"
	}
	return text + "."
}

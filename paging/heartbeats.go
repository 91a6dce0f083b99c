package paging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// HeartbeatStore keeps heartbeats: when each last beat, and whether it
// was missed.
type HeartbeatStore interface {
	// Beat records a beat now; wasDown says it had been missed, first
	// that it had never beaten.
	Beat(ctx context.Context, service, name string, timeout time.Duration) (hb rota.Heartbeat, wasDown, first bool, err error)
	// DueHeartbeats lists those up and past their deadline at now.
	DueHeartbeats(ctx context.Context, now time.Time) ([]rota.Heartbeat, error)
	// MarkHeartbeatDown records a miss, once: false when it beat since
	// or another daemon marked it.
	MarkHeartbeatDown(ctx context.Context, h rota.Heartbeat) (bool, error)
	// Heartbeats lists every heartbeat that has beaten.
	Heartbeats(ctx context.Context) ([]rota.Heartbeat, error)
	// MoveHeartbeatDeadline moves an up heartbeat's deadline, unless it
	// beat (or was marked down) since h was read.
	MoveHeartbeatDeadline(ctx context.Context, h rota.Heartbeat, deadline time.Time) (bool, error)
}

// Rebase moves the deadlines a reload from the configuration old to the
// one the book holds now changes: heartbeats (RebaseHeartbeats), and
// each waiting incident's next step whose wait a policy's delay or a
// maintenance window set (policy.RebaseWait).
func (e *Engine) Rebase(ctx context.Context, old *rota.Org) error {
	return errors.Join(e.RebaseHeartbeats(ctx), e.rebaseWaits(ctx, old))
}

// rebaseWaits moves the waits of incidents for their next step that a
// reload from old changed.
func (e *Engine) rebaseWaits(ctx context.Context, old *rota.Org) error {
	now := e.now()
	incs, ran, err := e.store.Waiting(ctx, now)
	if err != nil || len(incs) == 0 {
		return err
	}
	adhoc, err := e.store.ActiveMaintenance(ctx, now)
	if err != nil {
		return err
	}
	cur := e.book.Roster().Org()
	moved := false
	for _, inc := range incs {
		next, note, changed := policy.RebaseWait(inc, ran[inc.ID], old, cur, adhoc[inc.Service], now)
		if !changed {
			continue
		}
		ok, err := e.store.MoveWait(ctx, next, inc.Escalation.DueAt, note)
		if err != nil {
			return err
		}
		if ok {
			moved = true
			e.log.Info("next step moved by the configuration", "incident", inc.ID, "service", inc.Service, "from", inc.Escalation.DueAt, "to", next.Escalation.DueAt, "why", note)
		}
	}
	if moved {
		e.Wake()
	}
	return nil
}

// RebaseHeartbeats moves each up heartbeat's deadline to its last beat
// plus its timeout in the configuration now: after a reload that changed
// a timeout, a longer one pages nobody early and a shorter one is kept
// from the moment it applies, not from the old deadline.
func (e *Engine) RebaseHeartbeats(ctx context.Context) error {
	hbs, err := e.store.Heartbeats(ctx)
	if err != nil {
		return err
	}
	org := e.book.Roster().Org()
	moved := false
	for _, h := range hbs {
		svc := org.Service(h.Service)
		if !h.Up || svc == nil {
			continue
		}
		check := svc.Heartbeat(h.Name)
		if check == nil {
			continue
		}
		if deadline := h.Last.Add(check.Timeout); !deadline.Equal(h.Deadline) {
			ok, err := e.store.MoveHeartbeatDeadline(ctx, h, deadline)
			if err != nil {
				return err
			}
			if ok {
				moved = true
				e.log.Info("heartbeat deadline moved by the configuration", "service", h.Service, "heartbeat", h.Name,
					"from", h.Deadline, "to", deadline, "timeout", check.Timeout)
			}
		}
	}
	if moved {
		e.Wake() // a deadline may now be sooner
	}
	return nil
}

// heartbeatKey is the dedup key of the incident a missed heartbeat opens.
func heartbeatKey(name string) string { return "heartbeat:" + name }

// Beat records that service's heartbeat name beat, as actor: a missed
// heartbeat's incident resolves. ENOTFOUND for a heartbeat the service
// does not declare.
func (e *Engine) Beat(ctx context.Context, service, name, actor string) (rota.Heartbeat, error) {
	svc := e.book.Roster().Org().Service(service)
	if svc == nil {
		return rota.Heartbeat{}, rota.Errorf(rota.ENOTFOUND, "no service named %q", service)
	}
	check := svc.Heartbeat(name)
	if check == nil {
		return rota.Heartbeat{}, rota.Errorf(rota.ENOTFOUND, "service %s has no heartbeat named %q: declare it in [[services.heartbeats]]", service, name)
	}
	hb, wasDown, first, err := e.store.Beat(ctx, service, name, check.Timeout)
	if err != nil {
		return rota.Heartbeat{}, err
	}
	if first {
		e.log.Info("heartbeat watched from its first beat", "service", service, "heartbeat", name, "timeout", check.Timeout)
	}
	if wasDown {
		e.log.Info("heartbeat back", "service", service, "heartbeat", name)
		if _, err := e.FollowUp(ctx, service, heartbeatKey(name), rota.ActionResolve, actor); err != nil && rota.ErrorCode(err) != rota.ENOTFOUND {
			return hb, err
		}
	}
	// Its deadline may be the earliest thing due now.
	e.Wake()
	return hb, nil
}

// checkHeartbeats opens an incident for each heartbeat past its deadline:
// the trigger first (deduplicated, so a daemon that dies after it and
// one that repeats it page once), then the mark.
func (e *Engine) checkHeartbeats(ctx context.Context, now time.Time) error {
	due, err := e.store.DueHeartbeats(ctx, now)
	if err != nil {
		return err
	}
	org := e.book.Roster().Org()
	for _, h := range due {
		var check *rota.HeartbeatCheck
		if svc := org.Service(h.Service); svc != nil {
			check = svc.Heartbeat(h.Name)
		}
		if check == nil {
			// Removed from the configuration: no longer watched.
			if _, err := e.store.MarkHeartbeatDown(ctx, h); err != nil {
				return err
			}
			continue
		}
		if deadline := h.Last.Add(check.Timeout); deadline.After(now) {
			// Its timeout grew since the deadline was set (a reload,
			// perhaps on another daemon): not missed yet.
			if _, err := e.store.MoveHeartbeatDeadline(ctx, h, deadline); err != nil {
				return err
			}
			continue
		}
		details, _ := json.Marshal(map[string]string{"heartbeat": h.Name, "last_beat": h.Last.UTC().Format(time.RFC3339)})
		ev := rota.Event{Service: h.Service, Action: rota.ActionTrigger, DedupKey: heartbeatKey(h.Name), Severity: check.Severity,
			Summary: fmt.Sprintf("heartbeat %s missed: no beat since %s (expected every %s)", h.Name,
				h.Last.In(e.zoneOfService(h.Service)).Format("Mon 2 Jan 15:04:05 MST"), rota.FormatDuration(check.Timeout)),
			Source: "rota", Integration: "heartbeat", Details: details, Labels: map[string]string{"heartbeat": h.Name}}
		if _, err := e.Trigger(ctx, ev); err != nil {
			return err
		}
		if marked, err := e.store.MarkHeartbeatDown(ctx, h); err != nil {
			return err
		} else if marked {
			e.log.Warn("heartbeat missed", "service", h.Service, "heartbeat", h.Name, "last", h.Last, "late", now.Sub(h.Deadline))
		}
	}
	return nil
}

// zoneOfService is a service's team's zone, for times in summaries.
func (e *Engine) zoneOfService(service string) *time.Location {
	org := e.book.Roster().Org()
	if svc := org.Service(service); svc != nil {
		if t := org.Team(svc.Team); t != nil && t.Location != nil {
			return t.Location
		}
	}
	return time.UTC
}

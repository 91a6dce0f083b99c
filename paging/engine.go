// Package paging is the engine with state: it turns events into alerts,
// runs escalation steps when they fall due, and delivers notifications
// from a durable outbox with retries, failover, rate limits and bundling.
//
// The engine is woken at once by new work and otherwise sleeps until the
// earliest due time in the store; there is no polling cycle. Everything it
// decides is written to the store before it acts, so after a crash it
// resumes what was due: notifications are delivered at least once.
package paging

import (
	"context"
	crand "crypto/rand"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/policy"
	"github.com/rotahq/rota/scheduler"
)

// Store is what the engine needs of the database: the role interfaces
// below, which the SQLite store implements (and a PostgreSQL one will).
// Every write is one transaction: a method either does all it says or
// nothing.
type Store interface {
	IncidentStore
	EscalationStore
	Outbox
	ReplyStore
	HeartbeatStore
	MaintenanceStore
	// QueueReminder records that person is reminded of their shift on
	// rotation starting at start, and queues the reminder's notices in
	// the same transaction, the first time only: a reminder goes out
	// once, across restarts and daemons.
	QueueReminder(ctx context.Context, rotation, person string, start time.Time, notices []rota.Notification) (bool, error)
	// QueueOnce queues notices the first time key is seen, recording it
	// in the same transaction.
	QueueOnce(ctx context.Context, key string, notices []rota.Notification) (bool, error)
	// Deploys lists recorded deploys, for deploy-author routing.
	Deploys(ctx context.Context, f rota.DeployFilter) ([]rota.Deploy, error)
	// Audit appends an entry to the audit log.
	Audit(ctx context.Context, e *rota.AuditEntry) error
}

// IncidentStore keeps incidents and their alerts.
type IncidentStore interface {
	// Trigger reads the facts a triggering event is decided on (an open
	// alert with its dedup key, the open incident of its group, a recent
	// one within window), calls decide with them, and writes the
	// decision, all in one transaction: retries never page twice.
	Trigger(ctx context.Context, ev *rota.Event, groupKey string, window time.Duration, decide func(rota.TriggerFacts) rota.TriggerDecision) (rota.TriggerResult, error)
	// FollowUp acknowledges or resolves the open alert with a service's
	// dedup key (ENOTFOUND when there is none), as a source's follow-up;
	// decide says what that does to its incident.
	FollowUp(ctx context.Context, service, dedupKey string, decide func(rota.AlertFacts) (rota.AlertChange, error)) (rota.Alert, error)
	// ChangeStatus reads an incident, calls decide with it and applies
	// the change, in one transaction.
	ChangeStatus(ctx context.Context, id int64, decide func(rota.Incident, time.Time) (rota.StatusChange, error)) (rota.Incident, error)
	// SetAlertStatus acknowledges an alert's incident, or resolves the
	// alert (and its incident with its last open alert, as decide says).
	SetAlertStatus(ctx context.Context, id int64, decide func(rota.AlertFacts) (rota.AlertChange, error)) (rota.Alert, error)
	// Incident returns one incident, or ENOTFOUND.
	Incident(ctx context.Context, id int64) (rota.Incident, error)
	// Alert returns one alert, or ENOTFOUND.
	Alert(ctx context.Context, id int64) (rota.Alert, error)
	// IncidentsByID returns those of ids that exist, in one read.
	IncidentsByID(ctx context.Context, ids []int64) (map[int64]rota.Incident, error)
	// Incidents lists incidents by filter, newest first.
	Incidents(ctx context.Context, f rota.IncidentFilter) ([]rota.Incident, error)
	// Unreached lists triggered incidents whose policy ran out with
	// nobody reached and not yet told; RecordUnreached tells, once,
	// storing the managers' notices and the timeline note with the mark.
	Unreached(ctx context.Context) ([]rota.Incident, error)
	RecordUnreached(ctx context.Context, id int64, notices []rota.Notification, event rota.IncidentEvent) (bool, error)
	// Waiting lists triggered incidents waiting for their next step, with
	// when their last step ran; MoveWait moves one's wait (a reload),
	// unless it has moved on since it was read.
	Waiting(ctx context.Context, now time.Time) ([]rota.Incident, map[int64]time.Time, error)
	MoveWait(ctx context.Context, inc rota.Incident, from time.Time, note string) (bool, error)
	// Exhausted lists triggered incidents whose policy ran out after
	// reaching someone, nobody acknowledging, managers not yet told
	// (RecordUnreached tells them).
	Exhausted(ctx context.Context) ([]rota.Incident, error)
}

// EscalationStore runs escalation steps when they fall due.
type EscalationStore interface {
	// Escalate runs incident id's next step if it is still due at the
	// transaction's time: run decides the step, and the step's
	// notifications and the next due time are written with it. ran is
	// false when it was no longer due (acknowledged, already run), or
	// when another daemon is running it (PostgreSQL): then inc is the
	// zero Incident.
	Escalate(ctx context.Context, id int64, run func(*rota.Incident, time.Time) rota.StepOutcome) (inc rota.Incident, ran bool, err error)
	// DueEscalations lists incidents whose next step is due at now,
	// earliest first.
	DueEscalations(ctx context.Context, now time.Time, limit int) ([]int64, error)
	// NextDue is the earliest time a step or a pending notification is
	// due; ok is false when nothing is.
	NextDue(ctx context.Context) (next time.Time, ok bool, err error)
}

// Outbox is the durable queue of notifications.
type Outbox interface {
	// ClaimDue claims pending notifications due at now that no live claim
	// holds, for owner until until, as decide plans over them and the
	// rate limit's last sends: those to send, those the rate limit holds
	// and the slots taken, in one transaction (see store.ClaimDue).
	ClaimDue(ctx context.Context, now time.Time, limit int, owner string, until time.Time,
		decide func(due []rota.Notification, last map[[2]string]time.Time) rota.OutboxPlan) (rota.OutboxPlan, error)
	// RenewClaims extends owner's claims on notifications being sent.
	RenewClaims(ctx context.Context, owner string, ids []int64, until time.Time) error
	// GiveBackSlot returns an unused rate-limit slot, unless taken since.
	GiveBackSlot(ctx context.Context, key [2]string, took, before time.Time) error
	// RecordDeliveries records what became of sends: sent (with the page,
	// interruption and accounting row they make), retried, failed over
	// or given up; one transaction for them all.
	RecordDeliveries(ctx context.Context, ds []rota.Delivery, late func(rota.Incident, []rota.Notification) []rota.Notification) error
	// PendingNotifications counts what is waiting to be sent.
	PendingNotifications(ctx context.Context) (int, error)
	// Notification returns one notification, or ENOTFOUND.
	Notification(ctx context.Context, id int64) (rota.Notification, error)
	// RecordProviderReport records a provider's later word on a message
	// (delivered, undelivered, a call unanswered), with the failover it
	// calls for and the timeline lines, in one transaction.
	RecordProviderReport(ctx context.Context, r rota.ProviderReport, failover *rota.Notification, events []rota.IncidentEvent) (rota.Notification, error)
}

// ReplyStore serves people's answers over SMS and voice.
type ReplyStore interface {
	// ReplyCodes gives each of a person's incidents the short code their
	// replies name it by, stable while it is open.
	ReplyCodes(ctx context.Context, person string, incidentIDs []int64) (map[int64]int, error)
	// IncidentByCode is the incident a person's reply code names.
	IncidentByCode(ctx context.Context, person string, code int) (rota.Incident, error)
	// IncidentsPaging lists the open incidents paging a person.
	IncidentsPaging(ctx context.Context, person string) ([]rota.Incident, error)
	// PagesFor counts a person's pages for an incident, and the shadow
	// copies among them: whom an incident paged may act on it.
	PagesFor(ctx context.Context, person string, incidentID int64) (rota.PagesFor, error)
	// FirstInbound records an inbound provider request's key and says
	// whether it is new: replays act once.
	FirstInbound(ctx context.Context, key string) (bool, error)
}

// Options configure an Engine. Store and Book are required.
type Options struct {
	// Poll bounds how long the engine sleeps without looking at the
	// store: on a database several daemons share, work another daemon
	// made (and did not finish: it died) is found this soon. Zero sleeps
	// until the next due time (a minute at most), for one daemon alone.
	Poll  time.Duration
	Store Store
	Book  *scheduler.Book
	// Notifiers names the notifier of each channel (contact type); a
	// channel without one goes to the registry's fallback. Nil logs
	// every message.
	Notifiers *notify.Registry
	Logger    *slog.Logger
	Now       func() time.Time
	Registry  prometheus.Registerer

	// RateLimit is the least time between two SMS or two voice
	// notifications to one person; what arrives sooner is held and sent
	// as one bundle. One minute by default.
	RateLimit time.Duration
	// A notification that fails is retried, the first retry after Backoff
	// (1s), doubling up to MaxBackoff (30s), with ±20% jitter: after
	// MaxAttempts (5) its person's next contact method is tried instead,
	// and with none left it is retried for RetryFor (10m) from its first
	// attempt, so that a short outage of a receiver delays a page rather
	// than losing it.
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	RetryFor    time.Duration
	// Workers bounds concurrent deliveries to one provider (Twilio, the
	// SMTP relay), 32 by default; PerDestination those to one webhook or
	// Slack host, 4 by default, so that a host that hangs holds back only
	// its own messages.
	Workers        int
	PerDestination int
	// SendTimeout bounds one delivery (30s by default); SendTimeouts,
	// one channel's. A receiver that answers within it has the message:
	// a slow success is not a failure.
	SendTimeout  time.Duration
	SendTimeouts map[rota.Channel]time.Duration
	// PublicURL is where providers reach rotad back (key presses).
	PublicURL string
	// Burns, when set, accounts pages against human budgets and tells
	// managers of burns.
	Burns BurnStore
}

// Engine escalates alerts and delivers notifications.
type Engine struct {
	opts    Options
	store   Store
	burns   BurnStore
	book    *scheduler.Book
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	wake    chan struct{}
	// hints are due times of work other daemons made (Hint).
	hints chan time.Time
	// busy says the last claim left due notifications to another
	// daemon (see busyWait).
	busy atomic.Bool
	// wakeAcct wakes the accounting loop when a page is recorded.
	wakeAcct  chan struct{}
	judgeOnce sync.Once

	// owner names this engine's claims on notifications it sends.
	owner string

	mu    sync.Mutex
	dests map[string]chan struct{} // each destination's delivery slots
	wg    sync.WaitGroup
}

// New returns an engine; Run starts it.
func New(opts Options) *Engine {
	if opts.RateLimit == 0 {
		opts.RateLimit = time.Minute
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.RetryFor == 0 {
		opts.RetryFor = 10 * time.Minute
	}
	if opts.Workers == 0 {
		opts.Workers = 32
	}
	if opts.PerDestination == 0 {
		opts.PerDestination = 4
	}
	if opts.SendTimeout == 0 {
		opts.SendTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	log := opts.Logger.With("component", "paging")
	if opts.Notifiers == nil {
		opts.Notifiers = notify.NewRegistry(nil, log)
	}
	e := &Engine{
		opts: opts, store: opts.Store, burns: opts.Burns, book: opts.Book, log: log, now: opts.Now,
		wake: make(chan struct{}, 1), hints: make(chan time.Time, 64), wakeAcct: make(chan struct{}, 1), dests: map[string]chan struct{}{},
		owner: crand.Text(),
	}
	e.metrics = newMetrics(opts.Registry, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := e.store.PendingNotifications(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	return e
}

// Wake makes the engine look for due work now.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Trigger applies a trigger event: the store reads what it repeats or
// could join in one transaction, policy decides, and the store writes the
// decision there: a new incident runs its first escalation step, and the
// engine is woken to deliver; an alert joining an open incident pages
// nobody new; a repeat of an open alert only counts.
func (e *Engine) Trigger(ctx context.Context, ev rota.Event) (rota.TriggerResult, error) {
	ev.Action = rota.ActionTrigger
	roster := e.book.Roster()
	org := roster.Org()
	svc := org.Service(ev.Service)
	if svc == nil {
		return rota.TriggerResult{}, rota.Errorf(rota.ENOTFOUND, "no service named %q", ev.Service)
	}
	pol := org.Policy(svc.EscalationPolicy)
	if pol == nil {
		return rota.TriggerResult{}, rota.Errorf(rota.EINTERNAL, "service %s has no escalation policy %q", svc.Name, svc.EscalationPolicy)
	}
	// Deploys that an incident starting up to a day before now could
	// suspect; the decision picks the one that fits its time.
	window := svc.DeployWindow
	if window == 0 {
		window = rota.DefaultDeployWindow
	}
	deploys, err := e.store.Deploys(ctx, rota.DeployFilter{Service: svc.Name, Since: e.now().Add(-window - policy.MaxSourceLead), Limit: 1000})
	if err != nil {
		return rota.TriggerResult{}, err
	}
	in := policy.TriggerInput{Event: &ev, Service: svc, Policy: *pol, Deploys: deploys, Roster: roster, Group: policy.Grouping(svc.Group, &ev)}
	res, err := e.store.Trigger(ctx, &ev, in.Group.Key, in.Group.Window, func(f rota.TriggerFacts) rota.TriggerDecision {
		return policy.Trigger(in, f)
	})
	if err != nil {
		return rota.TriggerResult{}, err
	}
	switch res.Outcome {
	case rota.TriggerCreated:
		e.afterStep(res.Incident)
		e.log.Info("incident triggered", "incident", res.Incident.ID, "alert", res.Alert.ID, "service", svc.Name, "dedup_key", ev.DedupKey, "severity", ev.Severity)
		e.Wake()
	case rota.TriggerGrouped:
		e.log.Info("alert grouped", "incident", res.Incident.ID, "alert", res.Alert.ID, "service", svc.Name, "dedup_key", ev.DedupKey, "alerts", res.Incident.AlertCount)
		if !res.Incident.Escalation.DueAt.IsZero() {
			e.Wake()
		}
	}
	return res, nil
}

// runStep decides an alert's due step against the current roster.
func (e *Engine) runStep(a *rota.Incident, now time.Time) rota.StepOutcome {
	return policy.RunStep(a, e.book.Roster(), now).StepOutcome
}

func (e *Engine) afterStep(a rota.Incident) {
	e.metrics.escalations.Inc()
	if a.Escalation.State == rota.EscalationExhausted {
		e.metrics.exhausted.Inc()
		e.log.Warn("escalation exhausted: nobody acknowledged", "alert", a.ID, "service", a.Service)
	}
}

// FollowUp acknowledges or resolves the open alert with the dedup key, as
// the PagerDuty Events API does (acknowledging acknowledges its incident;
// resolving resolves the incident with its last open alert): with no open
// alert it returns an ENOTFOUND error, which event sources treat as
// dropped.
func (e *Engine) FollowUp(ctx context.Context, service, dedupKey string, action rota.Action, actor string) (rota.Alert, error) {
	a, err := e.store.FollowUp(ctx, service, dedupKey, decideAlert(action, actor))
	if err == nil {
		e.log.Info("alert "+action.PastTense(), "alert", a.ID, "incident", a.IncidentID, "service", service, "by", actor)
		e.Wake() // status updates may be due
	}
	return a, err
}

// SetStatus acknowledges, resolves or escalates incident id as actor,
// with no rights checked and nothing audited: for tools and tests.
// Channels act through Act.
func (e *Engine) SetStatus(ctx context.Context, id int64, action rota.Action, actor string) (rota.Incident, error) {
	a, err := e.store.ChangeStatus(ctx, id, decideStatus(action, actor))
	if err == nil {
		e.log.Info("incident "+action.PastTense(), "incident", a.ID, "service", a.Service, "by", actor)
		e.Wake() // the next step, or status updates, may be due
	}
	return a, err
}

// SetAlertStatus acknowledges alert id's incident, or resolves the alert
// (and the incident with its last open alert), as SetStatus does: for
// tools and tests.
func (e *Engine) SetAlertStatus(ctx context.Context, id int64, action rota.Action, actor string) (rota.Alert, error) {
	a, err := e.store.SetAlertStatus(ctx, id, decideAlert(action, actor))
	if err == nil {
		e.log.Info("alert "+action.PastTense(), "alert", a.ID, "incident", a.IncidentID, "service", a.Service, "by", actor)
		e.Wake() // status updates may be due
	}
	return a, err
}

// decideStatus is policy.ChangeStatus for action by actor, as the store
// calls it with the incident it read.
func decideStatus(action rota.Action, actor string) func(rota.Incident, time.Time) (rota.StatusChange, error) {
	return func(a rota.Incident, now time.Time) (rota.StatusChange, error) {
		return policy.ChangeStatus(a, action, actor, now)
	}
}

// decideAlert is policy.ActOnAlert for action by actor, as the store calls
// it with the facts it read.
func decideAlert(action rota.Action, actor string) func(rota.AlertFacts) (rota.AlertChange, error) {
	return func(f rota.AlertFacts) (rota.AlertChange, error) { return policy.ActOnAlert(f, action, actor) }
}

// escalationWorkers bounds the due steps run at once.
const escalationWorkers = 16

// maxWait bounds a sleep so that a clock change or an outside write to
// the database is noticed within it; work is otherwise found by Wake.
const maxWait = time.Minute

// Hint tells the engine of work another daemon made due at due (its
// database's notification): the engine looks then, after hintGrace,
// unless it looks sooner anyway. It never blocks.
func (e *Engine) Hint(due time.Time) {
	select {
	case e.hints <- due:
	default:
		// Hints are waiting already: the engine will look soon.
	}
}

// hintGrace is how long past another daemon's work falling due this one
// waits before it looks: the daemon that made the work does it at once,
// and only if it did not (it stopped, it is slow) does this one.
const hintGrace = 250 * time.Millisecond

// busyWait is how long the loop leaves due notifications to the daemon
// whose transaction holds their person, before it looks at them again.
const busyWait = 100 * time.Millisecond

// Run works until ctx ends: due escalation steps, then due notifications,
// then sleep until the next due time or a Wake. In-flight deliveries finish
// before it returns.
func (e *Engine) Run(ctx context.Context) error {
	defer e.wg.Wait()
	if e.burns != nil {
		done := make(chan struct{})
		go func() { defer close(done); e.runAccounting(ctx) }()
		defer func() { <-done }()
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if err := e.runOnce(ctx, false); err != nil && ctx.Err() == nil {
			e.log.Error("engine round failed", "err", err)
		}
		wait := maxWait
		if e.opts.Poll > 0 {
			wait = e.opts.Poll
		}
		next, ok, err := e.store.NextDue(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			// Not knowing when work is due, look again soon rather than
			// sleep a minute past it.
			e.log.Error("cannot read when work is next due", "err", err)
			wait = time.Second
		case ok:
			if d := next.Sub(e.now()); d < wait {
				wait = max(d, 0)
			}
		}
		if e.busy.Load() {
			// What is due is another daemon's to send (it holds the
			// person): looking again at once would only spin on its
			// locks. It claims them, or looks again when done; this
			// daemon's own work still wakes it.
			wait = max(wait, busyWait)
		}
		timer.Reset(wait)
		target := time.Now().Add(wait)
	sleep:
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-e.wake:
				break sleep
			case <-timer.C:
				break sleep
			case due := <-e.hints:
				// Work another daemon made: that daemon does it at once,
				// so this one looks a moment later, if it is earlier
				// than it would look anyway.
				d := max(due.Sub(e.now())+hintGrace, 0)
				if at := time.Now().Add(d); at.Before(target) {
					target = at
					timer.Reset(d)
				}
			}
		}
		timer.Stop()
	}
}

// RunOnce does all work due now and waits for its deliveries: the engine's
// step, for tests that drive the clock.
func (e *Engine) RunOnce(ctx context.Context) error { return e.runOnce(ctx, true) }

func (e *Engine) runOnce(ctx context.Context, wait bool) error {
	now := e.now()
	ids, err := e.store.DueEscalations(ctx, now, 1000)
	if err != nil {
		return err
	}
	// Due steps run side by side, each in its own transaction: the
	// store groups their commits (SQLite) or runs them on several
	// connections (PostgreSQL), so a backlog of steps is not paid one
	// durable commit at a time.
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	var busy atomic.Bool // work left to another daemon (see busyWait)
	defer func() { e.busy.Store(busy.Load()) }()
	slots := make(chan struct{}, escalationWorkers)
	for _, id := range ids {
		slots <- struct{}{}
		wg.Add(1)
		go func(id int64) {
			defer func() { <-slots; wg.Done() }()
			a, ran, err := e.store.Escalate(ctx, id, func(a *rota.Incident, at time.Time) rota.StepOutcome {
				e.metrics.lag.Observe(at.Sub(a.Escalation.DueAt).Seconds())
				return e.runStep(a, at)
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			if ran {
				e.afterStep(a)
			} else if a.ID == 0 {
				busy.Store(true)
			}
		}(id)
	}
	wg.Wait()
	if err := e.checkHeartbeats(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if err := e.tellUnreached(ctx); err != nil {
		errs = append(errs, err)
	}
	if left, err := e.deliverDue(ctx, now); err != nil {
		errs = append(errs, err)
	} else if left {
		busy.Store(true)
	}
	if wait {
		// Driven by a test's clock: what was just sent is accounted,
		// and the notices it decided go out, in this one step.
		e.wg.Wait()
		if n, err := e.accountPending(ctx); err != nil {
			errs = append(errs, err)
		} else if n > 0 {
			if _, err := e.deliverDue(ctx, now); err != nil {
				errs = append(errs, err)
			}
			e.wg.Wait()
		}
		return errors.Join(errs...)
	}
	return errors.Join(errs...)
}

// runAccounting accounts recorded pages until ctx ends: woken when a
// delivery records one, and once a minute (and at start, for what a crash
// left) otherwise. It runs beside the delivery loop, so that accounting
// never delays a page.
func (e *Engine) runAccounting(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := e.accountPending(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Error("accounting failed; it will be tried again", "err", err)
		}
		if n == accountBatch && err == nil {
			continue // more is waiting
		}
		timer.Reset(maxWait)
		select {
		case <-ctx.Done():
			return
		case <-e.wakeAcct:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (e *Engine) wakeAccounting() {
	select {
	case e.wakeAcct <- struct{}{}:
	default:
	}
}

// sendTimeout bounds one delivery over channel c.
func (e *Engine) sendTimeout(c rota.Channel) time.Duration {
	if d := e.opts.SendTimeouts[c]; d > 0 {
		return d
	}
	return e.opts.SendTimeout
}

// backoff returns the delay before retry number attempt (1 for the first).
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.opts.Backoff
	for i := 1; i < attempt && d < e.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, e.opts.MaxBackoff)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// Package replay runs recorded (or generated) alerts and deploys through
// a configuration, to ask what people would have carried: interruptions,
// off-hours incidents, sleep-hour pages, burns, pages to deploy authors.
//
// A replay is the engine itself: paging.Engine over a scratch database
// (Options.Scratch), on a virtual clock that jumps from one recorded input
// or due step to the next, with notifiers that deliver at once. Every
// decision — grouping, steps, quiet hours, maintenance, deploy routing,
// the outbox's rate limit and bundles, interruptions, burns — is the one
// the engine makes, and the figures are read from what the scratch
// database recorded exactly as they are read from the real one (Tally).
// So a database replayed with the configuration it ran under gives back
// what was recorded, and a difference is a difference of configuration,
// or one of the assumptions a Result lists.
//
// People answer as they did: an incident is acknowledged its recorded
// time to acknowledge after it opened (or AckModel after its first page
// when none was recorded), and alerts resolve when they did.
package replay

import (
	"container/heap"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/scheduler"
)

// Alert is one recorded alert: the event that raised it, when, and what
// became of it.
type Alert struct {
	At    time.Time
	Event rota.Event
	// ResolvedAt is when its source resolved it; zero: not within the
	// replay.
	ResolvedAt time.Time
	// AckAfter is how long after its incident opened it was
	// acknowledged, as recorded; zero: not recorded (AckModel applies);
	// negative: never acknowledged.
	AckAfter time.Duration
	// AckBy and ResolvedBy are who acknowledged its incident and who
	// resolved it, as recorded: who hears of it depends on who did it.
	AckBy, ResolvedBy string
}

// Input is what happened.
type Input struct {
	// From and To are the range it was recorded over, when known: a
	// replay stops at To, as the record did.
	From, To time.Time
	Alerts   []Alert
	Deploys  []rota.Deploy
	// Overrides and Leave (by person) shape who is on call, as recorded.
	Overrides []rota.Override
	Leave     map[string][]rota.Leave
	// Maintenance are the ad hoc maintenance windows that were set (the
	// configuration's recurring ones are in its services).
	Maintenance []rota.Maintenance
}

// Store is the scratch database a replay runs the engine over: what the
// engine needs, and what the figures are read from.
type Store interface {
	paging.Store
	paging.BurnStore
	CreateDeploy(ctx context.Context, d *rota.Deploy) (bool, error)
	Pages(ctx context.Context, since time.Time) ([]rota.Page, error)
	Burns(ctx context.Context, from, to time.Time) ([]rota.BurnRecord, error)
}

// Scratch opens an empty database for one run, whose clock is now; done
// closes and removes it.
type Scratch func(now func() time.Time) (db Store, done func(), err error)

// Options tune a replay.
type Options struct {
	From, To time.Time
	// AckModel is how long after its first page an incident with no
	// recorded time to acknowledge is acknowledged: 5 minutes by default.
	AckModel time.Duration
	// RateLimit is the outbox's least time between two messages to a
	// person on one channel (a minute by default, as [paging]).
	RateLimit time.Duration
	// Baseline pages everything at once: no grouping, no quiet hours, no
	// deploy routing, no maintenance; each alert its own incident.
	Baseline bool
	// Scratch opens the database the engine runs over (required).
	Scratch Scratch
}

// Result is what a replay found: what its engine recorded, and the
// figures read from it.
type Result struct {
	Recorded
	From, To time.Time
	People   map[string]*Person
	Totals   Totals
	// Incidents opened, alerts replayed.
	Incidents, Alerts int
	// CriticalFirstPage is, for each critical incident by its first
	// alert, how long after that alert its first page came.
	CriticalFirstPage map[string]time.Duration `json:"-"`
	// Assumed says what the replay could not know and assumed, one line
	// each, with how many times.
	Assumed []string
}

// Person is what one person carried.
type Person struct {
	Name string
	// Interruptions are pages that interrupted (the weekly budget's
	// unit); Incidents those that reached them.
	Interruptions, Incidents int
	// OffHours are incidents that reached them outside their business
	// hours; Sleep those between 22:00 and 08:00 their time;
	// OffHoursInterruptions interruptions outside business hours.
	OffHours, Sleep, OffHoursInterruptions int
	// AuthorPages are pages as a deploy's author or merger.
	AuthorPages int
	Burns       int
}

// Burn is a budget a person went over, and when their managers were (or
// would have been) told.
type Burn struct {
	Person string    `json:"person"`
	Team   string    `json:"team"`
	Budget string    `json:"budget"`
	Window time.Time `json:"window"`
	At     time.Time `json:"told_at"`
}

// Run replays in through org with the engine over a scratch database.
func Run(ctx context.Context, org *rota.Org, in Input, opts Options) (*Result, error) {
	if opts.AckModel == 0 {
		opts.AckModel = 5 * time.Minute
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = time.Minute
	}
	if opts.Scratch == nil {
		return nil, fmt.Errorf("replay: no scratch database")
	}
	if opts.Baseline {
		org = baseline(org)
	}
	// Heartbeats are replayed as the alerts their misses raised: none
	// beats in a replay, and none may be judged missed twice.
	org = withoutHeartbeats(org)
	roster := scheduler.NewRoster(org, in.Overrides)
	for p, ls := range in.Leave {
		roster = roster.WithLeave(p, ls)
	}
	clk := &clock{now: opts.From}
	db, done, err := opts.Scratch(clk.Now)
	if err != nil {
		return nil, fmt.Errorf("replay: scratch database: %w", err)
	}
	defer done()
	phone := &phone{seen: map[int64]bool{}}
	engine := paging.New(paging.Options{Store: db, Book: scheduler.NewBook(roster), Burns: db, Now: clk.Now, RateLimit: opts.RateLimit,
		Notifiers: notify.NewRegistry(phone, nil)})
	r := &run{ctx: ctx, org: org, opts: opts, db: db, engine: engine, clk: clk, phone: phone,
		res: &Result{From: opts.From, To: opts.To, CriticalFirstPage: map[string]time.Duration{}}, modelAck: map[int64]bool{}, assumed: map[string]int{}}
	if err := r.schedule(in); err != nil {
		return nil, err
	}
	if err := r.loop(); err != nil {
		return nil, err
	}
	return r.result()
}

// clock is a replay's virtual time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// phone delivers every message at once, and notes the incidents first
// paged, for the acknowledgement model.
type phone struct {
	mu    sync.Mutex
	seen  map[int64]bool
	first []int64
}

func (p *phone) Notify(_ context.Context, m notify.Message) (notify.Receipt, error) {
	if m.Kind != notify.KindPage || m.Shadow {
		return notify.Receipt{}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, inc := range m.Incidents {
		if !p.seen[inc.ID] {
			p.seen[inc.ID] = true
			p.first = append(p.first, inc.ID)
		}
	}
	return notify.Receipt{}, nil
}

func (p *phone) take() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.first
	p.first = nil
	return out
}

// An input is one recorded thing happening at its time.
type input struct {
	at   time.Time
	seq  int
	kind int
	// one of
	alert  *Alert
	deploy *rota.Deploy
	window *rota.Maintenance
	id     int64
	actor  string
}

const (
	inDeploy = iota
	inMaintenance
	inMaintenanceEnd
	inAlert
	inResolve
	inAck
)

type inputs []*input

func (q inputs) Len() int { return len(q) }
func (q inputs) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q inputs) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *inputs) Push(x any)   { *q = append(*q, x.(*input)) }
func (q *inputs) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type run struct {
	ctx    context.Context
	org    *rota.Org
	opts   Options
	db     Store
	engine *paging.Engine
	clk    *clock
	phone  *phone
	res    *Result
	q      inputs
	seq    int
	// modelAck are incidents with no recorded acknowledgement, answered
	// AckModel after their first page.
	modelAck map[int64]bool
	// critical are critical incidents' first alerts' keys, by incident.
	critical map[int64]string
	assumed  map[string]int
}

func (r *run) push(in *input) {
	r.seq++
	in.seq = r.seq
	heap.Push(&r.q, in)
}

// schedule queues the inputs: deploys when they were recorded, windows
// when they were set (and ended, when early), alerts when they arrived.
func (r *run) schedule(in Input) error {
	from, to := r.opts.From, r.opts.To
	for i := range in.Deploys {
		d := in.Deploys[i]
		at := d.CreatedAt
		if at.IsZero() || at.Before(d.DeployedAt) {
			at = d.DeployedAt
		}
		if !at.Before(to) {
			continue
		}
		d.ID, d.CreatedAt = 0, time.Time{}
		r.push(&input{at: maxTime(at, from), kind: inDeploy, deploy: &d})
	}
	for i := range in.Maintenance {
		m := in.Maintenance[i]
		if r.opts.Baseline {
			break // the baseline holds nothing
		}
		if !m.End.After(from) || !m.Start.Before(to) {
			continue
		}
		at := m.CreatedAt
		if at.IsZero() || at.After(m.Start) {
			at = m.Start
		}
		m.ID = 0
		r.push(&input{at: maxTime(at, from), kind: inMaintenance, window: &m})
	}
	for i := range in.Alerts {
		a := &in.Alerts[i]
		if a.At.Before(from) || !a.At.Before(to) {
			continue
		}
		r.push(&input{at: a.At, kind: inAlert, alert: a})
	}
	return nil
}

// loop runs the engine from input to input and due step to due step,
// until To.
func (r *run) loop() error {
	now := r.opts.From
	r.critical = map[int64]string{}
	for {
		next, ok := time.Time{}, false
		if len(r.q) > 0 {
			next, ok = r.q[0].at, true
		}
		due, has, err := r.db.NextDue(r.ctx)
		if err != nil {
			return err
		}
		if has {
			if !due.After(now) {
				// Due and not done by the last step (held by a claim):
				// look again a moment later.
				due = now.Add(time.Second)
			}
			if !ok || due.Before(next) {
				next, ok = due, true
			}
		}
		if !ok || !next.Before(r.opts.To) {
			return nil
		}
		now = next
		r.clk.set(now)
		for len(r.q) > 0 && !r.q[0].at.After(now) {
			if err := r.apply(heap.Pop(&r.q).(*input)); err != nil {
				return err
			}
		}
		if err := r.engine.RunOnce(r.ctx); err != nil {
			return fmt.Errorf("replay at %s: %w", now.Format(time.RFC3339), err)
		}
		for _, id := range r.phone.take() {
			if r.modelAck[id] {
				r.push(&input{at: now.Add(r.opts.AckModel), kind: inAck, id: id})
			}
		}
	}
}

// apply does what one input did.
func (r *run) apply(in *input) error {
	ctx := r.ctx
	switch in.kind {
	case inDeploy:
		if _, err := r.db.CreateDeploy(ctx, in.deploy); err != nil {
			return fmt.Errorf("replay: deploy of %s: %w", in.deploy.Service, err)
		}
	case inMaintenance:
		m := *in.window
		if err := r.engine.StartMaintenance(ctx, &m); err != nil {
			if rota.ErrorCode(err) == rota.ENOTFOUND || rota.ErrorCode(err) == rota.EINVALID {
				r.assume("maintenance windows on services this configuration does not have (or already over) were left out")
				return nil
			}
			return fmt.Errorf("replay: maintenance of %s: %w", m.Service, err)
		}
		if in.window.EndedEarly && in.window.End.Before(r.opts.To) {
			r.push(&input{at: in.window.End, kind: inMaintenanceEnd, id: m.ID})
		}
	case inMaintenanceEnd:
		if _, err := r.engine.EndMaintenance(ctx, in.id); err != nil && rota.ErrorCode(err) != rota.ECONFLICT {
			return fmt.Errorf("replay: ending maintenance: %w", err)
		}
	case inAlert:
		a := in.alert
		r.res.Alerts++
		res, err := r.engine.Trigger(ctx, a.Event)
		if err != nil {
			if c := rota.ErrorCode(err); c == rota.ENOTFOUND || c == rota.EINVALID {
				r.assume("alerts this configuration does not take (no such service, or invalid) were left out")
				return nil
			}
			return fmt.Errorf("replay: alert %s/%s: %w", a.Event.Service, a.Event.DedupKey, err)
		}
		if res.Outcome == rota.TriggerCreated {
			id := res.Incident.ID
			r.res.Incidents++
			r.res.Opened = append(r.res.Opened, Incident{ID: id, At: a.At, Service: res.Incident.Service, Severity: res.Incident.Severity,
				Deploy: res.Incident.Deploy, DedupKey: a.Event.DedupKey, Summary: res.Incident.Summary})
			switch {
			case a.AckAfter > 0:
				r.push(&input{at: in.at.Add(a.AckAfter), kind: inAck, id: id, actor: a.AckBy})
			case a.AckAfter == 0:
				r.modelAck[id] = true
				r.assume(fmt.Sprintf("incidents with no recorded acknowledgement were acknowledged %s after their first page", r.opts.AckModel))
			}
		}
		if res.Outcome != rota.TriggerDeduplicated && !a.ResolvedAt.IsZero() && a.ResolvedAt.Before(r.opts.To) {
			r.push(&input{at: maxTime(a.ResolvedAt, in.at), kind: inResolve, alert: a})
		}
	case inResolve:
		a := in.alert
		if _, err := r.engine.FollowUp(ctx, a.Event.Service, a.Event.DedupKey, rota.ActionResolve, or(a.ResolvedBy, "its source (replayed)")); err != nil && rota.ErrorCode(err) != rota.ENOTFOUND {
			return fmt.Errorf("replay: resolving %s/%s: %w", a.Event.Service, a.Event.DedupKey, err)
		}
	case inAck:
		if _, err := r.engine.SetStatus(ctx, in.id, rota.ActionAcknowledge, or(in.actor, "someone (replayed)")); err != nil {
			if c := rota.ErrorCode(err); c != rota.ECONFLICT && c != rota.ENOTFOUND {
				return fmt.Errorf("replay: acknowledging incident %d: %w", in.id, err)
			}
		}
	}
	return nil
}

func (r *run) assume(what string) { r.assumed[what]++ }

// result reads what the engine recorded and tallies it.
func (r *run) result() (*Result, error) {
	ctx := r.ctx
	res := r.res
	pages, err := r.db.Pages(ctx, r.opts.From)
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		if p.At.Before(r.opts.To) {
			res.Pages = append(res.Pages, p)
		}
	}
	var people []string
	for _, p := range r.org.People {
		people = append(people, p.Name)
	}
	is, err := r.db.Interruptions(ctx, people, r.opts.From, r.opts.To)
	if err != nil {
		return nil, err
	}
	for _, i := range is {
		if i.At.Before(r.opts.To) {
			res.Interruptions = append(res.Interruptions, i)
		}
	}
	burns, err := r.db.Burns(ctx, r.opts.From, r.opts.To)
	if err != nil {
		return nil, err
	}
	for _, b := range burns {
		if b.Person != "" {
			res.Burns = append(res.Burns, Burn{Person: b.Person, Team: b.Team, Budget: b.Budget, Window: b.Window.UTC(), At: b.At.UTC()})
		}
	}
	res.People, res.Totals = Tally(r.org, &res.Recorded, r.opts.From, r.opts.To)
	first := firstPages(res.Pages)
	for _, inc := range res.Opened {
		if inc.Severity == rota.SeverityCritical {
			if p, ok := first[inc.ID]; ok {
				res.CriticalFirstPage[inc.Key()] = p.At.Sub(inc.At)
			}
		}
	}
	whats := make([]string, 0, len(r.assumed))
	for what := range r.assumed {
		whats = append(whats, what)
	}
	sort.Strings(whats)
	for _, what := range whats {
		res.Assumed = append(res.Assumed, fmt.Sprintf("%s (%d)", what, r.assumed[what]))
	}
	res.Assumed = append(res.Assumed, "every message was delivered at once, on its first try")
	return res, nil
}

// firstPages is each incident's first page.
func firstPages(pages []rota.Page) map[int64]rota.Page {
	out := map[int64]rota.Page{}
	for _, p := range pages {
		if f, ok := out[p.IncidentID]; !ok || p.At.Before(f.At) {
			out[p.IncidentID] = p
		}
	}
	return out
}

func or(s, otherwise string) string {
	if s != "" {
		return s
	}
	return otherwise
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// withoutHeartbeats is org with no service's heartbeats checked.
func withoutHeartbeats(org *rota.Org) *rota.Org {
	changed := false
	var services []*rota.Service
	for _, svc := range org.Services {
		if len(svc.Heartbeats) > 0 {
			c := *svc
			c.Heartbeats = nil
			svc, changed = &c, true
		}
		services = append(services, svc)
	}
	if !changed {
		return org
	}
	out := rota.NewOrg(org.People, org.Teams, org.Rotations, services, org.Policies)
	out.SetChatChannels(org.ChatChannels)
	return out
}

// baseline is org paging everything at once: alerts one incident each,
// no quiet hours, no deploy routing, no maintenance.
func baseline(org *rota.Org) *rota.Org {
	var services []*rota.Service
	for _, svc := range org.Services {
		c := *svc
		c.Group = rota.Grouping{Off: true}
		c.LowUrgency = nil
		c.DeployRouting = rota.DeployOff
		c.Maintenance = nil
		services = append(services, &c)
	}
	// Nobody pages a deploy's author first: the on-call gets everything.
	var policies []*rota.EscalationPolicy
	for _, p := range org.Policies {
		c := *p
		c.Steps = nil
		for _, st := range p.Steps {
			var ts []rota.Target
			for _, t := range st.Targets {
				if t.Kind != rota.TargetDeployAuthor {
					ts = append(ts, t)
				}
			}
			if len(ts) > 0 {
				st.Targets = ts
				c.Steps = append(c.Steps, st)
			}
		}
		policies = append(policies, &c)
	}
	out := rota.NewOrg(org.People, org.Teams, org.Rotations, services, policies)
	out.SetChatChannels(org.ChatChannels)
	return out
}

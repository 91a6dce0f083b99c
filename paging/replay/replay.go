// Package replay runs recorded (or generated) alerts and deploys through
// a configuration on a virtual clock, to ask what people would have
// carried: interruptions, off-hours incidents, sleep-hour pages, burns,
// pages to deploy authors. It decides with the engine's own pure code
// (policy.Grouping, policy.Trigger, policy.RunStep, policy.InMaintenance,
// policy.OffHours, policy.Burns) over the scheduler's Roster; what it
// models itself is what the engine's store and outbox do: open alerts
// and incidents, the outbox's per-person rate limit and bundles, and
// interruptions counted with the team's interruption gap.
//
// People answer as they did: an incident is acknowledged its recorded
// time to acknowledge after it opened (or after AckModel when there is
// none), and alerts resolve when they did.
package replay

import (
	"container/heap"
	"sort"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
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
}

// Result is what a replay found.
type Result struct {
	From, To time.Time
	People   map[string]*Person
	// Incidents opened, alerts replayed.
	Incidents, Alerts int
	// DeployIncidents suspected a deploy; AuthorFirst paged its author
	// (or merger) before anyone else.
	DeployIncidents, AuthorFirst int
	// CriticalDelayed counts critical incidents whose first page came
	// later than the baseline's would have (quiet hours never hold one;
	// deploy routing's author-first step may).
	CriticalFirstPage map[string]time.Duration `json:"-"`
	Burns             []Burn
	// Pages are every (incident, person) first reached, in order.
	Pages []rota.Page `json:"-"`
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

// Burn is a budget a person went over, and when their managers would
// have been told.
type Burn struct {
	Person string    `json:"person"`
	Team   string    `json:"team"`
	Budget string    `json:"budget"`
	Window time.Time `json:"window"`
	At     time.Time `json:"told_at"`
}

// Run replays in through org. It never touches a database or a clock.
func Run(org *rota.Org, in Input, opts Options) *Result {
	if opts.AckModel == 0 {
		opts.AckModel = 5 * time.Minute
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = time.Minute
	}
	if opts.Baseline {
		org = baseline(org)
	}
	roster := scheduler.NewRoster(org, in.Overrides)
	for p, ls := range in.Leave {
		roster = roster.WithLeave(p, ls)
	}
	s := &sim{org: org, roster: roster, opts: opts, res: &Result{From: opts.From, To: opts.To, People: map[string]*Person{},
		CriticalFirstPage: map[string]time.Duration{}},
		open: map[[2]string]*alertState{}, incidents: map[int64]*incState{}, unresolved: map[string][]*incState{}, lastSend: map[[2]string]time.Time{},
		reached: map[[2]any]bool{}, sends: map[string][]time.Time{}, interruptions: map[string][]rota.Page{}, offPages: map[string][]rota.Page{},
		burned: map[[4]string]bool{}}
	for _, p := range org.People {
		s.res.People[p.Name] = &Person{Name: p.Name}
	}
	if !opts.Baseline {
		s.maintenance = map[string][]rota.Maintenance{}
		for _, m := range in.Maintenance {
			s.maintenance[m.Service] = append(s.maintenance[m.Service], m)
		}
	}
	deploys := append([]rota.Deploy(nil), in.Deploys...)
	sort.Slice(deploys, func(i, j int) bool { return deploys[i].DeployedAt.Before(deploys[j].DeployedAt) })
	s.deploys = deploys
	for i := range in.Alerts {
		a := &in.Alerts[i]
		if a.At.Before(opts.From) || !a.At.Before(opts.To) {
			continue
		}
		s.push(a.At, evAlert, a)
	}
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(*event)
		s.now = e.at
		switch e.kind {
		case evAlert:
			s.alert(e.data.(*Alert))
		case evStep:
			s.step(e.data.(*incState))
		case evSend:
			s.send(e.data.(*pending))
		case evAck:
			s.ack(e.data.(*incState))
		case evResolve:
			s.resolve(e.data.(*alertState))
		}
	}
	return s.res
}

// deployer reports whether person wrote or merged d.
func (s *sim) deployer(d *rota.Deploy, person string) bool {
	for _, id := range []string{d.Author, d.MergedBy} {
		if p := s.org.PersonByIdentity(id); id != "" && p != nil && p.Name == person {
			return true
		}
	}
	return false
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

const (
	evAlert = iota
	evStep
	evSend
	evAck
	evResolve
)

type event struct {
	at   time.Time
	seq  int
	kind int
	data any
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type alertState struct {
	alert    rota.Alert
	inc      *incState
	resolved bool
}

type incState struct {
	inc      rota.Incident
	alerts   []*alertState
	ackAfter time.Duration
	// firstPage is when the incident first reached someone.
	firstPage time.Time
	acked     bool
	// stepAt is the due time a step event was queued for.
	stepAt time.Time
}

// pending is a notification waiting in the outbox.
type pending struct {
	n   rota.Notification
	inc *incState
}

type sim struct {
	org     *rota.Org
	roster  *scheduler.Roster
	opts    Options
	res     *Result
	deploys []rota.Deploy
	q       queue
	seq     int
	now     time.Time
	nextID  int64

	open      map[[2]string]*alertState // (service, dedup key) → open alert
	incidents map[int64]*incState
	// unresolved are each service's incidents not resolved, oldest first.
	unresolved map[string][]*incState
	// lastSend is the rate limit's last send per (person, channel).
	lastSend map[[2]string]time.Time
	reached  map[[2]any]bool
	// sends are the times messages reached a person, for interruptions.
	sends         map[string][]time.Time
	interruptions map[string][]rota.Page
	offPages      map[string][]rota.Page
	burned        map[[4]string]bool
	// maintenance are the ad hoc windows by service.
	maintenance map[string][]rota.Maintenance
}

func (s *sim) push(at time.Time, kind int, data any) {
	s.seq++
	heap.Push(&s.q, &event{at: at, seq: s.seq, kind: kind, data: data})
}

// alert is an alert arriving: the engine's Trigger, with the store's
// facts read from the simulation.
func (s *sim) alert(a *Alert) {
	s.res.Alerts++
	svc := s.org.Service(a.Event.Service)
	if svc == nil {
		return
	}
	pol := s.org.Policy(svc.EscalationPolicy)
	if pol == nil {
		return
	}
	ev := a.Event
	ev.Action = rota.ActionTrigger
	group := policy.Grouping(svc.Group, &ev)
	facts := rota.TriggerFacts{Now: s.now}
	key := [2]string{ev.Service, ev.DedupKey}
	if open := s.open[key]; open != nil {
		facts.Open = &open.alert
	} else {
		facts.Grouped, facts.Recent = s.groupFacts(ev.Service, group)
		facts.Maintenance = s.maintenance[ev.Service]
	}
	window := svc.DeployWindow
	if window == 0 {
		window = rota.DefaultDeployWindow
	}
	in := policy.TriggerInput{Event: &ev, Service: svc, Policy: *pol, Deploys: s.deploysFor(svc.Name, s.now.Add(-window-policy.MaxSourceLead), s.now),
		Roster: s.roster, Group: group}
	d := policy.Trigger(in, facts)
	switch d.Outcome {
	case rota.TriggerDeduplicated:
		return
	case rota.TriggerGrouped:
		st := s.incidents[d.Incident.ID]
		if st == nil {
			return
		}
		st.inc.Severity, st.inc.Escalation.DueAt = d.Incident.Severity, d.Incident.Escalation.DueAt
		st.inc.AlertCount++
		as := &alertState{alert: d.Alert, inc: st}
		as.alert.IncidentID = st.inc.ID
		st.alerts = append(st.alerts, as)
		s.open[key] = as
		s.scheduleResolve(as, a)
		s.scheduleStep(st)
		return
	}
	s.nextID++
	inc := d.Incident
	inc.ID, inc.CreatedAt, inc.AlertCount, inc.Status = s.nextID, s.now, 1, rota.StatusTriggered
	st := &incState{inc: inc, ackAfter: a.AckAfter}
	s.incidents[inc.ID] = st
	s.unresolved[inc.Service] = append(s.unresolved[inc.Service], st)
	s.res.Incidents++
	if inc.Deploy != nil {
		s.res.DeployIncidents++
	}
	as := &alertState{alert: d.Alert, inc: st}
	as.alert.IncidentID = inc.ID
	st.alerts = append(st.alerts, as)
	s.open[key] = as
	s.scheduleResolve(as, a)
	if a.AckAfter > 0 {
		// Acknowledged when it was, whoever had been paged by then.
		s.push(s.now.Add(a.AckAfter), evAck, st)
	}
	s.apply(st, d.Step)
}

// groupFacts are the service's open incident of the group, and its
// youngest open one inside the group window.
func (s *sim) groupFacts(service string, g policy.Group) (grouped, recent *rota.Incident) {
	var youngest *incState
	for _, st := range s.unresolved[service] {
		if g.Key != "" && st.inc.GroupKey == g.Key && (grouped == nil || st.inc.CreatedAt.After(grouped.CreatedAt)) {
			c := st.inc
			grouped = &c
		}
		if g.Window > 0 && st.inc.CreatedAt.After(s.now.Add(-g.Window)) && (youngest == nil || st.inc.CreatedAt.After(youngest.inc.CreatedAt)) {
			youngest = st
		}
	}
	if youngest != nil {
		c := youngest.inc
		recent = &c
	}
	return grouped, recent
}

// deploysFor are a service's deploys in [from, to].
func (s *sim) deploysFor(service string, from, to time.Time) []rota.Deploy {
	i := sort.Search(len(s.deploys), func(i int) bool { return !s.deploys[i].DeployedAt.Before(from) })
	var out []rota.Deploy
	for ; i < len(s.deploys) && !s.deploys[i].DeployedAt.After(to); i++ {
		if s.deploys[i].Service == service {
			out = append(out, s.deploys[i])
		}
	}
	return out
}

func (s *sim) scheduleResolve(as *alertState, a *Alert) {
	if !a.ResolvedAt.IsZero() && a.ResolvedAt.Before(s.opts.To) {
		at := a.ResolvedAt
		if at.Before(s.now) {
			at = s.now
		}
		s.push(at, evResolve, as)
	}
}

// apply writes a step's outcome: its escalation state, its
// notifications into the outbox, and the next step's time.
func (s *sim) apply(st *incState, out rota.StepOutcome) {
	st.inc.Escalation = out.Escalation
	for _, n := range out.Notifications {
		if n.Kind == rota.KindPost || n.Person == "" {
			continue
		}
		n.IncidentID = st.inc.ID
		at := n.NextAttempt
		if at.IsZero() || at.Before(s.now) {
			at = s.now
		}
		s.push(at, evSend, &pending{n: n, inc: st})
	}
	s.scheduleStep(st)
}

func (s *sim) scheduleStep(st *incState) {
	due := st.inc.Escalation.DueAt
	if due.IsZero() || st.inc.Status != rota.StatusTriggered || due.Equal(st.stepAt) || !due.Before(s.opts.To) {
		return
	}
	if due.Before(s.now) {
		due = s.now
	}
	st.stepAt = due
	s.push(due, evStep, st)
}

// step runs an incident's due step, as store.Escalate does.
func (s *sim) step(st *incState) {
	if st.inc.Status != rota.StatusTriggered || st.inc.Escalation.DueAt.IsZero() || st.inc.Escalation.DueAt.After(s.now) || !st.stepAt.Equal(s.now) {
		return
	}
	st.stepAt = time.Time{}
	st.inc.Maintenance = s.maintenance[st.inc.Service]
	s.apply(st, policy.RunStep(&st.inc, s.roster, s.now).StepOutcome)
}

// send delivers a notification, as the outbox does: held by the
// person's rate limit (and then bundled), dropped once the incident is
// answered.
func (s *sim) send(p *pending) {
	st := p.inc
	if st.inc.Status != rota.StatusTriggered {
		return
	}
	if svc := s.org.Service(st.inc.Service); svc != nil {
		if until, _, held := policy.InMaintenance(svc, s.maintenance[svc.Name], s.now); held {
			s.push(until, evSend, p)
			return
		}
	}
	key := [2]string{p.n.Person, string(p.n.Channel)}
	if next := s.lastSend[key].Add(s.opts.RateLimit); s.now.Before(next) && !s.lastSend[key].IsZero() && !s.lastSend[key].Equal(s.now) {
		s.push(next, evSend, p)
		return
	}
	bundled := s.lastSend[key].Equal(s.now)
	s.lastSend[key] = s.now
	if p.n.Shadow {
		return
	}
	person := s.org.Person(p.n.Person)
	if person == nil {
		return
	}
	if st.firstPage.IsZero() {
		st.firstPage = s.now
		if st.ackAfter == 0 {
			// No recorded answer: the model's, after the first page.
			s.push(s.now.Add(s.opts.AckModel), evAck, st)
		}
		if d := st.inc.Deploy; d != nil && (p.n.Reason != "" || s.deployer(d, p.n.Person)) {
			s.res.AuthorFirst++ // as its author (or merger), or on call anyway
		}
		if st.inc.Severity == rota.SeverityCritical {
			s.res.CriticalFirstPage[firstAlertKey(st)] = s.now.Sub(st.alerts[0].alert.StartedAt)
		}
	}
	pr := s.res.People[p.n.Person]
	off := policy.OffHours(person, s.now)
	rk := [2]any{st.inc.ID, p.n.Person}
	first := !s.reached[rk]
	page := rota.Page{IncidentID: st.inc.ID, Person: p.n.Person, At: s.now, Channel: p.n.Channel, OffHours: off}
	item := rota.AccountItem{Person: p.n.Person, IncidentID: st.inc.ID, At: s.now}
	if first {
		s.reached[rk] = true
		pr.Incidents++
		s.res.Pages = append(s.res.Pages, page)
		if p.n.Reason != "" && !p.n.Shadow {
			pr.AuthorPages++
		}
		if off {
			pr.OffHours++
			item.OffHours = true
			s.offPages[p.n.Person] = append(s.offPages[p.n.Person], page)
			if policy.SleepHours(person, s.now) {
				pr.Sleep++
			}
		}
	}
	// An interruption begins unless something reached the person within
	// the gap before (a message of the same bundle does not count).
	gap := interruptionGap(s.org, p.n.Person)
	sends := s.sends[p.n.Person]
	near := false
	for i := len(sends) - 1; i >= 0 && s.now.Sub(sends[i]) < gap; i-- {
		if !(bundled && sends[i].Equal(s.now)) {
			near = true
			break
		}
	}
	s.sends[p.n.Person] = append(sends, s.now)
	if !near && !bundled {
		pr.Interruptions++
		if off {
			pr.OffHoursInterruptions++
		}
		item.Interruption = true
		s.interruptions[p.n.Person] = append(s.interruptions[p.n.Person], page)
	}
	if item.Interruption || item.OffHours {
		s.account(person, item)
	}
}

func firstAlertKey(st *incState) string {
	a := st.alerts[0].alert
	return a.Service + "\x00" + a.DedupKey + "\x00" + a.StartedAt.UTC().Format(time.RFC3339Nano)
}

// account finds the burns an item makes, once per budget window, as the
// engine's accounting does with policy.Burns.
func (s *sim) account(p *rota.Person, item rota.AccountItem) {
	for _, t := range s.org.Teams {
		if !contains(t.Members, p.Name) {
			continue
		}
		week, from := policy.BudgetWindows(p, t.SLO, item.At)
		var inWeek, inWindow []rota.Page
		for _, pg := range s.interruptions[p.Name] {
			if !pg.At.Before(week) && !pg.At.After(item.At) {
				inWeek = append(inWeek, pg)
			}
		}
		for _, pg := range s.offPages[p.Name] {
			if pg.At.After(from) && !pg.At.After(item.At) {
				inWindow = append(inWindow, pg)
			}
		}
		for _, b := range policy.Burns(p, t.Name, t.SLO, item, inWeek, inWindow) {
			k := [4]string{b.Person, b.Team, b.Budget, b.Window.UTC().Format(time.RFC3339)}
			if b.Budget == policy.BudgetOffHours {
				// The rolling window's burn is told once per window of
				// incidents: keyed by its first.
				k[3] = b.Pages[0].At.UTC().Format(time.RFC3339)
			}
			if s.burned[k] {
				continue
			}
			s.burned[k] = true
			s.res.People[p.Name].Burns++
			s.res.Burns = append(s.res.Burns, Burn{Person: b.Person, Team: b.Team, Budget: b.Budget, Window: b.Window.UTC(), At: b.At.UTC()})
		}
	}
}

// ack is the incident acknowledged: its escalation stops, its pending
// pages are dropped.
func (s *sim) ack(st *incState) {
	if st.inc.Status == rota.StatusTriggered {
		st.inc.Status = rota.StatusAcknowledged
		st.inc.Escalation.DueAt = time.Time{}
	}
}

// resolve is an alert resolved by its source: its incident resolves with
// its last open alert.
func (s *sim) resolve(as *alertState) {
	if as.resolved {
		return
	}
	as.resolved = true
	delete(s.open, [2]string{as.alert.Service, as.alert.DedupKey})
	for _, a := range as.inc.alerts {
		if !a.resolved {
			return
		}
	}
	as.inc.inc.Status = rota.StatusResolved
	as.inc.inc.Escalation.DueAt = time.Time{}
	list := s.unresolved[as.inc.inc.Service]
	for i, st := range list {
		if st == as.inc {
			s.unresolved[as.inc.inc.Service] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
}

func interruptionGap(org *rota.Org, person string) time.Duration {
	gap := time.Duration(0)
	for _, t := range org.Teams {
		if contains(t.Members, person) && t.SLO.InterruptionGap > 0 && (gap == 0 || t.SLO.InterruptionGap < gap) {
			gap = t.SLO.InterruptionGap
		}
	}
	if gap == 0 {
		gap = rota.DefaultInterruptionGap
	}
	return gap
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

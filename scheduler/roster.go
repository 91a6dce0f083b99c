package scheduler

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rotahq/rota"
)

// Roster is an immutable snapshot of who is on call: the configured
// organisation and every rotation's timeline. Queries are pure; changes
// return a new Roster that shares what did not change.
type Roster struct {
	org       *rota.Org
	overrides map[string][]rota.Override
	timelines map[string]*Timeline
	gen       uint64
	// leave holds each person's leave from calendars (the config's is in
	// the org), sorted by start.
	leave map[string][]rota.Leave
}

// generations numbers rosters: each new one, whatever made it, gets a
// higher number than every one before in this process.
var generations atomic.Uint64

// Generation identifies this roster among those of the process: what a
// cache of anything computed from it (a calendar's ETag) keys on.
func (r *Roster) Generation() uint64 { return r.gen }

// NewRoster builds a roster from the organisation and all stored overrides.
// Overrides of rotations the organisation does not have are kept, unused,
// so that a rotation removed and re-added by a reload gets them back.
func NewRoster(org *rota.Org, overrides []rota.Override) *Roster {
	byRot := make(map[string][]rota.Override)
	for _, o := range overrides {
		byRot[o.Rotation] = append(byRot[o.Rotation], o)
	}
	r := &Roster{org: org, overrides: byRot, timelines: make(map[string]*Timeline, len(org.Rotations)), gen: generations.Add(1)}
	for _, rot := range org.Rotations {
		r.timelines[rot.Name] = NewTimeline(rot, byRot[rot.Name]).withRotation(rot, r.away)
	}
	r.linkSchedules()
	return r
}

// linkSchedules gives each schedule the current timelines of its layers;
// every change to a rotation's timeline calls it.
func (r *Roster) linkSchedules() {
	for _, rot := range r.org.Rotations {
		if !rot.IsSchedule() || r.timelines[rot.Name] == nil {
			continue
		}
		var layers []*Timeline
		for _, l := range rot.Layers {
			if tl := r.timelines[l]; tl != nil && len(tl.layers) == 0 {
				layers = append(layers, tl)
			}
		}
		r.timelines[rot.Name] = r.timelines[rot.Name].withLayers(layers)
	}
}

// Org returns the configured organisation the roster was built from.
func (r *Roster) Org() *rota.Org { return r.org }

// Timeline returns the named rotation's timeline, or nil if the rotation is
// not configured.
func (r *Roster) Timeline(rotation string) *Timeline { return r.timelines[rotation] }

// OnCall returns the shift of rotation holding at; ok is false for an
// unknown rotation or when nobody is on call.
func (r *Roster) OnCall(rotation string, at time.Time) (rota.Shift, bool) {
	tl := r.timelines[rotation]
	if tl == nil {
		return rota.Shift{}, false
	}
	return tl.At(at)
}

// Active reports whether a rotation with active windows is inside one at
// at (always true for one without, and for schedules).
func (r *Roster) Active(rotation string, at time.Time) bool {
	tl := r.timelines[rotation]
	if tl == nil || len(tl.cyc.active) == 0 || len(tl.layers) > 0 {
		return true
	}
	_, ok := activeAt(tl.cyc.active, tl.cyc.loc, at, at, at.Add(1))
	return ok
}

// Shifts returns rotation's final shifts overlapping [from, to).
func (r *Roster) Shifts(rotation string, from, to time.Time) []rota.Shift {
	tl := r.timelines[rotation]
	if tl == nil {
		return nil
	}
	return tl.Shifts(from, to)
}

// WithOrg returns the roster for a reloaded organisation, keeping the
// overrides.
func (r *Roster) WithOrg(org *rota.Org) *Roster {
	n := &Roster{org: org, overrides: r.overrides, timelines: make(map[string]*Timeline, len(org.Rotations)), gen: generations.Add(1), leave: r.leave}
	for _, rot := range org.Rotations {
		old := r.timelines[rot.Name]
		if old == nil {
			old = NewTimeline(rot, r.overrides[rot.Name])
		}
		n.timelines[rot.Name] = old.withRotation(rot, n.away)
	}
	n.linkSchedules()
	return n
}

// WithOverrides returns the roster with rotation's overrides replaced.
func (r *Roster) WithOverrides(rotation string, overrides []rota.Override) *Roster {
	n := &Roster{org: r.org, overrides: make(map[string][]rota.Override, len(r.overrides)+1), timelines: make(map[string]*Timeline, len(r.timelines)), gen: generations.Add(1), leave: r.leave}
	for k, v := range r.overrides {
		n.overrides[k] = v
	}
	n.overrides[rotation] = overrides
	for k, v := range r.timelines {
		n.timelines[k] = v
	}
	if rot := r.org.Rotation(rotation); rot != nil {
		n.timelines[rotation] = NewTimeline(rot, overrides).withRotation(rot, n.away)
	}
	n.linkSchedules()
	return n
}

// WithLeave returns the roster with person's leave from calendars
// replaced; the configuration's leave stays.
func (r *Roster) WithLeave(person string, leave []rota.Leave) *Roster {
	n := &Roster{org: r.org, overrides: r.overrides, timelines: make(map[string]*Timeline, len(r.timelines)), gen: generations.Add(1),
		leave: make(map[string][]rota.Leave, len(r.leave)+1)}
	for k, v := range r.leave {
		n.leave[k] = v
	}
	sorted := append([]rota.Leave(nil), leave...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	n.leave[person] = sorted
	for _, rot := range r.org.Rotations {
		n.timelines[rot.Name] = r.timelines[rot.Name].withRotation(rot, n.away)
	}
	n.linkSchedules()
	return n
}

// Leave returns person's leave, from the configuration and calendars.
func (r *Roster) Leave(person string) []rota.Leave {
	var out []rota.Leave
	if p := r.org.Person(person); p != nil {
		out = append(out, p.PTO...)
	}
	return append(out, r.leave[person]...)
}

// away reports whether person has leave overlapping [start, end).
func (r *Roster) away(person string, start, end time.Time) bool {
	overlaps := func(ls []rota.Leave) bool {
		for _, l := range ls {
			if l.Start.Before(end) && l.End.After(start) {
				return true
			}
		}
		return false
	}
	if p := r.org.Person(person); p != nil && overlaps(p.PTO) {
		return true
	}
	return overlaps(r.leave[person])
}

// Overrides returns rotation's overrides as the roster holds them.
func (r *Roster) Overrides(rotation string) []rota.Override { return r.overrides[rotation] }

// WithOverride returns the roster with o added to its rotation.
func (r *Roster) WithOverride(o rota.Override) *Roster {
	old := r.overrides[o.Rotation]
	ovs := make([]rota.Override, 0, len(old)+1)
	ovs = append(append(ovs, old...), o)
	return r.WithOverrides(o.Rotation, ovs)
}

// WithoutOverride returns the roster without the override with id.
func (r *Roster) WithoutOverride(rotation string, id int64) *Roster {
	old := r.overrides[rotation]
	ovs := make([]rota.Override, 0, len(old))
	for _, o := range old {
		if o.ID != id {
			ovs = append(ovs, o)
		}
	}
	return r.WithOverrides(rotation, ovs)
}

// Book holds the current Roster. Readers take it without locking; changes
// are serialised so that each builds on the one before.
type Book struct {
	mu  sync.Mutex
	cur atomic.Pointer[Roster]
}

// NewBook returns a book holding r.
func NewBook(r *Roster) *Book {
	b := &Book{}
	b.cur.Store(r)
	return b
}

// Roster returns the current roster.
func (b *Book) Roster() *Roster { return b.cur.Load() }

// Update replaces the roster with what change makes of it. Changes run one
// at a time; one that fails leaves the roster as it was.
func (b *Book) Update(change func(*Roster) (*Roster, error)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := change(b.cur.Load())
	if err != nil {
		return err
	}
	b.cur.Store(n)
	return nil
}

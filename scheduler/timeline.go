package scheduler

import (
	"sort"
	"time"

	"github.com/rotahq/rota"
)

// Timeline is one rotation's final schedule: its cycle with its overrides
// laid on top. It is immutable and safe for concurrent use.
type Timeline struct {
	rotation string
	cyc      cycle
	// layers, on a schedule, are its rotations' timelines, lowest first.
	layers []*Timeline
	segs   []segment
}

// NewTimeline builds the timeline of r with the given overrides, which may
// be in any order and may overlap.
func NewTimeline(r *rota.Rotation, overrides []rota.Override) *Timeline {
	return &Timeline{rotation: r.Name, cyc: newCycle(r), segs: flatten(overrides)}
}

// withRotation returns the same overrides over a changed rotation, with
// members' leave.
func (tl *Timeline) withRotation(r *rota.Rotation, away func(string, time.Time, time.Time) bool) *Timeline {
	c := newCycle(r)
	c.away = away
	return &Timeline{rotation: r.Name, cyc: c, segs: tl.segs}
}

// At returns the shift holding t: an override's window, or the scheduled
// shift cut short where overrides begin or end within it. ok is false when
// nobody is on call at t (before the rotation starts, with no override).
func (tl *Timeline) At(t time.Time) (rota.Shift, bool) {
	tn := t.UnixNano()
	i := sort.Search(len(tl.segs), func(i int) bool { return tl.segs[i].end > tn })
	if i < len(tl.segs) && tl.segs[i].start <= tn {
		return tl.segShift(tl.segs[i]), true
	}
	b, ok := tl.baseAt(t)
	if !ok || b.person == "" {
		return rota.Shift{}, false
	}
	s := rota.Shift{Rotation: tl.rotation, Person: b.person, Start: b.start, End: b.end, CoveringFor: b.coveringFor, Layer: b.layer}
	if i > 0 && tl.segs[i-1].end > b.start.UnixNano() {
		s.Start = time.Unix(0, tl.segs[i-1].end).UTC()
	}
	if i < len(tl.segs) && tl.segs[i].start < b.end.UnixNano() {
		s.End = time.Unix(0, tl.segs[i].start).UTC()
	}
	return s, true
}

// Shifts returns the final shifts overlapping [from, to), in order, whole:
// the first may start before from and the last end after to.
func (tl *Timeline) Shifts(from, to time.Time) []rota.Shift {
	if !to.After(from) {
		return nil
	}
	fn, tn := from.UnixNano(), to.UnixNano()
	lo := sort.Search(len(tl.segs), func(i int) bool { return tl.segs[i].end > fn })
	hi := sort.Search(len(tl.segs), func(i int) bool { return tl.segs[i].start >= tn })
	segs := tl.segs[lo:hi]

	// The scheduled shifts around the range, minus the overrides' windows.
	// A scheduled shift may be cut into several pieces; each piece is kept
	// whole unless an override cuts it.
	var free []rota.Shift
	bases := tl.bases(from, to)
	k := sort.Search(len(tl.segs), func(i int) bool {
		return len(bases) == 0 || tl.segs[i].end > bases[0].start.UnixNano()
	})
	for _, b := range bases {
		bs, be := b.start.UnixNano(), b.end.UnixNano()
		c := bs
		piece := func(start, end int64) {
			if b.person != "" { // everyone on leave: a gap, no shift
				p := tl.piece(b.person, start, end)
				p.CoveringFor, p.Layer = b.coveringFor, b.layer
				free = append(free, p)
			}
		}
		for k < len(tl.segs) && tl.segs[k].start < be {
			sg := tl.segs[k]
			if sg.start > c {
				piece(c, sg.start)
			}
			if sg.end > c {
				c = sg.end
			}
			if sg.end > be {
				break
			}
			k++
		}
		if c < be {
			piece(c, be)
		}
	}

	out := make([]rota.Shift, 0, len(free)+len(segs))
	i := 0
	for _, sg := range segs {
		for i < len(free) && free[i].Start.UnixNano() < sg.start {
			out = appendOverlapping(out, free[i], fn, tn)
			i++
		}
		out = append(out, tl.segShift(sg))
	}
	for ; i < len(free); i++ {
		out = appendOverlapping(out, free[i], fn, tn)
	}
	return out
}

func appendOverlapping(out []rota.Shift, s rota.Shift, from, to int64) []rota.Shift {
	if s.End.UnixNano() > from && s.Start.UnixNano() < to {
		out = append(out, s)
	}
	return out
}

func (tl *Timeline) piece(person string, start, end int64) rota.Shift {
	return rota.Shift{Rotation: tl.rotation, Person: person, Start: time.Unix(0, start).UTC(), End: time.Unix(0, end).UTC()}
}

func (tl *Timeline) segShift(sg segment) rota.Shift {
	s := tl.piece(sg.person, sg.start, sg.end)
	s.OverrideID = sg.id
	return s
}

// withLayers returns the schedule's timeline over these layers' (lowest
// first), keeping its own overrides.
func (tl *Timeline) withLayers(layers []*Timeline) *Timeline {
	return &Timeline{rotation: tl.rotation, cyc: tl.cyc, layers: layers, segs: tl.segs}
}

// baseAt is the scheduled shift holding t before this timeline's own
// overrides: its cycle's, or on a schedule the shift of the highest layer
// with someone on call at t, cut where a higher layer takes over.
func (tl *Timeline) baseAt(t time.Time) (base, bool) {
	if len(tl.layers) == 0 {
		return tl.cyc.at(t)
	}
	for i := len(tl.layers) - 1; i >= 0; i-- {
		sh, ok := tl.layers[i].At(t)
		if !ok {
			continue
		}
		b := base{person: sh.Person, coveringFor: sh.CoveringFor, start: sh.Start, end: sh.End, layer: tl.layers[i].rotation}
		// A higher layer has nobody at t; where it has someone within
		// this shift, the shift ends (or began after it).
		for _, up := range tl.layers[i+1:] {
			for _, u := range up.Shifts(b.start, b.end) {
				if !u.End.After(t) {
					b.start = later(b.start, u.End)
				} else if u.Start.After(t) {
					b.end = earlier(b.end, u.Start)
					break
				}
			}
		}
		return b, true
	}
	return base{}, false
}

// bases are the scheduled shifts overlapping [from, to) before this
// timeline's own overrides: its cycle's, or on a schedule the layers'
// final shifts, each higher layer's covering the lower's.
func (tl *Timeline) bases(from, to time.Time) []base {
	if len(tl.layers) == 0 {
		return tl.cyc.shifts(from, to)
	}
	var covered []base // sorted, disjoint
	for i := len(tl.layers) - 1; i >= 0; i-- {
		var add []base
		for _, sh := range tl.layers[i].Shifts(from, to) {
			b := base{person: sh.Person, coveringFor: sh.CoveringFor, start: sh.Start, end: sh.End, layer: tl.layers[i].rotation}
			add = append(add, uncovered(b, covered)...)
		}
		covered = mergeBases(covered, add)
	}
	// A shift of the schedule is a layer's shift, whole where no higher
	// layer cut it; those that lie outside the range are dropped.
	out := covered[:0]
	for _, b := range covered {
		if b.end.After(from) && b.start.Before(to) {
			out = append(out, b)
		}
	}
	return out
}

// uncovered is what of b no base in covered (sorted, disjoint) covers.
func uncovered(b base, covered []base) []base {
	var out []base
	start := b.start
	i := sort.Search(len(covered), func(i int) bool { return covered[i].end.After(b.start) })
	for ; i < len(covered) && covered[i].start.Before(b.end); i++ {
		c := covered[i]
		if c.start.After(start) {
			p := b
			p.start, p.end = start, c.start
			out = append(out, p)
		}
		start = later(start, c.end)
	}
	if start.Before(b.end) {
		p := b
		p.start = start
		out = append(out, p)
	}
	return out
}

// mergeBases merges two sorted lists of disjoint bases.
func mergeBases(a, b []base) []base {
	out := make([]base, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || i < len(a) && a[i].start.Before(b[j].start) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return out
}

package scheduler

import (
	"container/heap"
	"sort"

	"github.com/rotahq/rota"
)

// segment is a stretch of time in which one override is in force. Segments
// of a rotation are sorted, never overlap, and are built once per change to
// the rotation's overrides so that queries are binary searches.
type segment struct {
	start, end int64 // Unix nanoseconds, [start, end)
	person     string
	id         int64
}

// flatten lays overrides on top of each other, the one created last (the
// highest ID) winning where they overlap, and returns the resulting
// segments. Adjacent pieces of the same override are joined.
func flatten(ovs []rota.Override) []segment {
	if len(ovs) == 0 {
		return nil
	}
	type event struct {
		at    int64
		i     int
		begin bool
	}
	events := make([]event, 0, 2*len(ovs))
	for i, o := range ovs {
		if !o.End.After(o.Start) {
			continue
		}
		events = append(events, event{o.Start.UnixNano(), i, true}, event{o.End.UnixNano(), i, false})
	}
	sort.Slice(events, func(a, b int) bool { return events[a].at < events[b].at })

	active := &byID{ovs: ovs}
	ended := make(map[int]bool)
	var segs []segment
	for e := 0; e < len(events); {
		at := events[e].at
		for ; e < len(events) && events[e].at == at; e++ {
			if events[e].begin {
				heap.Push(active, events[e].i)
			} else {
				ended[events[e].i] = true
			}
		}
		for active.Len() > 0 && ended[active.idx[0]] {
			heap.Pop(active)
		}
		if active.Len() == 0 || e == len(events) {
			continue
		}
		next := events[e].at
		top := ovs[active.idx[0]]
		if n := len(segs); n > 0 && segs[n-1].end == at && segs[n-1].id == top.ID {
			segs[n-1].end = next
			continue
		}
		segs = append(segs, segment{start: at, end: next, person: top.Person, id: top.ID})
	}
	return segs
}

// byID is a max-heap of override indexes ordered by override ID, so the
// latest-created active override is on top.
type byID struct {
	ovs []rota.Override
	idx []int
}

func (h *byID) Len() int           { return len(h.idx) }
func (h *byID) Less(a, b int) bool { return h.ovs[h.idx[a]].ID > h.ovs[h.idx[b]].ID }
func (h *byID) Swap(a, b int)      { h.idx[a], h.idx[b] = h.idx[b], h.idx[a] }
func (h *byID) Push(x any)         { h.idx = append(h.idx, x.(int)) }
func (h *byID) Pop() any {
	n := len(h.idx) - 1
	x := h.idx[n]
	h.idx = h.idx[:n]
	return x
}

package config

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps every key path in a TOML document ("people[2].timezone",
// "rotations[0].members[1]") to the line it is written on, so that problems
// found after decoding still point at a line.
type positions map[string]int

// line returns the line of path, or of its nearest enclosing key that has
// one: a missing key is reported on the table that lacks it.
func (ps positions) line(path string) int {
	for path != "" {
		if l, ok := ps[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

func indexPositions(data []byte) positions {
	ps := positions{}
	arrays := map[string]int{} // array-of-tables path -> elements so far
	var p unstable.Parser
	p.Reset(data)
	line := func(n *unstable.Node) int {
		if n == nil || n.Raw.Length == 0 {
			return 0
		}
		return p.Shape(n.Raw).Start.Line
	}
	// resolve joins key parts into a path, stepping into the last element
	// of any array of tables on the way (all parts but the last when
	// declaring a new element).
	resolve := func(base string, it unstable.Iterator, lastToo bool) (string, *unstable.Node) {
		path := base
		var first *unstable.Node
		for it.Next() {
			n := it.Node()
			if first == nil {
				first = n
			}
			path = join(path, string(n.Data))
			if c := arrays[path]; c > 0 && (lastToo || !it.IsLast()) {
				path += "[" + strconv.Itoa(c-1) + "]"
			}
		}
		return path, first
	}
	current := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			path, first := resolve("", e.Key(), true)
			current = path
			setLine(ps, path, line(first))
		case unstable.ArrayTable:
			path, first := resolve("", e.Key(), false)
			n := arrays[path]
			arrays[path] = n + 1
			current = path + "[" + strconv.Itoa(n) + "]"
			setLine(ps, current, line(first))
		case unstable.KeyValue:
			path, first := resolve(current, e.Key(), true)
			setLine(ps, path, line(first))
			indexValue(ps, path, e.Value(), line)
		}
	}
	return ps
}

func indexValue(ps positions, path string, v *unstable.Node, line func(*unstable.Node) int) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind != unstable.KeyValue {
				continue
			}
			p := path
			keys := kv.Key()
			var first *unstable.Node
			for keys.Next() {
				if first == nil {
					first = keys.Node()
				}
				p = join(p, string(keys.Node().Data))
			}
			setLine(ps, p, line(first))
			indexValue(ps, p, kv.Value(), line)
		}
	case unstable.Array:
		it := v.Children()
		i := 0
		for it.Next() {
			n := it.Node()
			if n.Kind == unstable.Comment {
				continue
			}
			p := path + "[" + strconv.Itoa(i) + "]"
			setLine(ps, p, line(n))
			indexValue(ps, p, n, line)
			i++
		}
	}
}

func setLine(ps positions, path string, l int) {
	if _, ok := ps[path]; !ok && l > 0 {
		ps[path] = l
	}
}

func join(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong (or worth a warning) in a configuration file,
// with where the decoder found it.
type Problem struct {
	File    string
	Line    int    // 0 when the problem has no line, such as a missing file
	Path    string // the key, as "rotations[1].shift"
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is the error Load and Parse return: every problem found in the
// file, in the order of their lines.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (ps Problems) sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Path < ps[j].Path
	})
	return ps
}

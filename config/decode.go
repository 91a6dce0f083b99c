package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// decoder fills the file's structs from the generic values go-toml parsed,
// strictly: an unknown key or a value of the wrong type is a problem, and
// decoding goes on so that every problem in the file is reported at once
// (go-toml's own decoder stops at the first type mismatch).
type decoder struct {
	pos      positions
	problems []problemAt
}

type problemAt struct {
	path, msg string
}

func (d *decoder) addf(path, format string, args ...any) {
	d.problems = append(d.problems, problemAt{path, fmt.Sprintf(format, args...)})
}

func (d *decoder) decode(path string, v any, rv reflect.Value) {
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		d.decode(path, v, rv.Elem())
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			d.addf(path, "expected a table, got %s", describe(v))
			return
		}
		fields := tomlFields(rv.Type())
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			i, ok := fields[k]
			if !ok {
				d.addf(join(path, k), "unknown key%s", suggest(k, fields))
				continue
			}
			d.decode(join(path, k), m[k], rv.Field(i))
		}
	case reflect.Slice:
		items := reflect.ValueOf(v)
		if v == nil || items.Kind() != reflect.Slice {
			d.addf(path, "expected an array, got %s", describe(v))
			return
		}
		out := reflect.MakeSlice(rv.Type(), items.Len(), items.Len())
		for i := 0; i < items.Len(); i++ {
			d.decode(path+"["+strconv.Itoa(i)+"]", items.Index(i).Interface(), out.Index(i))
		}
		rv.Set(out)
	case reflect.String:
		switch s := v.(type) {
		case string:
			rv.SetString(s)
		case toml.LocalDate:
			rv.SetString(s.String())
		case toml.LocalTime:
			rv.SetString(s.String()[:5])
		default:
			d.addf(path, "expected a string, got %s", describe(v))
		}
	case reflect.Int:
		n, ok := v.(int64)
		if !ok {
			d.addf(path, "expected an integer, got %s", describe(v))
			return
		}
		rv.SetInt(n)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.addf(path, "expected true or false, got %s", describe(v))
			return
		}
		rv.SetBool(b)
	default:
		panic("config: cannot decode into " + rv.Type().String())
	}
}

func tomlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" {
			m[tag] = i
		}
	}
	return m
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("a string (%q)", x)
	case int64:
		return fmt.Sprintf("an integer (%d)", x)
	case float64:
		return fmt.Sprintf("a float (%g)", x)
	case bool:
		return fmt.Sprintf("a boolean (%t)", x)
	case map[string]any:
		return "a table"
	case toml.LocalDate:
		return "a date"
	case toml.LocalTime:
		return "a time"
	case toml.LocalDateTime, time.Time:
		return "a date-time"
	}
	if reflect.ValueOf(v).Kind() == reflect.Slice {
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// suggest names a known key close to an unknown one, for typos.
func suggest(key string, fields map[string]int) string {
	best, bestD := "", 3
	for f := range fields {
		if d := distance(key, f); d < bestD || (d == bestD && best != "" && f < best) {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	a, b = strings.ToLower(a), strings.ToLower(b)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

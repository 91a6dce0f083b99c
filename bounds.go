package rota

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// The instants rota takes: 1970 to 2200. Outside them a schedule has no
// meaning, and arithmetic on them goes wrong (year 9999 overflows).
var (
	MinTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CheckTime returns a field error unless t lies in [MinTime, MaxTime).
func CheckTime(field string, t time.Time) error {
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return FieldError(field, "%s is outside the times rota takes (1970 to 2200)", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// CheckText returns a field error when s is not valid UTF-8 or holds a NUL
// byte: text rota stores and sends is printable.
func CheckText(field, s string) error {
	switch {
	case !utf8.ValidString(s):
		return FieldError(field, "is not valid UTF-8")
	case containsNUL(s):
		return FieldError(field, "holds a NUL character")
	}
	return nil
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// checkTexts checks fields by name, in order.
func checkTexts(fields ...string) error {
	if len(fields)%2 != 0 {
		panic(fmt.Sprintf("checkTexts: %d arguments", len(fields)))
	}
	for i := 0; i < len(fields); i += 2 {
		if err := CheckText(fields[i], fields[i+1]); err != nil {
			return err
		}
	}
	return nil
}

package rota

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestParseHandoff(t *testing.T) {
	for in, want := range map[string]Handoff{
		"tuesday 10:00":  {Weekday: time.Tuesday, Time: 600},
		"TUE 10:00":      {Weekday: time.Tuesday, Time: 600},
		"sun 00:00":      {Weekday: time.Sunday, Time: 0},
		" friday  23:59": {Weekday: time.Friday, Time: 23*60 + 59},
		"09:30":          {Time: 9*60 + 30, AnyDay: true}, // a daily rotation's
	} {
		got, err := ParseHandoff(in)
		if err != nil || got != want {
			t.Errorf("ParseHandoff(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "24:00", "tuesday", "tuesday 24:00", "tuesday 9:00", "tusday 10:00", "tuesday 10:00 CET"} {
		if _, err := ParseHandoff(bad); err == nil {
			t.Errorf("ParseHandoff(%q) accepted", bad)
		}
	}
}

func TestBusinessHoursContains(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	h := DefaultBusinessHours()
	h.Holidays = []string{"2026-12-25"}
	for _, tt := range []struct {
		at   string
		want bool
	}{
		{"2026-03-10T08:59:00+01:00", false},
		{"2026-03-10T09:00:00+01:00", true},
		{"2026-03-10T16:59:00+01:00", true},
		{"2026-03-10T17:00:00+01:00", false},
		{"2026-03-14T12:00:00+01:00", false}, // Saturday
		{"2026-12-25T12:00:00+01:00", false}, // holiday
		{"2026-03-10T08:30:00Z", true},       // 09:30 in Berlin
	} {
		at, _ := time.Parse(time.RFC3339, tt.at)
		if got := h.Contains(at, berlin); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestValidE164(t *testing.T) {
	for s, want := range map[string]bool{
		"+4915112345678": true, "+12125550105": true, "+0123456789": false, "4915112345678": false,
		"+49 151": false, "+1": false, "+1234567890123456": false, "+49151abc": false,
	} {
		if got := ValidE164(s); got != want {
			t.Errorf("ValidE164(%q) = %v", s, got)
		}
	}
}

func TestErrors(t *testing.T) {
	err := fmt.Errorf("create: %w", FieldError("start", "is required"))
	if ErrorCode(err) != EINVALID || ErrorField(err) != "start" || ErrorMessage(err) != "start: is required" {
		t.Errorf("wrapped field error: %q %q %q", ErrorCode(err), ErrorField(err), ErrorMessage(err))
	}
	plain := errors.New("disk on fire")
	if ErrorCode(plain) != EINTERNAL || ErrorMessage(plain) != "internal error" {
		t.Errorf("internal errors must not leak: %q", ErrorMessage(plain))
	}
	if ErrorCode(nil) != "" {
		t.Error("nil has a code")
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		Week: "1w", 182 * Day: "182d", 3 * Day: "3d", 90 * time.Minute: "1h30m", 5 * time.Minute: "5m", 2 * time.Hour: "2h",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("%v does not round-trip: %v %v", d, back, err)
		}
	}
}

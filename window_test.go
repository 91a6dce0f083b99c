package rota

import "testing"

func TestWindowRoundTrip(t *testing.T) {
	for in, want := range map[string]string{
		"mon-fri 08:00-20:00":     "mon-fri 08:00-20:00",
		"sat,sun 00:00-24:00":     "sat,sun 00:00-24:00",
		"daily 20:00-08:00":       "daily 20:00-08:00",
		"sun-sat 09:00-17:00":     "daily 09:00-17:00",
		"fri-mon 18:00-06:00":     "mon,fri-sun 18:00-06:00",
		"tue,thu 10:00-11:30":     "tue,thu 10:00-11:30",
		"Mon-Wed,Fri 07:00-19:00": "mon-wed,fri 07:00-19:00",
	} {
		w, err := ParseWindow(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := w.String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
		if again, err := ParseWindow(w.String()); err != nil || again != w {
			t.Errorf("%s does not read back: %v", w, err)
		}
	}
	for _, bad := range []string{"", "mon", "mon 08:00", "mon 8-20", "xyz 08:00-09:00", "mon 25:00-26:00", "mon 10:00-10:00", "mon 24:00-08:00"} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if w, _ := ParseWindow("mon 20:00-08:00"); !w.Overnight() {
		t.Error("20:00-08:00 is overnight")
	}
}

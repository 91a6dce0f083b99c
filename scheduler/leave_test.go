package scheduler

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rotahq/rota"
)

// ptoICS has a recurring weekly day off (Fridays, all day), an all-day
// vacation (1-14 July), a busy meeting, and events that are not leave: a
// transparent one, a cancelled one, one Outlook marks free.
const ptoICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:friday\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260306\r\nDTEND;VALUE=DATE:20260307\r\nRRULE:FREQ=WEEKLY;BYDAY=FR\r\nEXDATE;VALUE=DATE:20260320\r\nSUMMARY:Day off\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:vacation\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260701\r\nDTEND;VALUE=DATE:20260715\r\nSUMMARY:Vacation\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:dentist\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260310T130000Z\r\nDTEND:20260310T150000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:free\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260311T130000Z\r\nDTEND:20260311T150000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:cancelled\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260312T130000Z\r\nDTEND:20260312T150000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:outlook-free\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260313T130000Z\r\nDTEND:20260313T150000Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:FREE\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func TestParseLeave(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 31, 0, 0, 0, 0, time.UTC)
	ls, err := ParseLeave([]byte(ptoICS), berlin, from, to, "calendar")
	if err != nil {
		t.Fatal(err)
	}
	fridays, vacation, dentist := 0, 0, 0
	for _, l := range ls {
		s := l.Start.In(berlin)
		switch l.Summary {
		case "Day off":
			fridays++
			if s.Weekday() != time.Friday || s.Hour() != 0 || l.End.Sub(l.Start) > 25*time.Hour || s.Day() == 20 && s.Month() == 3 {
				t.Errorf("day off %v–%v", s, l.End.In(berlin))
			}
		case "Vacation":
			vacation++
			if !l.Start.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, berlin)) || !l.End.Equal(time.Date(2026, 7, 15, 0, 0, 0, 0, berlin)) {
				t.Errorf("vacation %v–%v", l.Start.In(berlin), l.End.In(berlin))
			}
		case "Dentist":
			dentist++
		default:
			t.Errorf("not leave: %+v", l)
		}
	}
	// Fridays from 6 March to 31 July, less the excluded 20 March.
	if fridays != 21 || vacation != 1 || dentist != 1 {
		t.Errorf("%d Fridays, %d vacations, %d dentists", fridays, vacation, dentist)
	}
	rdate := strings.Replace(ptoICS, "SUMMARY:Dentist\r\n", "SUMMARY:Dentist\r\nRDATE:20260317T130000Z\r\n", 1)
	if _, err := ParseLeave([]byte(rdate), berlin, from, to, "c"); err == nil || !strings.Contains(err.Error(), "RDATE, which rota does not support: use RRULE") {
		t.Errorf("RDATE: %v", err)
	}
	if _, err := ParseLeave([]byte("<html>"), berlin, from, to, "c"); err == nil {
		t.Error("accepted HTML")
	}
}

func dailyRotation(loc *time.Location) *rota.Rotation {
	return &rota.Rotation{Name: "daily", Members: []string{"alice", "bruno", "chloe"}, ShiftDays: 1,
		Handoff: rota.Handoff{Weekday: time.Monday, Time: rota.Clock(9 * 60)}, Location: loc, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, loc)}
}

func TestLeaveSkipsExactlyThoseShifts(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	people := []*rota.Person{{Name: "alice", Location: berlin}, {Name: "bruno", Location: berlin}, {Name: "chloe", Location: berlin}}
	rot := dailyRotation(berlin)
	roster := NewRoster(rota.NewOrg(people, nil, []*rota.Rotation{rot}, nil, nil), nil)
	plain := roster.Shifts("daily", time.Date(2026, 3, 2, 9, 0, 0, 0, berlin), time.Date(2026, 4, 30, 0, 0, 0, 0, berlin))
	ls, _ := ParseLeave([]byte(ptoICS), berlin, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 31, 0, 0, 0, 0, time.UTC), "calendar")
	withLeave := roster.WithLeave("alice", ls)
	got := withLeave.Shifts("daily", time.Date(2026, 3, 2, 9, 0, 0, 0, berlin), time.Date(2026, 4, 30, 0, 0, 0, 0, berlin))
	if len(got) != len(plain) {
		t.Fatalf("%d shifts with leave, %d without", len(got), len(plain))
	}
	changed := 0
	for i, sh := range got {
		away := false
		for _, l := range ls {
			if l.Start.Before(sh.End) && l.End.After(sh.Start) {
				away = true
			}
		}
		switch {
		case plain[i].Person == "alice" && away:
			changed++
			if sh.Person != "bruno" || sh.CoveringFor != "alice" {
				t.Errorf("%s: %s covering for %q, want bruno covering for alice", sh.Start.In(berlin), sh.Person, sh.CoveringFor)
			}
		default:
			if sh.Person != plain[i].Person || sh.CoveringFor != "" {
				t.Errorf("%s: %s, want %s as scheduled", sh.Start.In(berlin), sh.Person, plain[i].Person)
			}
		}
	}
	if changed == 0 {
		t.Fatal("alice was never on leave on her shift: the test tests nothing")
	}
	// Configured PTO counts too, and with everyone away there is a gap.
	people[1].PTO = []rota.Leave{{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), Source: "config"}}
	people[2].PTO = people[1].PTO
	people[0].PTO = people[1].PTO
	r2 := NewRoster(rota.NewOrg(people, nil, []*rota.Rotation{rot}, nil, nil), nil)
	if _, ok := r2.OnCall("daily", time.Date(2026, 3, 2, 12, 0, 0, 0, berlin)); ok {
		t.Error("everyone on leave, yet someone is on call")
	}
	if sh, ok := r2.OnCall("daily", time.Date(2026, 3, 4, 12, 0, 0, 0, berlin)); !ok || sh.CoveringFor != "" {
		t.Errorf("after the leave: %+v %v", sh, ok)
	}
}

type memLeave struct{ saved atomic.Int32 }

func (m *memLeave) SaveLeave(context.Context, string, []rota.Leave, time.Time) error {
	m.saved.Add(1)
	return nil
}

func TestLeaveFetcherKeepsLastGoodCopy(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		io.WriteString(w, ptoICS)
	}))
	defer srv.Close()
	alice := &rota.Person{Name: "alice", Location: berlin, PTOCalendar: srv.URL + "/alice.ics?secret=x"}
	people := []*rota.Person{alice, {Name: "bruno", Location: berlin}, {Name: "chloe", Location: berlin}}
	book := NewBook(NewRoster(rota.NewOrg(people, nil, []*rota.Rotation{dailyRotation(berlin)}, nil, nil), nil))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store := &memLeave{}
	failures := 0
	f := &LeaveFetcher{Book: book, Store: store, Client: srv.Client(), Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Past: rota.Week, Future: 200 * rota.Day, Failed: func(string) { failures++ }}
	// Friday 10 April is day 39 of the rotation: 39 mod 3 = 0, alice's.
	friday := time.Date(2026, 4, 10, 12, 0, 0, 0, berlin)
	before, _ := book.Roster().OnCall("daily", friday)
	if before.Person != "alice" {
		t.Fatalf("the test expects alice on call on %s, not %s", friday, before.Person)
	}
	f.FetchAll(context.Background())
	if len(book.Roster().Leave("alice")) == 0 || store.saved.Load() != 1 {
		t.Fatalf("nothing fetched: %v", f.Status())
	}
	fail.Store(true)
	if err := f.Fetch(context.Background(), alice); err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("failed fetch: %v", err)
	}
	if n := len(book.Roster().Leave("alice")); n == 0 || failures != 1 {
		t.Fatalf("a failed fetch cleared the leave (%d) or was not counted (%d)", n, failures)
	}
	if st := f.Status()["alice"]; st.Error == "" || st.Count == 0 {
		t.Errorf("status: %+v", st)
	}
	after, _ := book.Roster().OnCall("daily", friday)
	if after.Person != "bruno" || after.CoveringFor != "alice" {
		t.Errorf("on alice's Friday: %s covering %q", after.Person, after.CoveringFor)
	}
}

func TestParseCronRecovers(t *testing.T) {
	for _, bad := range []string{"TZ=0", "CRON_TZ=Europe/Berlin", "61 * * * *", "every day"} {
		if _, err := ParseCron(bad); err == nil {
			t.Errorf("ParseCron(%q) accepted", bad)
		}
	}
	if _, err := ParseCron("*/30 * * * *"); err != nil {
		t.Error(err)
	}
}

package policy

import (
	"testing"
	"time"

	"github.com/rotahq/rota"
)

func bob(t *testing.T) *rota.Person {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	h := rota.DefaultBusinessHours()
	h.Holidays = []string{"2026-12-25"}
	return &rota.Person{Name: "bob", Location: berlin, Hours: h}
}

func at(t *testing.T, p *rota.Person, s string) time.Time {
	v, err := time.ParseInLocation("2006-01-02 15:04", s, p.Location)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOffHours(t *testing.T) {
	p := bob(t)
	for s, want := range map[string]bool{
		"2026-03-10 16:59": false, "2026-03-10 17:01": true, "2026-03-10 08:59": true, "2026-03-10 09:00": false,
		"2026-03-14 12:00": true,  // Saturday
		"2026-12-25 12:00": true,  // a holiday
		"2026-03-31 16:30": false, // after the DST change, local hours hold
	} {
		if got := OffHours(p, at(t, p, s)); got != want {
			t.Errorf("%s: off-hours %v, want %v", s, got, want)
		}
	}
	if !SleepHours(p, at(t, p, "2026-03-10 23:00")) || !SleepHours(p, at(t, p, "2026-03-11 07:59")) || SleepHours(p, at(t, p, "2026-03-10 21:59")) {
		t.Error("sleep hours are 22:00 to 08:00")
	}
}

func TestWeekStart(t *testing.T) {
	p := bob(t)
	// Sunday 23:30 in Berlin is still the week that began Monday 23 March,
	// though in UTC it is Sunday 21:30: weeks are the person's.
	if got := WeekStart(at(t, p, "2026-03-29 23:30"), p.Location); !got.Equal(at(t, p, "2026-03-23 00:00")) {
		t.Errorf("week of Sun 29 Mar 23:30: %v", got.In(p.Location))
	}
	// The DST week: Monday 30 March 00:00 CEST.
	if got := WeekStart(at(t, p, "2026-04-01 12:00"), p.Location); !got.Equal(at(t, p, "2026-03-30 00:00")) {
		t.Errorf("week of Wed 1 Apr: %v", got.In(p.Location))
	}
	ny, _ := time.LoadLocation("America/New_York")
	// Monday 01:00 in Berlin is Sunday evening in New York: last week there.
	if got := WeekStart(at(t, p, "2026-03-30 01:00"), ny); got.In(ny).Day() != 23 {
		t.Errorf("New York week: %v", got.In(ny))
	}
}

func page(id int64, p *rota.Person, at time.Time) rota.Page {
	return rota.Page{IncidentID: id, Person: p.Name, At: at, OffHours: OffHours(p, at)}
}

// facts reads from a history what the store would for an item: the
// interruptions of its week up to it, the off-hours incidents of the
// rolling window ending at it.
func facts(p *rota.Person, slo rota.HumanSLO, history []rota.Page, item rota.AccountItem) (week, off []rota.Page) {
	ws, from := BudgetWindows(p, slo, item.At)
	for _, pg := range history {
		if !pg.At.Before(ws) && !pg.At.After(item.At) {
			week = append(week, pg)
		}
		if pg.OffHours && pg.At.After(from) && !pg.At.After(item.At) {
			off = append(off, pg)
		}
	}
	return week, off
}

func TestBurns(t *testing.T) {
	p := bob(t)
	slo := rota.DefaultHumanSLO()
	mon := func(s string) time.Time { return at(t, p, s) }
	tests := []struct {
		name   string
		before []rota.Page
		page   rota.Page
		burns  []string
		npages int
	}{
		{"two pages a week is the budget, not a burn",
			[]rota.Page{page(1, p, mon("2026-03-09 10:00"))}, page(2, p, mon("2026-03-10 10:00")), nil, 0},
		{"the third page of the week burns it",
			[]rota.Page{page(1, p, mon("2026-03-09 10:00")), page(2, p, mon("2026-03-10 10:00"))}, page(3, p, mon("2026-03-11 10:00")), []string{BudgetWeekly}, 3},
		{"a page last week does not count",
			[]rota.Page{page(1, p, mon("2026-03-08 10:00")), page(2, p, mon("2026-03-10 10:00"))}, page(3, p, mon("2026-03-11 10:00")), nil, 0},
		{"Sunday night in the person's zone is the same week",
			[]rota.Page{page(1, p, mon("2026-03-23 10:00")), page(2, p, mon("2026-03-24 10:00"))}, page(3, p, mon("2026-03-29 23:30")), []string{BudgetWeekly}, 3},
		{"the fourth page is past it too (recorded once per window by the store)",
			[]rota.Page{page(1, p, mon("2026-03-09 10:00")), page(2, p, mon("2026-03-10 10:00")), page(3, p, mon("2026-03-10 11:00"))}, page(4, p, mon("2026-03-11 10:00")), []string{BudgetWeekly}, 4},
		{"a later page accounted late does not change an earlier one's",
			[]rota.Page{page(1, p, mon("2026-03-09 10:00")), page(3, p, mon("2026-03-11 10:00"))}, page(2, p, mon("2026-03-10 10:00")), nil, 0},
		{"a first off-hours incident is within the budget",
			nil, page(1, p, mon("2026-03-10 17:01")), nil, 0},
		{"16:59 is business hours: no off-hours burn",
			[]rota.Page{page(1, p, mon("2026-01-10 03:00"))}, page(2, p, mon("2026-03-10 16:59")), nil, 0},
		{"a second off-hours incident within 182 days burns",
			[]rota.Page{page(1, p, mon("2026-01-10 03:00"))}, page(2, p, mon("2026-03-10 17:01")), []string{BudgetOffHours}, 2},
		{"one more than 182 days later does not",
			[]rota.Page{page(1, p, mon("2025-09-01 03:00"))}, page(2, p, mon("2026-03-10 17:01")), nil, 0},
		{"a holiday at noon is off-hours",
			[]rota.Page{page(1, p, mon("2026-12-19 03:00"))}, page(2, p, mon("2026-12-25 12:00")), []string{BudgetOffHours}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := rota.AccountItem{Person: p.Name, IncidentID: tt.page.IncidentID, At: tt.page.At, Interruption: true, OffHours: tt.page.OffHours}
			week, off := facts(p, slo, append(tt.before, tt.page), item)
			got := Burns(p, "payments", slo, item, week, off)
			var kinds []string
			for _, b := range got {
				kinds = append(kinds, b.Budget)
			}
			if len(kinds) != len(tt.burns) || (len(kinds) > 0 && kinds[0] != tt.burns[0]) {
				t.Fatalf("burns %v, want %v", kinds, tt.burns)
			}
			if len(got) > 0 && len(got[0].Pages) != tt.npages {
				t.Errorf("%d pages in the burn, want %d", len(got[0].Pages), tt.npages)
			}
		})
	}
	// An off-hours incident that joined an ongoing interruption burns the
	// six-month budget, not the weekly one.
	item := rota.AccountItem{Person: p.Name, IncidentID: 2, At: mon("2026-03-10 23:00"), OffHours: true}
	week, off := facts(p, slo, []rota.Page{page(1, p, mon("2026-01-10 03:00")), page(7, p, mon("2026-03-09 10:00")),
		page(8, p, mon("2026-03-09 11:00")), page(9, p, mon("2026-03-10 22:50"))}, item)
	if got := Burns(p, "payments", slo, item, week, off); len(got) != 1 || got[0].Budget != BudgetOffHours {
		t.Errorf("off-hours incident inside an interruption: %+v", got)
	}
}

func TestAccount(t *testing.T) {
	p := bob(t)
	interruptions := []rota.Page{
		page(1, p, at(t, p, "2026-03-09 10:00")),
		page(2, p, at(t, p, "2026-03-10 23:30")),
		page(3, p, at(t, p, "2026-03-11 18:00")),
		page(5, p, at(t, p, "2026-03-02 10:00")), // last week
	}
	pages := append(interruptions, page(4, p, at(t, p, "2026-03-11 18:05"))) // joined the interruption of 3
	st := Account(p, rota.DefaultHumanSLO(), interruptions, pages, at(t, p, "2026-03-12 12:00"))
	if st.WeekPages != 3 || !st.WeekBurned || st.OffHours != 3 || st.SleepHours != 1 || !st.OffHoursBurn {
		t.Errorf("%+v", st)
	}
}

func TestNextBusinessStart(t *testing.T) {
	p := bob(t)
	for in, want := range map[string]string{
		"2026-03-10 03:00": "2026-03-10 09:00", // Tuesday night
		"2026-03-13 18:00": "2026-03-16 09:00", // Friday evening: Monday
		"2026-12-24 18:00": "2026-12-28 09:00", // Christmas (a holiday) and the weekend
		"2026-03-10 10:30": "2026-03-10 10:30", // in business hours: now
		"2026-03-10 09:00": "2026-03-10 09:00",
	} {
		if got := NextBusinessStart(p, at(t, p, in)); !got.Equal(at(t, p, want)) {
			t.Errorf("%s: %s, want %s", in, got.In(p.Location).Format("2006-01-02 15:04"), want)
		}
	}
}

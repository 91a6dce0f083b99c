package importer

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/importer/pagerdutytest"
	"github.com/rotahq/rota/scheduler"
)

var pdPeople = map[string]string{"PALICE": "alice", "PBRUNO": "bruno", "PCHLOE": "chloe", "PDANA": "dana"}

func layer(name, vs string, turn uint, users ...string) pagerduty.ScheduleLayer {
	l := pagerduty.ScheduleLayer{Name: name, Start: vs, RotationVirtualStart: vs, RotationTurnLengthSeconds: turn}
	for _, u := range users {
		l.Users = append(l.Users, pagerduty.UserReference{User: pagerduty.APIObject{ID: u, Type: "user_reference"}})
	}
	return l
}

// TestPagerDutyLayers: each kind of layer as rota writes it, and what it
// reports.
func TestPagerDutyLayers(t *testing.T) {
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	weekly := layer("Weekly", "2026-01-06T10:00:00+01:00", 604800, "PALICE", "PBRUNO", "PCHLOE")
	fortnight := layer("Fortnight", "2026-01-05T09:00:00+01:00", 1209600, "PALICE", "PBRUNO")
	days := layer("Days", "2026-01-05T08:00:00+01:00", 86400, "PDANA")
	days.Restrictions = []pagerduty.Restriction{{Type: "daily_restriction", StartTimeOfDay: "08:00:00", DurationSeconds: 43200}}
	nights := layer("Nights", "2026-01-05T20:00:00+01:00", 86400, "PDANA", "PBRUNO")
	nights.Restrictions = []pagerduty.Restriction{{Type: "daily_restriction", StartTimeOfDay: "20:00:00", DurationSeconds: 43200}}
	workweek := layer("Work week", "2026-01-05T09:00:00+01:00", 604800, "PALICE")
	workweek.Restrictions = []pagerduty.Restriction{{Type: "weekly_restriction", StartDayOfWeek: 1, StartTimeOfDay: "09:00:00", DurationSeconds: 104 * 3600}}
	later := layer("Later", "2026-01-06T10:00:00+01:00", 604800, "PALICE", "PBRUNO", "PCHLOE")
	later.Start = "2026-02-05T12:00:00+01:00" // 4 turns and 2 days on: chloe's week (turn 4 → bruno? counted below)
	halfDays := layer("Halves", "2026-01-05T08:00:00+01:00", 43200, "PALICE", "PBRUNO")
	stranger := layer("Stranger", "2026-01-06T10:00:00+01:00", 604800, "PALICE", "PZED")
	for _, tt := range []struct {
		name     string
		l        pagerduty.ScheduleLayer
		want     string // the rotation's TOML, without its comment
		findings []string
	}{
		{"weekly", weekly, `members = ["alice", "bruno", "chloe"]|shift = "1w"|handoff = "tuesday 10:00"|timezone = "Europe/Berlin"|start = 2026-01-06`, nil},
		{"two-week turns are weeks taken twice", fortnight, `members = ["alice", "alice", "bruno", "bruno"]|shift = "1w"|handoff = "monday 09:00"|start = 2026-01-05`, nil},
		{"a daily restriction", days, `shift = "1d"|handoff = "08:00"|active = ["daily 08:00-20:00"]`, nil},
		{"overnight", nights, `members = ["dana", "bruno"]|handoff = "20:00"|active = ["daily 20:00-08:00"]`, nil},
		{"a weekly restriction over days", workweek, `active = ["mon 09:00-24:00", "tue 00:00-24:00", "wed 00:00-24:00", "thu 00:00-24:00", "fri 00:00-17:00"]`,
			[]string{"in a week the clocks change it ends an hour later or earlier"}},
		{"a layer begun after its virtual start", later, `members = ["bruno", "chloe", "alice"]|start = 2026-02-03|handoff = "tuesday 10:00"`, nil},
		{"half-day turns", halfDays, "", []string{`turns of 12h0m0s: rota's shifts are whole days`}},
		{"someone not imported", stranger, `members = ["alice"]`, []string{"user  (PZED) was not imported"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs, sched, fs := PagerDutySchedule(pagerduty.Schedule{APIObject: pagerduty.APIObject{ID: "PSCHED"}, Name: "Payments On-Call", TimeZone: "Europe/Berlin",
				ScheduleLayers: []pagerduty.ScheduleLayer{tt.l}}, "payments", pdPeople, now)
			if sched != nil {
				t.Errorf("one layer made a schedule: %+v", sched)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.String())
			}
			for _, want := range tt.findings {
				if !strings.Contains(strings.Join(got, "\n"), want) {
					t.Errorf("findings %q lack %q", got, want)
				}
			}
			if len(tt.findings) == 0 && len(got) > 0 {
				t.Errorf("unexpected findings: %q", got)
			}
			if tt.want == "" {
				if len(rs) != 0 {
					t.Errorf("a rotation for what rota cannot hold: %+v", rs)
				}
				return
			}
			if len(rs) != 1 || rs[0].Name != "payments-on-call" {
				t.Fatalf("rotations: %+v", rs)
			}
			toml := rs[0].TOML()
			for _, w := range strings.Split(tt.want, "|") {
				if !strings.Contains(toml, w+"\n") {
					t.Errorf("lacks %s:\n%s", w, toml)
				}
			}
		})
	}
}

// TestPagerDutyScheduleOnCall: a schedule of documented shape (testdata,
// as GET /schedules/{id} returns it: a weekly layer under a weekday-daytime
// layer and a weekend layer that began late), converted and loaded by
// rota's own config and scheduler, puts the same person on call as
// PagerDuty's model (pagerdutytest.OnCall) does every hour for 90 days across the spring-forward
// change; a planted difference is found.
func TestPagerDutyScheduleOnCall(t *testing.T) {
	b, err := os.ReadFile("testdata/pagerduty/schedule.json")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Schedule pagerduty.Schedule `json:"schedule"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	s := body.Schedule
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rs, sched, fs := PagerDutySchedule(s, "payments", pdPeople, now)
	// The weekend restriction (Saturday 09:00 for 48 hours) is the one
	// thing said: across the spring-forward change PagerDuty ends it an
	// hour later than rota's wall-clock windows.
	if len(fs) != 1 || !strings.Contains(fs[0].String(), "in a week the clocks change") || sched == nil || len(rs) != len(s.ScheduleLayers) {
		t.Fatalf("rotations %+v, schedule %+v, findings %v", rs, sched, fs)
	}
	var cfg strings.Builder
	for _, p := range []string{"alice", "bruno", "chloe", "dana"} {
		fmt.Fprintf(&cfg, "[[people]]\nname = %q\ntimezone = \"Europe/Berlin\"\n", p)
	}
	cfg.WriteString("[[teams]]\nname = \"payments\"\nmembers = [\"alice\", \"bruno\", \"chloe\", \"dana\"]\ntimezone = \"Europe/Berlin\"\n")
	for _, r := range rs {
		cfg.WriteString(r.TOML())
	}
	cfg.WriteString(sched.TOML())
	c, err := config.Parse("imported.toml", []byte(cfg.String()), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("the imported configuration does not load: %v\n%s", err, cfg.String())
	}
	roster := scheduler.NewRoster(c.Org, nil)
	loc, _ := time.LoadLocation(s.TimeZone)
	want := func(at time.Time) string { return pdPeople[pagerdutytest.OnCall(s, at)] }
	// The one hour the finding names: Monday after the change, 09:00.
	reported := time.Date(2026, 3, 30, 9, 0, 0, 0, loc)
	disagree := 0
	for at := now; at.Before(now.Add(90 * 24 * time.Hour)); at = at.Add(time.Hour) {
		got := ""
		if sh, ok := roster.OnCall(sched.Name, at); ok {
			got = sh.Person
		}
		if w := want(at); got != w && !at.Equal(reported) {
			disagree++
			if disagree <= 5 {
				t.Errorf("%s: rota has %q on call, PagerDuty %q", at.In(loc).Format("Mon 2 Jan 15:04 MST"), got, w)
			}
		}
	}
	if disagree > 0 {
		t.Errorf("%d of %d hours disagree", disagree, 90*24)
	}
	if sh, _ := roster.OnCall(sched.Name, reported); sh.Person == want(reported) {
		t.Errorf("at %v rota and PagerDuty agree: the finding says what is not so", reported)
	}
	// A difference planted in rota's copy (the weekly layer turned by one)
	// is found.
	planted := strings.Replace(cfg.String(), `members = ["alice", "bruno", "chloe"]`, `members = ["bruno", "chloe", "alice"]`, 1)
	if planted == cfg.String() {
		t.Fatal("nothing planted")
	}
	c2, err := config.Parse("planted.toml", []byte(planted), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	roster2, found := scheduler.NewRoster(c2.Org, nil), 0
	for at := now; at.Before(now.Add(90 * 24 * time.Hour)); at = at.Add(time.Hour) {
		got := ""
		if sh, ok := roster2.OnCall(sched.Name, at); ok {
			got = sh.Person
		}
		if got != want(at) {
			found++
		}
	}
	if found == 0 {
		t.Error("the planted difference was not found")
	}
}

// TestPagerDutyNamesApart: two schedules named alike, one of them of
// layers, and two people with one email name, come out with names of
// their own, the layers and targets following.
func TestPagerDutyNamesApart(t *testing.T) {
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	one := pagerduty.Schedule{APIObject: pagerduty.APIObject{ID: "PS1"}, Name: "Primary", TimeZone: "Europe/Berlin",
		ScheduleLayers: []pagerduty.ScheduleLayer{layer("Layer 1", "2026-01-06T10:00:00+01:00", 604800, "PALICE")}}
	two := pagerduty.Schedule{APIObject: pagerduty.APIObject{ID: "PS2"}, Name: "primary", TimeZone: "Europe/Berlin",
		ScheduleLayers: []pagerduty.ScheduleLayer{layer("Nights", "2026-01-06T10:00:00+01:00", 604800, "PBRUNO"), layer("Days", "2026-01-06T10:00:00+01:00", 604800, "PALICE")}}
	ep := pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: "PE"}, Name: "P", EscalationRules: []pagerduty.EscalationRule{{Delay: 5,
		Targets: []pagerduty.APIObject{{ID: "PS1", Type: "schedule_reference"}, {ID: "PS2", Type: "schedule_reference"}}}}}
	res := PagerDuty(PagerDutyExport{
		Users: []pagerduty.User{{APIObject: pagerduty.APIObject{ID: "PALICE"}, Name: "Alice A", Email: "al@a.example", Timezone: "Europe/Berlin"},
			{APIObject: pagerduty.APIObject{ID: "PBRUNO"}, Name: "Al B", Email: "al@b.example", Timezone: "Europe/Berlin"}},
		Schedules: []pagerduty.Schedule{one, two}, Policies: []pagerduty.EscalationPolicy{ep}}, now)
	var names []string
	for _, r := range res.Rotations {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, " "); got != "primary primary-days primary-nights" {
		t.Errorf("rotations: %s", got)
	}
	if len(res.Schedules) != 1 || res.Schedules[0].Name != "primary-2" || strings.Join(res.Schedules[0].Layers, " ") != "primary-days primary-nights" {
		t.Errorf("schedules: %+v", res.Schedules)
	}
	if p := res.Policies[0].Steps[0].Targets; strings.Join(p, " ") != "rotation:primary schedule:primary-2" {
		t.Errorf("targets: %v", p)
	}
	if res.People[0].Name != "al" || res.People[1].Name != "al-2" {
		t.Errorf("people: %s, %s", res.People[0].Name, res.People[1].Name)
	}
}

// TestPagerDutyUrgency: a service of PagerDuty's default urgency (high,
// always) keeps every severity paging at any hour in rota (its default
// would hold warnings for business hours); one following support hours
// keeps rota's default and is reported. Both load.
func TestPagerDutyUrgency(t *testing.T) {
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	sched := pagerduty.Schedule{APIObject: pagerduty.APIObject{ID: "PS1"}, Name: "Primary", TimeZone: "Europe/Berlin",
		ScheduleLayers: []pagerduty.ScheduleLayer{layer("Layer 1", "2026-01-06T10:00:00+01:00", 604800, "PALICE")}}
	ep := pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: "PE"}, Name: "P", EscalationRules: []pagerduty.EscalationRule{{Delay: 5,
		Targets: []pagerduty.APIObject{{ID: "PS1", Type: "schedule_reference"}}}}}
	svc := func(id, name string, rule *pagerduty.IncidentUrgencyRule) pagerduty.Service {
		return pagerduty.Service{APIObject: pagerduty.APIObject{ID: id}, Name: name, EscalationPolicy: pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: "PE"}},
			IncidentUrgencyRule: rule}
	}
	res := PagerDuty(PagerDutyExport{
		Users:     []pagerduty.User{{APIObject: pagerduty.APIObject{ID: "PALICE"}, Name: "Alice", Email: "alice@example.com", Timezone: "Europe/Berlin"}},
		Schedules: []pagerduty.Schedule{sched}, Policies: []pagerduty.EscalationPolicy{ep},
		Services: []pagerduty.Service{svc("S1", "Always", &pagerduty.IncidentUrgencyRule{Type: "constant", Urgency: "high"}), svc("S2", "Default", nil),
			svc("S3", "Support hours", &pagerduty.IncidentUrgencyRule{Type: "use_support_hours"})}}, now)
	text := res.TOML()
	if strings.Count(text, "low_urgency = []") != 2 {
		t.Errorf("the always-high services do not keep warnings paging:\n%s", text)
	}
	if !strings.Contains(res.Report(), "service \"Support hours\" (S3):\n  - its urgency follows the service's support hours") {
		t.Errorf("report:\n%s", res.Report())
	}
	c, err := config.Parse("u.toml", []byte(text), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if s := c.Org.Service("always"); s == nil || s.IsLowUrgency("warning") {
		t.Errorf("always: warnings are low urgency: %+v", s)
	}
	if s := c.Org.Service("support-hours"); s == nil || !s.IsLowUrgency("warning") {
		t.Errorf("support-hours: warnings page at night")
	}
}

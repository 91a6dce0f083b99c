package api_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// Berlin, weekly from 2026-01-06: alice, bruno, chloe. 2026-03-29 is the
// spring-forward Sunday.
const feedConfig = `
[server]
public_url = "https://rota.example.com"
[calendar]
past = "1w"
future = "3w"
[[people]]
name = "alice"
full_name = "Alice Martin"
timezone = "Europe/Berlin"
contacts = [{ type = "webhook", address = "https://hooks.example.com/alice" }]
[[people]]
name = "bruno"
full_name = "Bruno Costa"
timezone = "Europe/Lisbon"
contacts = [{ type = "voice", address = "+351912345002" }, { type = "sms", address = "+351912345002" }]
[[people]]
name = "chloe"
timezone = "Europe/Berlin"
# Leave during her shift from 14 April: alice covers.
pto = [{ start = "2026-04-15", end = "2026-04-16", reason = "conference" }]
[[teams]]
name = "payments"
members = ["alice", "bruno", "chloe"]
timezone = "Europe/Berlin"
[[rotations]]
name = "payments-primary"
team = "payments"
members = ["alice", "bruno", "chloe"]
start = 2026-01-06
[[escalation_policies]]
name = "payments"
steps = [{ targets = ["rotation:payments-primary"] }]
`

func newFeedFixture(t testing.TB, now time.Time) *fixture {
	t.Helper()
	return newFeedFixtureWith(t, now, feedConfig)
}

// newFeedFixtureWith is newFeedFixture on another configuration.
func newFeedFixtureWith(t testing.TB, now time.Time, text string) *fixture {
	t.Helper()
	cfg, err := config.Parse("feed.toml", []byte(text), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.Options{Synchronous: store.SyncNormal})
	f := &fixture{db: db, book: scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil)), now: now}
	db.Now = f.clock
	st := withToken()
	st.PublicURL, st.FeedPast, st.FeedFuture = cfg.Server.PublicURL, cfg.FeedPast, cfg.FeedFuture
	engine := paging.New(paging.Options{Store: db, Book: f.book, Now: f.clock})
	f.restart = func() {
		f.api = api.New(api.Options{Book: f.book, Overrides: db, Pager: engine, Alerts: db, Feeds: db, Swaps: db, Teller: engine, Ping: db.Ping, Settings: st,
			Now: f.clock})
		f.srv = newServer(t.(*testing.T), f.api)
	}
	f.restart()
	return f
}

func (f *fixture) token(t *testing.T, kind, name string) string {
	t.Helper()
	r := f.do(t, "POST", "/api/v1/ical-tokens", adminToken, "", fmt.Sprintf(`{"kind":%q,"name":%q}`, kind, name))
	if r.status != 201 {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	return r.body["token"].(string)
}

func (f *fixture) getFeed(t *testing.T, method, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res, b.String()
}

func TestFeedGolden(t *testing.T) {
	// Generated on Tuesday 2026-03-24 12:00 UTC: the window runs from a
	// week back to three weeks ahead, across the spring-forward week.
	f := newFeedFixture(t, time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC))
	// An override: chloe covers bruno's Friday in the week of 17 March.
	r := f.do(t, "POST", "/api/v1/rotations/payments-primary/overrides", adminToken, "",
		`{"person":"chloe","start":"2026-03-20T08:00:00Z","end":"2026-03-21T08:00:00Z","reason":"bruno at a wedding"}`)
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	// A swap: alice's shift from 31 March and bruno's from 7 April.
	r = f.do(t, "POST", "/api/v1/rotations/payments-primary/swaps", adminToken, "",
		`{"a":"alice","b":"bruno","shift_a_start":"2026-03-31T08:00:00Z","shift_b_start":"2026-04-07T08:00:00Z"}`)
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	for _, feed := range []struct{ kind, name, path, golden string }{
		{"rotation", "payments-primary", "/ical/rotations/payments-primary.ics", "rotation.ics"},
		{"person", "chloe", "/ical/people/chloe.ics", "person-chloe.ics"},
	} {
		tok := f.token(t, feed.kind, feed.name)
		res, body := f.getFeed(t, "GET", feed.path+"?token="+tok)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Fatalf("%s: %d %s", feed.path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		golden := filepath.Join("testdata", "ical", feed.golden)
		if *updateGolden {
			os.WriteFile(golden, []byte(body), 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test ./api -run FeedGolden -update)", err)
		}
		if body != string(want) {
			t.Errorf("%s differs from %s:\n%s", feed.path, golden, body)
		}
		for i, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
			if len(line) > 75 {
				t.Errorf("line %d is %d octets: %q", i+1, len(line), line)
			}
			if strings.Contains(line, "\n") {
				t.Errorf("line %d has a bare LF", i+1)
			}
		}
	}
}

// TestFeedIndependentParser parses the rotation feed with Debian's
// python3-icalendar and checks every event's instants against the
// roster's shifts.
func TestFeedIndependentParser(t *testing.T) {
	if _, err := exec.Command("/usr/bin/python3", "-c", "import icalendar").CombinedOutput(); err != nil {
		t.Skip("python3-icalendar is missing: apt-get install python3-icalendar (make test installs it)")
	}
	f := newFeedFixture(t, time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC))
	f.do(t, "POST", "/api/v1/rotations/payments-primary/overrides", adminToken, "",
		`{"person":"chloe","start":"2026-03-20T08:00:00Z","end":"2026-03-21T08:00:00Z"}`)
	tok := f.token(t, "rotation", "payments-primary")
	_, body := f.getFeed(t, "GET", "/ical/rotations/payments-primary.ics?token="+tok)
	cmd := exec.Command("/usr/bin/python3", "testdata/ical/instants.py")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3-icalendar rejects the feed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	shifts := f.book.Roster().Shifts("payments-primary", time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC))
	if len(lines) != len(shifts) {
		t.Fatalf("the parser sees %d events, the roster has %d shifts:\n%s", len(lines), len(shifts), out)
	}
	sawDST := false
	for i, sh := range shifts {
		want := fmt.Sprintf("%s %s TRANSPARENT 0", sh.Start.Format("2006-01-02T15:04:05Z"), sh.End.Format("2006-01-02T15:04:05Z"))
		if got := lines[i][strings.Index(lines[i], " ")+1:]; got != want {
			t.Errorf("event %d: parser says %q, roster %q", i, got, want)
		}
		if sh.Duration() == 167*time.Hour {
			sawDST = true
		}
	}
	if !sawDST {
		t.Error("the window has no 167-hour shift: no DST week tested")
	}
}

func TestFeedTokensAndCaching(t *testing.T) {
	f := newFeedFixture(t, time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC))
	tok := f.token(t, "person", "alice")
	path := "/ical/people/alice.ics?token="
	for _, bad := range []string{"", "wrong", tok + "x"} {
		if res, body := f.getFeed(t, "GET", path+bad); res.StatusCode != 404 || body != `{"error":{"code":"not_found","message":"not found"}}`+"\n" {
			t.Errorf("token %q: %d %q", bad, res.StatusCode, body)
		}
	}
	// Another person's token, or an unknown name, answers the same.
	other := f.token(t, "person", "bruno")
	if res, _ := f.getFeed(t, "GET", path+other); res.StatusCode != 404 {
		t.Errorf("bruno's token on alice's feed: %d", res.StatusCode)
	}
	if res, _ := f.getFeed(t, "GET", "/ical/people/nobody.ics?token="+tok); res.StatusCode != 404 {
		t.Errorf("unknown person: %d", res.StatusCode)
	}
	res, body := f.getFeed(t, "GET", path+tok)
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || etag == "" || !strings.Contains(body, "BEGIN:VCALENDAR") {
		t.Fatalf("feed: %d %q", res.StatusCode, etag)
	}
	if res, body := f.getFeed(t, "GET", path+tok, "If-None-Match", etag); res.StatusCode != 304 || body != "" {
		t.Errorf("If-None-Match: %d", res.StatusCode)
	}
	if res, body := f.getFeed(t, "HEAD", path+tok); res.StatusCode != 200 || body != "" || res.Header.Get("ETag") != etag || res.Header.Get("Content-Length") == "0" {
		t.Errorf("HEAD: %d %q %v", res.StatusCode, body, res.Header)
	}
	// An override changes the feed: a new ETag, and the changed event's
	// SEQUENCE goes up.
	f.do(t, "POST", "/api/v1/rotations/payments-primary/overrides", adminToken, "", `{"person":"chloe","start":"2026-04-01T00:00:00Z","end":"2026-04-02T00:00:00Z"}`)
	res, body2 := f.getFeed(t, "GET", path+tok, "If-None-Match", etag)
	if res.StatusCode != 200 || res.Header.Get("ETag") == etag {
		t.Fatalf("after an override: %d, etag %q", res.StatusCode, res.Header.Get("ETag"))
	}
	if !strings.Contains(body2, "SEQUENCE:1") || strings.Count(body2, "SEQUENCE:1") != 1 {
		t.Errorf("the shortened shift should be SEQUENCE:1, the others 0:\n%s", body2)
	}
	// A restarted daemon's rosters count their generations from the
	// start again: an ETag from before a restart must not match, whatever
	// changed meanwhile.
	etag2 := res.Header.Get("ETag")
	f.restart()
	if res, _ := f.getFeed(t, "GET", path+tok, "If-None-Match", etag2); res.StatusCode != 200 {
		t.Errorf("an ETag from before a restart: %d", res.StatusCode)
	}
	// Rotated: the old token stops working, the new one works.
	tok2 := f.token(t, "person", "alice")
	if res, _ := f.getFeed(t, "GET", path+tok); res.StatusCode != 404 {
		t.Errorf("rotated-out token: %d", res.StatusCode)
	}
	if res, _ := f.getFeed(t, "GET", path+tok2); res.StatusCode != 200 {
		t.Errorf("new token: %d", res.StatusCode)
	}
	// Revoked: gone.
	if r := f.do(t, "DELETE", "/api/v1/ical-tokens/person/alice", adminToken, "", ""); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if res, _ := f.getFeed(t, "GET", path+tok2); res.StatusCode != 404 {
		t.Errorf("revoked token: %d", res.StatusCode)
	}
	if r := f.do(t, "DELETE", "/api/v1/ical-tokens/person/alice", adminToken, "", ""); r.status != 404 {
		t.Errorf("revoke again: %d", r.status)
	}
	for _, body := range []string{`{"kind":"team","name":"x"}`, `{"kind":"person","name":"nobody"}`} {
		if r := f.do(t, "POST", "/api/v1/ical-tokens", adminToken, "", body); r.status != 400 {
			t.Errorf("%s: %d", body, r.status)
		}
	}
	if r := f.do(t, "POST", "/api/v1/ical-tokens", "", "", `{"kind":"person","name":"alice"}`); r.status != 401 {
		t.Errorf("no admin token: %d", r.status)
	}
	r := f.do(t, "POST", "/api/v1/ical-tokens", adminToken, "", `{"kind":"rotation","name":"payments-primary"}`)
	if !strings.HasPrefix(r.body["webcal"].(string), "webcal://rota.example.com/ical/rotations/payments-primary.ics?token=") {
		t.Errorf("webcal URL: %v", r.body["webcal"])
	}
}

func TestSwap(t *testing.T) {
	f := newFeedFixture(t, time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC))
	r := f.do(t, "POST", "/api/v1/rotations/payments-primary/swaps", adminToken, "",
		`{"a":"alice","b":"bruno","shift_a_start":"2026-03-31T08:00:00Z","shift_b_start":"2026-04-07T08:00:00Z","reason":"holiday"}`)
	if r.status != 201 {
		t.Fatalf("swap: %d %s", r.status, r.raw)
	}
	told := r.body["told"].(map[string]any)
	if told["alice"] != "webhook" || told["bruno"] != "sms" {
		t.Errorf("told: %v", told)
	}
	ovs := r.body["overrides"].([]any)
	if len(ovs) != 2 || ovs[0].(map[string]any)["reason"] != "swap: alice and bruno trade shifts: holiday" {
		t.Errorf("overrides: %v", ovs)
	}
	roster := f.book.Roster()
	for at, want := range map[string]string{"2026-04-01T00:00:00Z": "bruno", "2026-04-08T00:00:00Z": "alice"} {
		ts, _ := time.Parse(time.RFC3339, at)
		if sh, _ := roster.OnCall("payments-primary", ts); sh.Person != want {
			t.Errorf("%s: %s, want %s", at, sh.Person, want)
		}
	}
	for _, tt := range []struct{ body, field string }{
		{`{"a":"alice","b":"bruno","shift_a_start":"2026-04-01T00:00:00Z","shift_b_start":"2026-04-14T08:00:00Z"}`, "shift_a_start"},
		{`{"a":"alice","b":"chloe","shift_a_start":"2026-04-21T08:00:00Z","shift_b_start":"2026-04-21T08:00:00Z"}`, "shift_b_start"},
		{`{"a":"alice","b":"alice","shift_a_start":"x","shift_b_start":"y"}`, "b"},
		{`{"a":"alice","b":"zed","shift_a_start":"x","shift_b_start":"y"}`, "b"},
		{`{"a":"alice","b":"bruno","shift_a_start":"2026-04-21T08:00:00Z"}`, "shift_b_start"},
	} {
		if r := f.do(t, "POST", "/api/v1/rotations/payments-primary/swaps", adminToken, "", tt.body); r.status != 400 || r.errorField() != tt.field {
			t.Errorf("%s: %d %s", tt.body, r.status, r.raw)
		}
	}
	if ovs, _ := f.db.Overrides(context.Background(), ""); len(ovs) != 2 {
		t.Errorf("%d overrides after refused swaps, want 2", len(ovs))
	}
}

// personFeedConfig: emma is on a follow-the-sun schedule's daytime layer
// (paged through the schedule), on a draft schedule nobody pages, and on
// a night rotation paged directly.
const personFeedConfig = `
[server]
public_url = "https://rota.example.com"
[calendar]
past = "1w"
future = "3w"
[[people]]
name = "emma"
timezone = "Europe/Berlin"
[[people]]
name = "uma"
timezone = "America/New_York"
[[teams]]
name = "payments"
members = ["emma", "uma"]
timezone = "Europe/Berlin"
[[rotations]]
name = "us"
team = "payments"
members = ["uma", "emma"]
timezone = "America/New_York"
start = 2026-01-06
[[rotations]]
name = "eu"
team = "payments"
members = ["emma"]
shift = "1d"
handoff = "08:00"
active = ["daily 08:00-20:00"]
start = 2026-01-06
[[schedules]]
name = "fts"
team = "payments"
layers = ["us", "eu"]
[[schedules]]
name = "draft"
team = "payments"
layers = ["eu"]
[[rotations]]
name = "nights"
team = "payments"
members = ["emma", "uma"]
shift = "1d"
handoff = "22:00"
start = 2026-01-06
[[escalation_policies]]
name = "p"
steps = [{ targets = ["rotation:fts", "rotation:nights"] }]
`

// TestPersonFeedIndependentParser: emma's calendar, read by Debian's
// python3-icalendar, holds exactly her final shifts as the API lists
// them (GET /api/v1/rotations/{name}/shifts) on what pages her: the
// follow-the-sun schedule and the night rotation, not its layers nor the
// draft schedule; across the spring-forward change.
func TestPersonFeedIndependentParser(t *testing.T) {
	if _, err := exec.Command("/usr/bin/python3", "-c", "import icalendar").CombinedOutput(); err != nil {
		t.Skip("python3-icalendar is missing: apt-get install python3-icalendar (make test installs it)")
	}
	now := time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC)
	f := newFeedFixtureWith(t, now, personFeedConfig)
	tok := f.token(t, "person", "emma")
	_, body := f.getFeed(t, "GET", "/ical/people/emma.ics?token="+tok)
	cmd := exec.Command("/usr/bin/python3", "testdata/ical/instants.py")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3-icalendar rejects the feed: %v\n%s", err, out)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		got = append(got, f[1]+" "+f[2])
	}
	// What the API says emma carries, over the feed's window: from a week
	// before today (UTC) to three weeks after tomorrow.
	day := now.Truncate(24 * time.Hour)
	from, to := day.Add(-7*24*time.Hour), day.Add(22*24*time.Hour)
	var want []string
	for _, rot := range []string{"fts", "nights"} {
		r := f.do(t, "GET", fmt.Sprintf("/api/v1/rotations/%s/shifts?from=%s&to=%s", rot, from.Format(time.RFC3339), to.Format(time.RFC3339)), adminToken, "", "")
		if r.status != 200 {
			t.Fatalf("%s shifts: %d %s", rot, r.status, r.raw)
		}
		for _, x := range r.body["shifts"].([]any) {
			sh := x.(map[string]any)
			if sh["person"] == "emma" {
				start, _ := time.Parse(time.RFC3339, sh["start"].(string))
				end, _ := time.Parse(time.RFC3339, sh["end"].(string))
				want = append(want, start.UTC().Format("2006-01-02T15:04:05Z")+" "+end.UTC().Format("2006-01-02T15:04:05Z"))
			}
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(want) < 20 {
		t.Fatalf("the API lists %d shifts of emma's: too few to test", len(want))
	}
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		count[w]--
	}
	for k, n := range count {
		switch {
		case n > 0:
			t.Errorf("the calendar has %s (×%d), the API does not", k, n)
		case n < 0:
			t.Errorf("the API has %s (×%d), the calendar does not", k, -n)
		}
	}
}

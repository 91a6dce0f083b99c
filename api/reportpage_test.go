package api_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const reportPath = "/reports/teams/payments?from=2026-03-09T00:00:00Z&to=2026-03-30T00:00:00Z"

func TestReportPage(t *testing.T) {
	f := newReportFixture(t)
	res, body := f.getFeed(t, "GET", reportPath, "Authorization", "Bearer "+adminToken)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %v", res.StatusCode, res.Header)
	}
	for _, want := range []string{
		"<h1>Human SLO report: payments</h1>",
		`class="chart weekly"`, `class="chart offhours"`, `class="chart services"`, `class="chart burns"`,
		`fill="#d95f02"><title>week of 9 Mar: 3 pages</title>`, // bob's week over budget
		"Pages per week for bob</title>",
		"<td>bob</td><td>more than 2 pages in a week</td><td>3 pages: #1 payments-api: 5xx above 2%; #2 payments-api: 5xx above 2%; #3 web: latency</td>",
		`<text class="value" x=`, `<text class="week" x=`, ">9 Mar</text>", // numbers on bars, week labels
		"at most 2 pages per person per week", "at most 1 off-hours incident(s) per person in 182d",
		"<th>Incidents</th><th>Alerts</th><th>Pages</th>",
		"5m30s", // MTTA
		`href="/api/v1/reports/human?format=csv&amp;from=`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(body, `class="chart weekly"`); n != 3 {
		t.Errorf("%d weekly charts, want one per person (3)", n)
	}
	if strings.Contains(body, "<script") {
		t.Error("the page has a script")
	}
	if res, body := f.getFeed(t, "GET", "/reports/teams/nope", "Authorization", "Bearer "+adminToken); res.StatusCode != 404 || !strings.Contains(body, "no team named") {
		t.Errorf("unknown team: %d %s", res.StatusCode, body)
	}
}

// TestReportPageInChromium renders the page in headless Chromium (Debian's
// chromium, installed by make test-deps): the charts are in the rendered
// page and the console has no error. The screenshot is kept in the run's
// artifacts directory (see artifactPath).
func TestReportPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is missing: apt-get install chromium (make test installs it)")
	}
	f := newReportFixture(t)
	tok, err := f.db.IssueFeedToken(context.Background(), "team", "payments")
	if err != nil {
		t.Fatal(err)
	}
	url := f.srv.URL + reportPath + "&token=" + tok
	dir := t.TempDir()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir=" + dir, "--enable-logging=stderr", "--v=0"}
	run := func(extra ...string) (string, string) {
		cmd := exec.Command(chromium, append(append(append([]string{}, flags...), extra...), url)...)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("chromium: %v\n%s", err, errb.String())
			}
		case <-time.After(90 * time.Second):
			cmd.Process.Kill()
			t.Fatal("chromium did not finish in 90s")
		}
		return out.String(), errb.String()
	}
	dom, logs := run("--dump-dom")
	for _, want := range []string{`class="chart weekly"`, `class="chart offhours"`, `class="chart services"`, `class="chart burns"`, "Human SLO report: payments"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "CONSOLE") && (strings.Contains(line, "rror") || strings.Contains(line, "Refused")) {
			t.Errorf("console: %s", line)
		}
	}
	shot := artifactPath(t, "report.png")
	os.Remove(shot)
	run("--screenshot="+shot, "--window-size=1024,2200", "--hide-scrollbars")
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("no screenshot: %v", err)
	} else {
		t.Logf("screenshot %s (%d bytes)", shot, st.Size())
	}
}

// TestTeamReportToken: a manager opens the report with the team's token
// alone, even where reads need the admin token; the token opens that team's
// report and nothing else, and stops working once revoked.
func TestTeamReportToken(t *testing.T) {
	f := newReportFixture(t)
	st := withToken()
	st.PublicURL = "https://rota.example.com"
	f.api.SetSettings(st)
	if res, body := f.getFeed(t, "GET", reportPath); res.Request.URL.Path != "/signin" || !strings.Contains(res.Request.URL.RawQuery, "next=%2Freports%2Fteams%2Fpayments") {
		t.Fatalf("page without any token: %d %s %s", res.StatusCode, res.Request.URL, body)
	}
	r := f.do(t, "POST", "/api/v1/ical-tokens", adminToken, "", `{"kind":"team","name":"payments"}`)
	if r.status != 201 {
		t.Fatalf("issue: %d %s", r.status, r.raw)
	}
	tok := r.body["token"].(string)
	if u := r.body["url"]; u != "https://rota.example.com/reports/teams/payments?token="+tok {
		t.Errorf("url %v", u)
	}
	res, body := f.getFeed(t, "GET", reportPath+"&token="+tok)
	if res.StatusCode != 200 || !strings.Contains(body, "<h1>Human SLO report: payments</h1>") {
		t.Fatalf("page with the team token: %d", res.StatusCode)
	}
	// The page's JSON and CSV links carry the token so they work too.
	if !strings.Contains(body, "token="+tok) {
		t.Error("the page's links lack the token")
	}
	res, body = f.getFeed(t, "GET", "/api/v1/reports/human?team=payments&format=csv&token="+tok)
	if res.StatusCode != 200 || !strings.HasPrefix(body, "team,person,") {
		t.Errorf("csv with the team token: %d %s", res.StatusCode, body)
	}
	cal := f.token(t, "person", "bob")
	for _, path := range []string{
		reportPath + "&token=wrong",
		reportPath + "&token=" + cal, // a calendar token is not a report token
		"/api/v1/reports/human?team=payments&token=wrong",
		"/api/v1/oncall?token=" + tok, // a report token is not an API token
	} {
		if res, body := f.getFeed(t, "GET", path); res.StatusCode != 401 || !strings.Contains(body, "not valid") && !strings.Contains(body, "sign in") {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	if r := f.do(t, "DELETE", "/api/v1/ical-tokens/team/payments", adminToken, "", ""); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if res, _ := f.getFeed(t, "GET", reportPath+"&token="+tok); res.StatusCode != 401 {
		t.Errorf("revoked token: %d", res.StatusCode)
	}
	if r := f.do(t, "POST", "/api/v1/ical-tokens", adminToken, "", `{"kind":"team","name":"nope"}`); r.status != 400 {
		t.Errorf("unknown team: %d %s", r.status, r.raw)
	}
}

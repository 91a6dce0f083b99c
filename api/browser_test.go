package api_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/scheduler"
)

// The browser tests drive Chromium through the web UI as people do:
// signing in at an OpenID Connect provider (mockoidc, in this process),
// then clicking through pages and forms. Each step checks what the page
// says and what the store holds. Screenshots of the pages go to
// testdata/artifacts (git-ignored).

// browserArtifacts is where the screenshots go.
const browserArtifacts = "testdata/artifacts"

// browserBudget bounds a whole browser test: a hang fails, not waits.
const browserBudget = 60 * time.Second

// stepBudget bounds one step (a page and what is done on it).
const stepBudget = 15 * time.Second

// browserFixture is the auth fixture signed in through an identity
// provider, with a browser to sign in with.
type browserFixture struct {
	*authFixture
	idp     *mockoidc.MockOIDC
	browser context.Context
}

// newBrowserFixture starts the identity provider, the server configured
// for it, and Chromium; it skips when Chromium is not installed.
func newBrowserFixture(t *testing.T) *browserFixture {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): the browser tests drive it")
	}
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Shutdown() })

	st := withToken()
	f := newAuthFixture(t, st, false)
	// Sessions are made on the store's clock and checked on the server's.
	f.now = time.Now()
	// The redirect URL needs the server's address, known only now.
	st.OIDC = &api.OIDCSettings{Name: "Test SSO", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RedirectURL: f.srv.URL + "/auth/oidc/callback", Scopes: []string{"openid", "email", "profile"}}
	st.Admins = f.cfg.Auth.Admins
	f.api.SetSettings(st)
	// accessConfig gives only alice an email to sign in with.
	withEmails(t, f.book, map[string]string{"bruno": "bruno@example.com", "dana": "dana@example.com"})

	if err := os.MkdirAll(browserArtifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), browserBudget)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelA)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	// The first run starts the browser, bound to ctx: at the budget's end
	// it stops, and every step fails.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return &browserFixture{authFixture: f, idp: idp, browser: bctx}
}

// withEmails gives people an email to sign in with, where the
// configuration gives them none.
func withEmails(t *testing.T, book *scheduler.Book, emails map[string]string) {
	t.Helper()
	err := book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
		org := r.Org()
		people := make([]*rota.Person, len(org.People))
		for i, p := range org.People {
			cp := *p
			if e, ok := emails[p.Name]; ok && len(cp.Emails) == 0 {
				cp.Emails = []string{e}
			}
			people[i] = &cp
		}
		return r.WithOrg(rota.NewOrg(people, org.Teams, org.Rotations, org.Services, org.Policies)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// browserUser is one person in the browser: a browser context of their
// own, so that people share no cookies.
type browserUser struct {
	t    *testing.T
	f    *browserFixture
	name string
	ctx  context.Context
}

// signIn opens a new browser context and signs name in through the
// identity provider, as the person with email: / sends them to sign in,
// the provider's button sends them to the provider and back, and they
// land on the Now page.
func (f *browserFixture) signIn(t *testing.T, name, email string) *browserUser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(f.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("opening a browser context for %s: %v", name, err)
	}
	p := &browserUser{t: t, f: f, name: name, ctx: ctx}
	f.idp.QueueUser(&mockoidc.MockUser{Subject: "sub-" + name, Email: email, EmailVerified: true})

	p.do("open / signed out", chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`a.button[href^="/auth/oidc/login"]`)))
	if loc := p.location(); loc != f.srv.URL+"/signin?next=%2F" {
		t.Errorf("/ signed out went to %s, want the sign-in page", loc)
	}
	p.wantText(chromedp.CSS("h1"), "Sign in to rota")
	p.wantText(chromedp.CSS(`a.button[href^="/auth/oidc/login"]`), "Sign in with Test SSO")
	p.do("sign in with Test SSO", chromedp.Click(chromedp.CSS(`a.button[href^="/auth/oidc/login"]`)), chromedp.WaitVisible(chromedp.CSS("span.who")))
	if loc := p.location(); loc != f.srv.URL+"/" {
		t.Errorf("%s signed in and landed on %s, want /", name, loc)
	}
	p.wantText(chromedp.CSS("h1"), "Now")
	if who := p.text(chromedp.CSS("span.who")); !strings.HasPrefix(who, name+" (") {
		t.Errorf("signed in as %q, want %s", who, name)
	}
	return p
}

// do runs the actions of one step, within the step's budget; on failure
// it saves a screenshot and says where the browser was.
func (p *browserUser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepBudget)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s, as %s: %v%s", step, p.name, err, p.whereAmI(step))
	}
}

// whereAmI describes the page, for a failure, and keeps its picture.
func (p *browserUser) whereAmI(step string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	name := "browser-failed-" + strings.NewReplacer(" ", "-", "/", "-").Replace(step) + ".png"
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(browserArtifacts, name), png, 0o644)
	}
	return fmt.Sprintf("\nthe page: %s (%s)\n%s", loc, name, body)
}

// location is the page's URL.
func (p *browserUser) location() string {
	p.t.Helper()
	return browse(p, "read the URL", chromedp.Location())
}

// text is the visible text of the first element sel matches.
func (p *browserUser) text(sel chromedp.CSS) string {
	p.t.Helper()
	return strings.TrimSpace(browse(p, "read "+string(sel), chromedp.Text(sel)))
}

func (p *browserUser) wantText(sel chromedp.CSS, want string) {
	p.t.Helper()
	if got := p.text(sel); got != want {
		p.t.Errorf("%s says %q, want %q (as %s, on %s)", sel, got, want, p.name, p.location())
	}
}

func (p *browserUser) wantContains(sel chromedp.CSS, wants ...string) {
	p.t.Helper()
	got := p.text(sel)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			p.t.Errorf("%s lacks %q (as %s, on %s): %q", sel, w, p.name, p.location(), got)
		}
	}
}

// count is how many elements match a CSS selector.
func (p *browserUser) count(sel string) int {
	p.t.Helper()
	return browse(p, "count "+sel, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
}

// shot saves a full-page screenshot as name.png in the artifacts
// (quality 100 makes a PNG).
func (p *browserUser) shot(name string) {
	p.t.Helper()
	png := browse(p, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(browserArtifacts, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot %s (%d bytes)", path, len(png))
}

// browse runs an action that returns a value, within the step's budget.
func browse[T any](p *browserUser, step string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepBudget)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s, as %s: %v%s", step, p.name, err, p.whereAmI(step))
	}
	return v
}

// open navigates to path and returns the HTTP status of the page.
func (p *browserUser) open(path string) int64 {
	p.t.Helper()
	res := browse(p, "open "+path, chromedp.NavigateResponse(p.f.srv.URL+path))
	if res == nil {
		p.t.Fatalf("open %s, as %s: no response", path, p.name)
	}
	return res.Status
}

// TestBrowserWebUI walks the web UI in Chromium: alice signs in through
// the identity provider, acknowledges an incident, puts herself on call,
// and proposes a swap that bruno accepts; dana, who manages the team,
// finds it all in the audit log.
func TestBrowserWebUI(t *testing.T) {
	began := time.Now()
	f := newBrowserFixture(t)
	t.Logf("chromium and the provider up after %v", time.Since(began).Round(time.Millisecond))
	ctx := context.Background()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}

	// 1. alice signs in through the provider and lands on Now.
	alice := f.signIn(t, "alice", "alice@example.com")
	alice.wantContains(chromedp.CSS("span.who"), "(responder)")
	alice.wantContains(chromedp.CSS("main"), "My budget", "Team payments", "My next shifts", "On call", "primary")
	alice.shot("browser-now")

	// 2. An incident on payments-api; alice acknowledges it.
	r := f.do(t, "POST", "/api/v1/alerts", payKey, "", `{"summary":"Payments API 5xx above 5%","severity":"critical"}`)
	incID, ok := r.body["incident_id"].(float64)
	if r.status/100 != 2 || !ok {
		t.Fatalf("posting the alert: %d %s", r.status, r.raw)
	}
	id := int64(incID)
	link := chromedp.CSS(fmt.Sprintf(`a[href="/incidents/%d"]`, id))
	alice.do("open /incidents", chromedp.Navigate(f.srv.URL+"/incidents"), chromedp.WaitVisible(link))
	alice.wantText(chromedp.CSS("h1"), "Incidents")
	alice.wantContains(chromedp.CSS("tbody"), "Payments API 5xx above 5%", "triggered", "payments-api")
	alice.do("open the incident", chromedp.Click(link), chromedp.WaitVisible(chromedp.ID("ack")))
	alice.wantText(chromedp.CSS("h1"), fmt.Sprintf("Incident %d: Payments API 5xx above 5%%", id))
	alice.wantText(chromedp.CSS("#incident-status"), "triggered")
	// The flash is only on the page the button leads to.
	alice.do("acknowledge", chromedp.Click(chromedp.ID("ack")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	alice.wantText(chromedp.CSS("p.flash"), fmt.Sprintf("Incident %d is acknowledged.", id))
	alice.wantText(chromedp.CSS("#incident-status"), "acknowledged")
	alice.wantContains(chromedp.CSS("main"), "by alice (web)")
	if n := alice.count("#ack"); n != 0 {
		t.Errorf("the acknowledged incident still offers Acknowledge (%d buttons)", n)
	}
	alice.shot("browser-incident-acked")
	inc, err := f.db.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != rota.StatusAcknowledged || inc.AckedBy != "alice (web)" {
		t.Errorf("incident in the store: %s by %q, want acknowledged by alice (web)", inc.Status, inc.AckedBy)
	}

	// 3. alice puts herself on call, four weeks out, with the form.
	day := f.now.In(berlin).AddDate(0, 0, 28)
	ovStart := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, berlin)
	ovEnd := ovStart.Add(8 * time.Hour)
	const ovReason = "covering the payments migration"
	const local = "2006-01-02T15:04"
	alice.do("open /rotations/primary", chromedp.Navigate(f.srv.URL+"/rotations/primary"), chromedp.WaitVisible(chromedp.ID("ov-submit")))
	alice.wantText(chromedp.CSS("h1"), "Rotation primary")
	alice.wantText(chromedp.CSS("#override-form legend"), "Put yourself on call")
	// Typing into datetime-local inputs depends on the locale; setting
	// the value does not.
	alice.do("fill in the override",
		chromedp.SetValue(chromedp.ID("ov-start"), ovStart.Format(local)),
		chromedp.SetValue(chromedp.ID("ov-end"), ovEnd.Format(local)),
		chromedp.SendKeys(chromedp.ID("ov-reason"), ovReason))
	for sel, want := range map[string]string{"ov-person": "alice", "ov-start": ovStart.Format(local), "ov-end": ovEnd.Format(local), "ov-reason": ovReason} {
		if got := browse(alice, "read #"+sel, chromedp.Value(chromedp.ID(sel))); got != want {
			t.Errorf("#%s holds %q, want %q", sel, got, want)
		}
	}
	alice.do("create the override", chromedp.Click(chromedp.ID("ov-submit")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	ovs, err := f.db.Overrides(ctx, "primary")
	if err != nil {
		t.Fatal(err)
	}
	var ov rota.Override
	for _, o := range ovs {
		if o.Reason == ovReason {
			ov = o
		}
	}
	if ov.ID == 0 || ov.Person != "alice" || !ov.Start.Equal(ovStart) || !ov.End.Equal(ovEnd) || ov.CreatedBy != "alice (web)" {
		t.Fatalf("overrides in the store: %+v, want alice's from %v to %v made by alice (web)", ovs, ovStart, ovEnd)
	}
	const shown = "Mon 2 Jan 2006 15:04 MST"
	alice.wantText(chromedp.CSS("p.flash"), fmt.Sprintf("Override %d: alice is on call %s to %s.", ov.ID, ovStart.Format(shown), ovEnd.Format(shown)))
	// The Overrides table is the one right after its heading.
	alice.wantContains(chromedp.CSS("h2 + div.scroll tbody"), fmt.Sprint(ov.ID), "alice", ovStart.Format(shown), ovEnd.Format(shown), ovReason, "alice (web)")
	// And the weeks' tables show the shift it makes.
	alice.wantContains(chromedp.CSS("main"), fmt.Sprintf("override %d", ov.ID))
	alice.shot("browser-rotation-override")

	// 4. alice offers her next shift for bruno's next one; bruno accepts.
	var mine, theirs rota.Shift
	for _, sh := range f.book.Roster().Shifts("primary", f.now, f.now.Add(12*rota.Week)) {
		switch {
		case !sh.Start.After(f.now) || sh.IsOverride():
		case sh.Person == "alice" && mine.Person == "":
			mine = sh
		case sh.Person == "bruno" && theirs.Person == "":
			theirs = sh
		}
	}
	if mine.Person == "" || theirs.Person == "" {
		t.Fatalf("no future shifts of alice's and bruno's to swap: %+v, %+v", mine, theirs)
	}
	// The options' values, as the swaps page writes them.
	option := func(sh rota.Shift) string { return "primary|" + sh.Person + "|" + sh.Start.UTC().Format(time.RFC3339) }
	const swReason = "family wedding"
	alice.do("open /swaps", chromedp.Navigate(f.srv.URL+"/swaps"), chromedp.WaitVisible(chromedp.ID("sw-submit")))
	alice.wantText(chromedp.CSS("h1"), "Swaps")
	alice.do("fill in the swap",
		chromedp.SetValue(chromedp.ID("sw-mine"), option(mine)),
		chromedp.SetValue(chromedp.ID("sw-theirs"), option(theirs)),
		chromedp.SendKeys(chromedp.ID("sw-reason"), swReason))
	for sel, want := range map[string]string{"sw-mine": option(mine), "sw-theirs": option(theirs)} {
		// A select keeps no value that none of its options has.
		if got := browse(alice, "read #"+sel, chromedp.Value(chromedp.ID(sel))); got != want {
			t.Fatalf("#%s holds %q, want the option %q", sel, got, want)
		}
	}
	alice.do("propose the swap", chromedp.Click(chromedp.ID("sw-submit")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	srs, err := f.db.SwapRequests(ctx, "alice", 10)
	if err != nil || len(srs) != 1 {
		t.Fatalf("swaps in the store: %+v, %v", srs, err)
	}
	sw := srs[0]
	if sw.Partner != "bruno" || sw.Status != rota.SwapProposed || !sw.ProposerShift.Start.Equal(mine.Start) || !sw.PartnerShift.Start.Equal(theirs.Start) {
		t.Errorf("swap in the store: %+v, want alice's shift at %v for bruno's at %v, proposed", sw, mine.Start, theirs.Start)
	}
	row := chromedp.CSS(fmt.Sprintf("#swap-%d", sw.ID))
	alice.wantText(chromedp.CSS("p.flash"), fmt.Sprintf("Swap %d proposed to bruno.", sw.ID))
	alice.wantContains(row, "proposed", swReason, "alice: "+mine.Start.In(berlin).Format(shown), "bruno: "+theirs.Start.In(berlin).Format(shown))
	if alice.count(fmt.Sprintf("#accept-%d", sw.ID)) != 0 || alice.count(fmt.Sprintf("#cancel-%d", sw.ID)) != 1 {
		t.Errorf("alice, who proposed swap %d, should be offered Cancel and not Accept", sw.ID)
	}

	bruno := f.signIn(t, "bruno", "bruno@example.com")
	accept := chromedp.ID(fmt.Sprintf("accept-%d", sw.ID))
	bruno.do("open /swaps", chromedp.Navigate(f.srv.URL+"/swaps"), chromedp.WaitVisible(accept))
	bruno.wantContains(row, "proposed", "alice: ", swReason)
	bruno.do("accept the swap", chromedp.Click(accept), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	bruno.wantText(chromedp.CSS("p.flash"), fmt.Sprintf("Swap %d accepted.", sw.ID))
	bruno.wantContains(row, "accepted", "by bruno (web)")
	if n := bruno.count("#" + string(accept)); n != 0 {
		t.Errorf("the accepted swap still offers Accept")
	}
	bruno.shot("browser-swaps-accepted")
	if sw, err = f.db.SwapRequest(ctx, sw.ID); err != nil || sw.Status != rota.SwapAccepted || sw.DecidedBy != "bruno (web)" {
		t.Errorf("swap in the store: %+v, %v; want accepted by bruno (web)", sw, err)
	}
	ovs, err = f.db.Overrides(ctx, "primary")
	if err != nil {
		t.Fatal(err)
	}
	traded := map[string]bool{}
	for _, o := range ovs {
		switch {
		case o.Person == "bruno" && o.Start.Equal(mine.Start) && o.End.Equal(mine.End):
			traded["bruno covers alice's shift"] = true
		case o.Person == "alice" && o.Start.Equal(theirs.Start) && o.End.Equal(theirs.End):
			traded["alice covers bruno's shift"] = true
		}
	}
	if len(traded) != 2 {
		t.Errorf("the swap's overrides: %v of 2 in the store: %+v", traded, ovs)
	}

	// 5. dana, who manages payments, reads it all in the audit log.
	dana := f.signIn(t, "dana", "dana@example.com")
	dana.wantContains(chromedp.CSS("span.who"), "(manager)")
	if status := dana.open("/audit"); status != 200 {
		t.Errorf("/audit as dana: %d", status)
	}
	dana.do("read the audit log", chromedp.WaitVisible(chromedp.CSS("tbody")))
	dana.wantText(chromedp.CSS("h1"), "Audit log")
	dana.wantContains(chromedp.CSS("tbody"), "sign-in", "incident.acknowledge", "override.create", "swap.propose", "swap.accept", "alice (web)", "bruno (web)")
	dana.shot("browser-audit-manager")

	t.Logf("done in %v", time.Since(began).Round(time.Millisecond))
}

// TestBrowserRefusals: a responder who opens a manager's page is refused
// with a page that says why; the team's manager opens it.
func TestBrowserRefusals(t *testing.T) {
	began := time.Now()
	f := newBrowserFixture(t)

	alice := f.signIn(t, "alice", "alice@example.com")
	if alice.count(`nav a[href="/audit"]`)+alice.count(`nav a[href^="/reports/"]`) != 0 {
		t.Errorf("alice's menu offers a manager's pages")
	}
	if status := alice.open("/audit"); status != 403 {
		t.Errorf("/audit as alice: %d, want 403", status)
	}
	alice.do("read the refusal", chromedp.WaitVisible(chromedp.CSS("p.error")))
	alice.wantText(chromedp.CSS("h1"), "That was not done")
	alice.wantText(chromedp.CSS("p.error"), "alice (web) is a responder: this needs a manager")
	alice.shot("browser-refused-audit")

	if status := alice.open("/reports/teams/payments"); status != 403 {
		t.Errorf("/reports/teams/payments as alice: %d, want 403", status)
	}
	alice.do("read the refusal", chromedp.WaitVisible(chromedp.CSS("body")))
	alice.shot("browser-refused-report")
	if body := alice.text(chromedp.CSS("body")); alice.count("h1") == 0 {
		t.Errorf("/reports/teams/payments refuses alice with the JSON API's error, not the refusal page: %s", body)
	} else {
		alice.wantText(chromedp.CSS("h1"), "That was not done")
		alice.wantContains(chromedp.CSS("p.error"), "alice does not manage team payments")
	}

	dana := f.signIn(t, "dana", "dana@example.com")
	if dana.count(`nav a[href="/audit"]`) != 1 || dana.count(`nav a[href="/reports/teams/payments"]`) != 1 {
		t.Errorf("dana's menu lacks the audit log or her team's report")
	}
	if status := dana.open("/audit"); status != 200 {
		t.Errorf("/audit as dana: %d", status)
	}
	dana.do("read the audit log", chromedp.WaitVisible(chromedp.CSS("tbody")))
	dana.wantText(chromedp.CSS("h1"), "Audit log")
	// alice is on dana's team: her sign-in is dana's to see.
	dana.wantContains(chromedp.CSS("tbody"), "sign-in", "alice (web)", "dana (web)", "oidc")
	if status := dana.open("/reports/teams/payments"); status != 200 {
		t.Errorf("/reports/teams/payments as dana: %d", status)
	}
	dana.do("read the report", chromedp.WaitVisible(chromedp.CSS("h1")))
	dana.wantText(chromedp.CSS("h1"), "Human SLO report: payments")

	t.Logf("done in %v", time.Since(began).Round(time.Millisecond))
}

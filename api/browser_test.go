package api_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/scheduler"
)

// The browser tests drive Chromium through the web UI as people do:
// signing in at an OpenID Connect provider (mockoidc, in this process),
// then clicking through pages and forms. Each step checks what the page
// says and what the store holds. Screenshots of the pages go to the run's
// artifacts directory (see artifactPath), and the tests log their paths.

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
	// From here on the fixture's clock (its store's and its server's) is
	// the run's: the identity provider's tokens are made and checked on
	// the real clock.
	f.onRunClock(t)
	// The redirect URL needs the server's address, known only now.
	st.OIDC = &api.OIDCSettings{Name: "Test SSO", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RedirectURL: f.srv.URL + "/auth/oidc/callback", Scopes: []string{"openid", "email", "profile"}}
	st.Admins = f.cfg.Auth.Admins
	f.api.SetSettings(st)
	// accessConfig gives only alice an email to sign in with.
	withEmails(t, f.book, map[string]string{"bruno": "bruno@example.com", "dana": "dana@example.com"})

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
	path := artifactPath(p.t, name)
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		path = "no screenshot: " + err.Error()
	} else if err := os.WriteFile(path, png, 0o644); err != nil {
		path = "no screenshot: " + err.Error()
	}
	return fmt.Sprintf("\nthe page: %s (%s)\n%s", loc, path, body)
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

// shot saves a full-page screenshot as name.png in the run's artifacts
// directory (quality 100 makes a PNG) and logs where.
func (p *browserUser) shot(name string) {
	p.t.Helper()
	png := browse(p, "screenshot "+name, chromedp.FullScreenshot(100))
	path := artifactPath(p.t, name+".png")
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
	// Her next two weeks as a timeline: her shifts only, a line per
	// rotation that pages her.
	if mine, all := alice.count(`#my-timeline g.tl-bar[data-person="alice"]`), alice.count(`#my-timeline g.tl-bar`); mine == 0 || mine != all {
		t.Errorf("alice's timeline has %d bars, %d of them hers", all, mine)
	}
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
	// Who has it, and what happens next when.
	alice.wantContains(chromedp.CSS("#incident-next"), "Assigned to:", "next: ")
	// The flash is only on the page the button leads to; it says what
	// the press did.
	alice.do("acknowledge", chromedp.Click(chromedp.ID("ack")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
	alice.wantText(chromedp.CSS("p.flash"), fmt.Sprintf("Incident %d acknowledged: its escalation stopped and its pending pages are cancelled.", id))
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
	alice.wantContains(chromedp.CSS("#overrides tbody"), fmt.Sprint(ov.ID), "alice", ovStart.Format(shown), ovEnd.Format(shown), ovReason, "alice (web)")
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

// phoneWidth and phoneHeight are the viewport of a phone (an iPhone 14's
// CSS pixels), shown at three device pixels to the CSS pixel.
const (
	phoneWidth  = 390
	phoneHeight = 844
)

// phoneAudit is what phoneAuditJS finds on a page.
type phoneAudit struct {
	// The page's width, the window's, and the elements that stick out
	// of the window (outside a .scroll wrapper, which scrolls them).
	ScrollWidth, InnerWidth, ClientWidth float64
	Wider                                []string
	// Missing labels, names, landmarks, alt texts: each a failure.
	Violations []string
	// Text below 4.5:1 against its background: each a failure.
	Contrast []string
	// Things worth a look that fail nothing.
	Notes []string
	// How many elements with text had their contrast checked, and the
	// lowest contrast among them.
	Checked int
	Lowest  string
}

// phoneAuditJS checks, in the page, what TestBrowserPhoneAndAccessibility
// wants of every page: nothing wider than the phone, a name for every
// control, button and link, one h1, a main landmark, a language, alt
// texts, and 4.5:1 contrast for all text. %d is the phone's width.
const phoneAuditJS = `(() => {
  const W = %d;
  const out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    clientWidth: document.documentElement.clientWidth, wider: [], violations: [], contrast: [], notes: [], checked: 0};
  const squash = s => (s || '').trim().replace(/\s+/g, ' ');
  const desc = el => {
    if (!el) return 'nothing';
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    for (const c of el.classList) s += '.' + c;
    const t = squash(el.innerText || el.value);
    if (t) s += ' "' + (t.length > 40 ? t.slice(0, 40) + '…' : t) + '"';
    return s;
  };
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const byIds = ids => squash((ids || '').split(/\s+/).map(id => document.getElementById(id)).filter(Boolean).map(e => e.textContent).join(' '));
  const aria = el => squash(el.getAttribute('aria-label')) || byIds(el.getAttribute('aria-labelledby'));

  // 1. Nothing sticks out of the phone's width but inside a .scroll
  // wrapper: name the outermost elements that do.
  const limit = Math.min(W, window.innerWidth);
  if (out.scrollWidth > limit) {
    const seen = new Set();
    const inScroll = el => el.parentElement && el.parentElement.closest('.scroll');
    for (const el of document.querySelectorAll('body, body *')) {
      if (inScroll(el) || !shown(el)) continue;
      const r = el.getBoundingClientRect();
      const p = el.parentElement;
      const pr = p.getBoundingClientRect();
      if (r.right > limit + 0.5 && !(p !== document.documentElement && pr.right > limit + 0.5)) {
        seen.add(el);
        out.wider.push(desc(el) + ' reaches ' + Math.round(r.right) + 'px (' + Math.round(r.width) + 'px wide) in ' + desc(p) + ' of ' + Math.round(pr.width) + 'px');
      }
      // And the innermost that are as wide as they are themselves (not
      // blocks stretched to a wide parent): what makes the outermost wide.
      if (!seen.has(el) && r.right > limit + 0.5 && ![...el.children].some(c => c.getBoundingClientRect().right > limit + 0.5) &&
          (getComputedStyle(el).display.startsWith('inline') || ['INPUT', 'SELECT', 'TEXTAREA', 'IMG', 'TABLE', 'PRE'].includes(el.tagName))) {
        seen.add(el);
        out.wider.push('inside it, ' + desc(el) + ' is ' + Math.round(r.width) + 'px wide (min-width ' + getComputedStyle(el).minWidth + ')');
      }
      // Content (a long word, say) can stick out of a box that fits.
      if (!seen.has(el) && getComputedStyle(el).overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1 && r.left + el.scrollWidth > limit + 0.5) {
        seen.add(el);
        out.wider.push('the content of ' + desc(el) + ' reaches ' + Math.round(r.left + el.scrollWidth) + 'px, its box ' + Math.round(r.right) + 'px');
      }
    }
  }

  // 2. Accessibility basics.
  const v = m => out.violations.push(m);
  if (!squash(document.documentElement.getAttribute('lang'))) v('html has no lang');
  const h1s = document.querySelectorAll('h1');
  if (h1s.length !== 1) v(h1s.length + ' h1 elements, want 1');
  const mains = document.querySelectorAll('main, [role="main"]');
  if (mains.length !== 1) v(mains.length + ' main landmarks, want 1');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !shown(el)) continue;
    const labelled = [...(el.labels || [])].some(l => squash(l.textContent)) || aria(el);
    if (!labelled) v('control ' + desc(el) + ' has no label');
  }
  for (const el of document.querySelectorAll('button, input[type=submit], input[type=button], input[type=reset], [role=button]')) {
    const name = aria(el) || squash(el.tagName === 'INPUT' ? el.value : el.textContent) || squash(el.title);
    if (!name) v('button ' + desc(el) + ' has no accessible name');
  }
  for (const el of document.querySelectorAll('img, input[type=image]')) {
    if (!el.hasAttribute('alt') && !aria(el)) v('image ' + desc(el) + ' (' + (el.getAttribute('src') || '') + ') has no alt');
  }
  for (const el of document.querySelectorAll('a[href]')) {
    const name = aria(el) || squash(el.textContent) || squash([...el.querySelectorAll('img[alt]')].map(i => i.alt).join(' ')) || squash(el.title);
    if (!name) v('link ' + desc(el) + ' to ' + el.getAttribute('href') + ' has no text');
  }
  // Notes, failing nothing: labels of no control, skipped heading
  // levels, ids twice (label[for] finds the first).
  for (const l of document.querySelectorAll('label')) {
    if (!l.control) out.notes.push('label ' + desc(l) + ' labels no control (' + l.outerHTML + ')');
  }
  let level = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const n = +h.tagName[1];
    if (n > level + 1) out.notes.push('heading ' + desc(h) + ' skips from h' + level + ' to h' + n);
    level = n;
  }
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) ids[el.id] = (ids[el.id] || 0) + 1;
  for (const id in ids) if (ids[id] > 1) out.notes.push('id ' + id + ' is on ' + ids[id] + ' elements');

  // 4. Contrast: every element with text of its own, against the first
  // background behind it that is not transparent (white if none),
  // blending the translucent ones on the way.
  const parse = c => {
    const m = /^rgba?\(([^)]*)\)$/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(x => x.endsWith('%%') ? parseFloat(x) / 100 : parseFloat(x));
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const hex = c => '#' + [c.r, c.g, c.b].map(x => Math.round(x).toString(16).padStart(2, '0')).join('');
  const lum = c => {
    const f = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const raw = getComputedStyle(e).backgroundColor;
      const c = parse(raw);
      if (!c) { out.notes.push('cannot read the background ' + raw + ' of ' + desc(e)); continue; }
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const hasText = el => {
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) return el.type !== 'hidden' && squash(el.tagName === 'SELECT' ? (el.selectedOptions[0] || {}).text : el.value);
    return [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && squash(n.textContent));
  };
  let lowest = Infinity;
  for (const el of document.querySelectorAll('body, body *')) {
    if (['SCRIPT', 'STYLE', 'OPTION', 'OPTGROUP', 'TITLE'].includes(el.tagName) || !hasText(el) || !shown(el)) continue;
    const s = getComputedStyle(el);
    const bg = background(el);
    let fg = parse(s.color);
    if (!fg) { out.notes.push('cannot read the colour ' + s.color + ' of ' + desc(el)); continue; }
    fg = over(fg, bg);
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out.checked++;
    if (!(ratio >= lowest)) { lowest = ratio; out.lowest = desc(el) + ' ' + hex(fg) + ' on ' + hex(bg) + ' ' + ratio.toFixed(2) + ':1'; }
    if (ratio < 4.5) out.contrast.push(desc(el) + ': ' + hex(fg) + ' on ' + hex(bg) + ' is ' + ratio.toFixed(2) + ':1 (' + s.fontSize + ' weight ' + s.fontWeight + ')');
  }
  return out;
})()`

// focusInfo is the focused element, where it is, and whether what it
// links to is on the page.
type focusInfo struct {
	Tag, Class, Text, Href   string
	Left, Right, Top, Bottom float64
	InnerWidth               float64
	Target                   bool
}

const focusJS = `(() => {
  const a = document.activeElement || document.body;
  const r = a.getBoundingClientRect();
  const href = a.getAttribute('href') || '';
  return {tag: a.tagName.toLowerCase(), class: a.className, text: (a.textContent || '').trim(), href: href,
    left: r.left, right: r.right, top: r.top, bottom: r.bottom, innerWidth: window.innerWidth,
    target: href.startsWith('#') && !!document.getElementById(href.slice(1))};
})()`

// TestBrowserPhoneAndAccessibility opens every page of the web UI, as
// alice, on a phone-sized screen, and checks that no page is wider than
// the phone, that the pages have what screen readers and keyboards need
// (labels, names, one h1, a main landmark, a language, alt texts, a skip
// link first in the tab order), and that all text keeps 4.5:1 contrast.
func TestBrowserPhoneAndAccessibility(t *testing.T) {
	began := time.Now()
	f := newBrowserFixture(t)

	// An incident, for the incident page and the Now page's budget.
	r := f.do(t, "POST", "/api/v1/alerts", payKey, "", `{"summary":"Payments API 5xx above 5%","severity":"critical"}`)
	incID, ok := r.body["incident_id"].(float64)
	if r.status/100 != 2 || !ok {
		t.Fatalf("posting the alert: %d %s", r.status, r.raw)
	}
	incident := fmt.Sprintf("/incidents/%d", int64(incID))

	alice := f.signIn(t, "alice", "alice@example.com")
	alice.do("turn into a phone", chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch))

	incH1 := fmt.Sprintf("Incident %d: Payments API 5xx above 5%%", int64(incID))
	// Each page, opened; or, with ack, the incident page acknowledged
	// (its flash and the acknowledged badge have colours of their own).
	pages := []struct {
		path, h1, shot string
		ack            bool
	}{
		{"/", "Now", "phone-now", false},
		{"/rotations", "Rotations", "", false},
		{"/rotations/primary", "Rotation primary", "", false},
		{"/incidents", "Incidents", "", false},
		{incident, incH1, "phone-incident", false},
		{incident, incH1, "", true},
		{"/swaps", "Swaps", "", false},
		{"/tokens", "Tokens", "", false},
	}
	for _, pg := range pages {
		step := time.Now()
		if pg.ack {
			alice.do("acknowledge "+pg.path, chromedp.Click(chromedp.ID("ack")), chromedp.WaitVisible(chromedp.CSS("p.flash")))
			alice.wantText(chromedp.CSS("#incident-status"), "acknowledged")
			pg.path += " (acknowledged)"
		} else if status := alice.open(pg.path); status != 200 {
			t.Errorf("%s: %d, want 200", pg.path, status)
		}
		alice.do("read "+pg.path, chromedp.WaitVisible(chromedp.CSS("main h1")))
		alice.wantText(chromedp.CSS("h1"), pg.h1)

		a := browse(alice, "audit "+pg.path, chromedp.Evaluate[phoneAudit](fmt.Sprintf(phoneAuditJS, phoneWidth)))
		// A phone widens the window to a page wider than its screen.
		if a.ScrollWidth > min(a.InnerWidth, phoneWidth) || a.InnerWidth != phoneWidth {
			t.Errorf("%s is %vpx wide on a %dpx phone (the window %vpx): it scrolls sideways; sticking out:\n\t%s",
				pg.path, a.ScrollWidth, phoneWidth, a.InnerWidth, strings.Join(a.Wider, "\n\t"))
		}
		for _, v := range a.Violations {
			t.Errorf("%s: %s", pg.path, v)
		}
		for _, c := range a.Contrast {
			t.Errorf("%s: contrast below 4.5:1: %s", pg.path, c)
		}
		if a.Checked == 0 {
			t.Errorf("%s: no text had its contrast checked", pg.path)
		}
		for _, n := range a.Notes {
			t.Logf("%s: note: %s", pg.path, n)
		}

		if pg.shot != "" {
			alice.shot(pg.shot)
		}

		// From the top of the page, Tab goes first to the skip link, which
		// shows on the phone's screen and leads to the page's content.
		alice.do("press Tab on "+pg.path, chromedp.KeyEvent(kb.Tab))
		fi := browse(alice, "read the focus on "+pg.path, chromedp.Evaluate[focusInfo](focusJS))
		switch {
		case fi.Tag != "a" || fi.Text != "Skip to content":
			t.Errorf("%s: Tab focuses <%s class=%q> %q first, want the link Skip to content", pg.path, fi.Tag, fi.Class, fi.Text)
		case fi.Left < 0 || fi.Right > fi.InnerWidth || fi.Top < 0 || fi.Bottom <= fi.Top:
			t.Errorf("%s: the focused skip link is off the screen: %+v", pg.path, fi)
		case !fi.Target:
			t.Errorf("%s: the skip link leads to %q, which is not on the page", pg.path, fi.Href)
		}

		t.Logf("%s: %vpx of %vpx wide; %d texts' contrast checked, the lowest %s; in %v",
			pg.path, a.ScrollWidth, a.InnerWidth, a.Checked, a.Lowest, time.Since(step).Round(time.Millisecond))
	}
	t.Logf("done in %v", time.Since(began).Round(time.Millisecond))
}

// TestBrowserLiveUpdates: alice keeps Now open; an alert posted through
// the API appears on it within 5 seconds, without a reload. She opens the
// incident; acknowledged by the service's key meanwhile, the page says so
// within 5 seconds. The script is allowed by the page's nonce, and no
// page without live content loads one.
func TestBrowserLiveUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("reads no clock of its own: make test-dates need not run it at every instant")
	}
	f := newBrowserFixture(t)
	alice := f.signIn(t, "alice", "alice@example.com")
	if n := alice.count(`script[src="/static/live.js"][nonce]`); n != 1 {
		t.Fatalf("Now loads live.js %d times with a nonce", n)
	}
	// The page's identity: a reload would make a new one.
	browse(alice, "mark the page", chromedp.Evaluate[string](`window.rotaMark = 'still here'`))
	r := f.do(t, "POST", "/api/v1/alerts", payKey, "", `{"summary":"Ledger lag above 5 minutes","severity":"critical"}`)
	incID, ok := r.body["incident_id"].(float64)
	if r.status/100 != 2 || !ok {
		t.Fatalf("posting the alert: %d %s", r.status, r.raw)
	}
	posted := time.Now()
	browse(alice, "wait for the alert on Now", chromedp.Poll[bool](`document.querySelector('#open-incidents') !== null &&
		document.querySelector('#open-incidents').textContent.includes('Ledger lag above 5 minutes')`, chromedp.WithPollingTimeout(5*time.Second)))
	t.Logf("on Now %v after the post", time.Since(posted).Round(time.Millisecond))
	if mark := browse(alice, "read the mark", chromedp.Evaluate[string](`window.rotaMark`)); mark != "still here" {
		t.Errorf("the page was reloaded (mark %q)", mark)
	}
	alice.wantContains(chromedp.CSS("#live-status"), "Updated at")

	incident := fmt.Sprintf("/incidents/%d", int64(incID))
	alice.do("open the incident", chromedp.Navigate(f.srv.URL+incident), chromedp.WaitVisible(chromedp.ID("ack")))
	alice.wantText(chromedp.CSS("#incident-status"), "triggered")
	if r := f.do(t, "POST", fmt.Sprintf("/api/v1/incidents/%d/ack", int64(incID)), payKey, "", ""); r.status != 200 {
		t.Fatalf("acknowledging by the service's key: %d %s", r.status, r.raw)
	}
	acked := time.Now()
	browse(alice, "wait for the acknowledgement", chromedp.Poll[bool](`document.querySelector('#incident-status').textContent.trim() === 'acknowledged'`,
		chromedp.WithPollingTimeout(5*time.Second)))
	t.Logf("acknowledged on the incident page %v after the API call", time.Since(acked).Round(time.Millisecond))
	alice.wantContains(chromedp.CSS("main"), "acknowledged by service payments-api")

	// Pages that are not live carry no script, and their policy allows none.
	alice.do("open /rotations", chromedp.Navigate(f.srv.URL+"/rotations"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if n := alice.count("script"); n != 0 {
		t.Errorf("/rotations has %d scripts", n)
	}
}

// TestBrowserManagerNow: dana manages payments. Her Now shows the team's
// week at a glance: each member's budgets and state, what is open on its
// services, and the coverage gap next week when both its people are away;
// at 390px it has no sideways scroll, and it passes the page audit.
func TestBrowserManagerNow(t *testing.T) {
	if testing.Short() {
		t.Skip("reads no clock of its own: make test-dates need not run it at every instant")
	}
	f := newBrowserFixture(t)
	for _, summary := range []string{"Card auth failing", "Ledger lag"} {
		if r := f.do(t, "POST", "/api/v1/alerts", payKey, "", fmt.Sprintf(`{"summary":%q,"severity":"critical","dedup_key":%q}`, summary, summary)); r.status != 202 {
			t.Fatalf("posting the alert: %d %s", r.status, r.raw)
		}
	}
	// Both of primary's people away the week after next: nobody on call.
	start, _ := f.book.Roster().OnCall("primary", f.now)
	away := rota.Leave{Start: start.End.Add(7 * 24 * time.Hour), End: start.End.Add(10 * 24 * time.Hour), Source: "test"}
	if err := f.book.Update(func(r *scheduler.Roster) (*scheduler.Roster, error) {
		return r.WithLeave("alice", []rota.Leave{away}).WithLeave("bruno", []rota.Leave{away}), nil
	}); err != nil {
		t.Fatal(err)
	}
	dana := f.signIn(t, "dana", "dana@example.com")
	dana.wantText(chromedp.CSS("#health-payments"), "Team payments this week")
	dana.wantContains(chromedp.CSS("section.team-health"), "Open on its services: 1 triggered, 0 acknowledged", // the two alerts are one incident (grouped by time)
		"alice", "bruno", "of 2", "Coverage gaps in the next 14 days", "primary: nobody on call from")
	if n := dana.count("table.health tbody tr"); n != 2 {
		t.Errorf("%d members in the health table, want 2", n)
	}
	if n := dana.count("section.team-health"); n != 1 {
		t.Errorf("%d teams' health, want payments only", n)
	}
	dana.wantContains(chromedp.CSS("main"), "You are on no team yourself")
	dana.shot("browser-manager-now")
	dana.do("turn into a phone", chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch))
	dana.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	a := browse(dana, "audit the manager's Now", chromedp.Evaluate[phoneAudit](fmt.Sprintf(phoneAuditJS, phoneWidth)))
	if a.ScrollWidth > min(a.InnerWidth, phoneWidth) {
		t.Errorf("the manager's Now is %vpx wide on a %dpx phone; sticking out:\n\t%s", a.ScrollWidth, phoneWidth, strings.Join(a.Wider, "\n\t"))
	}
	for _, v := range append(a.Violations, a.Contrast...) {
		t.Errorf("the manager's Now: %s", v)
	}
	dana.shot("phone-manager-now")
	// The team's report reads on the phone too: no sideways scroll.
	if status := dana.open("/reports/teams/payments"); status != 200 {
		t.Fatalf("the report: %d", status)
	}
	dana.do("read the report", chromedp.WaitVisible(chromedp.CSS("h1")))
	a = browse(dana, "audit the report", chromedp.Evaluate[phoneAudit](fmt.Sprintf(phoneAuditJS, phoneWidth)))
	if a.ScrollWidth > min(a.InnerWidth, phoneWidth) {
		t.Errorf("the report is %vpx wide on a %dpx phone; sticking out:\n\t%s", a.ScrollWidth, phoneWidth, strings.Join(a.Wider, "\n\t"))
	}
	for _, v := range append(a.Violations, a.Contrast...) {
		t.Errorf("the report: %s", v)
	}
	// Its charts' words stay readable: drawn at least 9px tall on the
	// phone, none cut off at a chart's edge.
	var labels struct {
		Smallest float64  `json:"smallest"`
		Cut      []string `json:"cut"`
	}
	labels = browse(dana, "measure the charts' words", chromedp.Evaluate[struct {
		Smallest float64  `json:"smallest"`
		Cut      []string `json:"cut"`
	}](`(() => {
		let smallest = 1e9, cut = [];
		for (const t of document.querySelectorAll('svg text')) {
			if (getComputedStyle(t).display === 'none' || t.textContent.trim() === '') continue;
			const r = t.getBoundingClientRect(), s = t.ownerSVGElement.getBoundingClientRect();
			smallest = Math.min(smallest, r.height);
			if (r.left < s.left - 0.5 || r.right > s.right + 0.5) cut.push(t.textContent + ' ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + Math.round(s.left) + '..' + Math.round(s.right));
		}
		return {smallest, cut};
	})()`))
	if labels.Smallest < 9 {
		t.Errorf("the report's chart words are %.1fpx tall on the phone: unreadable", labels.Smallest)
	}
	for _, c := range labels.Cut {
		t.Errorf("a chart's word is cut off at its edge: %s", c)
	}
	dana.shot("phone-report")
	// A responder has no team's health on Now.
	alice := f.signIn(t, "alice", "alice@example.com")
	if n := alice.count("section.team-health"); n != 0 {
		t.Errorf("alice (a responder) sees %d teams' health", n)
	}
}

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/paging"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
	"github.com/rotahq/rota/store/storetest"
)

// The sign-in tests walk the OpenID Connect sign-in over HTTP, without a
// browser: a client with a cookie jar goes from rota to the identity
// provider (mockoidc, in this process) and back, one hop at a time, so
// that every status, Location and cookie along the way can be checked.

// oidcFixture is the auth fixture with an identity provider configured.
type oidcFixture struct {
	*authFixture
	idp *mockoidc.MockOIDC
	// st are the settings the server runs with.
	st api.Settings
}

func newOIDCFixture(t *testing.T) *oidcFixture {
	t.Helper()
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
	st.OIDC = &api.OIDCSettings{Name: "Test SSO", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RedirectURL: f.srv.URL + "/auth/oidc/callback", Scopes: []string{"openid", "email", "profile"}}
	st.Admins = f.cfg.Auth.Admins
	f.api.SetSettings(st)
	return &oidcFixture{authFixture: f, idp: idp, st: st}
}

// queue makes the provider's next sign-in the person with email.
func (f *oidcFixture) queue(subject, email string, verified bool) {
	f.idp.QueueUser(&mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: verified})
}

// webHop is one request and its answer.
type webHop struct {
	method, url string
	status      int
	location    string
	cookies     []*http.Cookie
	body        string
}

// setCookie returns the cookie named name the answer set, or nil.
func (h webHop) setCookie(name string) *http.Cookie {
	for _, c := range h.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// webClient is a browser without a browser: a cookie jar, and redirects
// followed by hand. Requests go straight to the transport, which (unlike
// http.Client) does not parse Location: the tests read it as sent.
type webClient struct {
	t   *testing.T
	jar *cookiejar.Jar
}

func newWebClient(t *testing.T) *webClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &webClient{t: t, jar: jar}
}

// do sends one request (a form when form is not nil) with the jar's
// cookies and extra ones, follows no redirect, and keeps the cookies
// the answer sets.
func (c *webClient) do(method, target string, form url.Values, extra ...*http.Cookie) webHop {
	c.t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		c.t.Fatal(err)
	}
	h := sendHop(c.t, method, target, form, append(c.jar.Cookies(u), extra...)...)
	c.jar.SetCookies(u, h.cookies)
	return h
}

// bare sends one request with only the cookies given (none of a jar's),
// as someone replaying a cookie by hand would.
func bare(t *testing.T, method, target string, form url.Values, cookies ...*http.Cookie) webHop {
	t.Helper()
	return sendHop(t, method, target, form, cookies...)
}

// sendHop makes one round trip.
func sendHop(t *testing.T, method, target string, form url.Values, cookies ...*http.Cookie) webHop {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return webHop{method: method, url: target, status: res.StatusCode, location: res.Header.Get("Location"), cookies: res.Cookies(), body: string(b)}
}

// follow does method target and follows redirects, as a browser does (a
// 303 turns a POST into a GET), and returns every hop.
func (c *webClient) follow(method, target string, form url.Values) []webHop {
	c.t.Helper()
	var hops []webHop
	for range 10 {
		h := c.do(method, target, form)
		hops = append(hops, h)
		if h.status < 300 || h.status > 399 || h.location == "" {
			return hops
		}
		base, _ := url.Parse(target)
		next, err := base.Parse(h.location)
		if err != nil {
			c.t.Fatalf("%s %s: Location %q: %v", method, target, h.location, err)
		}
		if h.status == http.StatusSeeOther || h.status == http.StatusFound {
			method, form = http.MethodGet, nil
		}
		target = next.String()
	}
	c.t.Fatalf("more than 10 redirects: %v", describeHops(hops))
	return nil
}

func describeHops(hops []webHop) string {
	var b strings.Builder
	for _, h := range hops {
		b.WriteString("\n  " + h.method + " " + h.url + " -> " + http.StatusText(h.status))
		if h.location != "" {
			b.WriteString(" Location: " + h.location)
		}
	}
	return b.String()
}

// cookie returns the jar's cookie named name for target, or nil.
func (c *webClient) cookie(target, name string) *http.Cookie {
	u, _ := url.Parse(target)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// startLogin begins a sign-in with next and goes to the provider, which
// sends the browser back: it returns the callback URL the provider made
// (with its code and state) and the rota_oidc cookie rota set, stopping
// before the callback.
func (f *oidcFixture) startLogin(c *webClient, next string) (*url.URL, *http.Cookie) {
	c.t.Helper()
	login := c.do("GET", f.srv.URL+"/auth/oidc/login?next="+url.QueryEscape(next), nil)
	if login.status != http.StatusFound || !strings.HasPrefix(login.location, f.idp.AuthorizationEndpoint()) {
		c.t.Fatalf("login: %d to %q, want 302 to the provider's %s", login.status, login.location, f.idp.AuthorizationEndpoint())
	}
	state := login.setCookie("rota_oidc")
	if state == nil {
		c.t.Fatalf("login set no rota_oidc cookie: %v", login.cookies)
	}
	auth := c.do("GET", login.location, nil)
	if auth.status != http.StatusFound || !strings.HasPrefix(auth.location, f.srv.URL+"/auth/oidc/callback?") {
		c.t.Fatalf("provider: %d to %q (%s), want 302 to our callback", auth.status, auth.location, auth.body)
	}
	cb, err := url.Parse(auth.location)
	if err != nil {
		c.t.Fatal(err)
	}
	return cb, state
}

// signInOIDC signs the client in as alice through the provider and
// returns the session cookie as set.
func (f *oidcFixture) signInOIDC(c *webClient) *http.Cookie {
	c.t.Helper()
	f.queue("sub-alice", "alice@example.com", true)
	hops := c.follow("GET", f.srv.URL+"/auth/oidc/login?next=/", nil)
	last := hops[len(hops)-1]
	if last.status != 200 || last.url != f.srv.URL+"/" {
		c.t.Fatalf("signing in ended with %d on %s:%s", last.status, last.url, describeHops(hops))
	}
	var ck *http.Cookie
	for _, h := range hops {
		if set := h.setCookie("rota_session"); set != nil {
			ck = set
		}
	}
	if ck == nil || c.cookie(f.srv.URL+"/", "rota_session") == nil {
		c.t.Fatalf("signed in without a session cookie:%s", describeHops(hops))
	}
	return ck
}

// me asks /api/v1/me with the jar's cookies: its status and actor.
func (f *oidcFixture) me(c *webClient) (int, string) {
	c.t.Helper()
	return meAnswer(c.t, c.do("GET", f.srv.URL+"/api/v1/me", nil))
}

func meAnswer(t *testing.T, h webHop) (int, string) {
	t.Helper()
	var body struct {
		Actor string `json:"actor"`
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(h.body), &body); err != nil {
		t.Fatalf("/api/v1/me: %d %q: %v", h.status, h.body, err)
	}
	if body.Actor == "" {
		return h.status, body.Error.Message
	}
	return h.status, body.Actor
}

// audit returns the audit log's entries with action, oldest first.
func (f *oidcFixture) audit(t *testing.T, action string) []rota.AuditEntry {
	t.Helper()
	return auditOf(t, f.db, action)
}

func auditOf(t *testing.T, db *store.DB, action string) []rota.AuditEntry {
	t.Helper()
	all, err := db.AuditLog(context.Background(), rota.AuditQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []rota.AuditEntry
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Action == action {
			out = append(out, all[i])
		}
	}
	return out
}

// TestSignInOIDC: signing in through the provider lands on the page
// asked for, with a session, and is in the audit log.
func TestSignInOIDC(t *testing.T) {
	f := newOIDCFixture(t)
	c := newWebClient(t)
	f.queue("sub-alice", "alice@example.com", true)
	before := f.now
	hops := c.follow("GET", f.srv.URL+"/auth/oidc/login?next=/incidents", nil)
	if len(hops) != 4 {
		t.Fatalf("want login, provider, callback, page:%s", describeHops(hops))
	}
	login, auth, cb, page := hops[0], hops[1], hops[2], hops[3]

	// Off to the provider with state, nonce and a PKCE challenge.
	az, _ := url.Parse(login.location)
	q := az.Query()
	for k, want := range map[string]string{"client_id": f.idp.ClientID, "redirect_uri": f.srv.URL + "/auth/oidc/callback",
		"response_type": "code", "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			t.Errorf("authorization request %s=%q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 16 {
			t.Errorf("authorization request %s=%q: want a random value", k, q.Get(k))
		}
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		t.Errorf("scope %q lacks openid", q.Get("scope"))
	}
	if st := login.setCookie("rota_oidc"); st == nil || !st.HttpOnly || st.Path != "/auth/oidc/" || st.MaxAge != 600 || st.SameSite != http.SameSiteLaxMode {
		t.Errorf("state cookie %+v: want HttpOnly, Lax, on /auth/oidc/ for ten minutes", st)
	}
	if auth.status != http.StatusFound {
		t.Errorf("provider: %d", auth.status)
	}

	// Back: a session, and on to next.
	if cb.status != http.StatusSeeOther || cb.location != "/incidents" {
		t.Errorf("callback: %d to %q, want 303 to /incidents: %s", cb.status, cb.location, cb.body)
	}
	sess := cb.setCookie("rota_session")
	if sess == nil {
		t.Fatalf("callback set no session cookie: %v", cb.cookies)
	}
	if !sess.HttpOnly || sess.Path != "/" || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, Lax, on / (not Secure over http)", sess)
	}
	if exp := before.Add(7 * 24 * time.Hour); sess.Expires.Before(exp.Add(-time.Minute)) || sess.Expires.After(f.now.Add(7*24*time.Hour+time.Minute)) {
		t.Errorf("session cookie expires %v, want a week on (%v)", sess.Expires, exp)
	}
	if ck := cb.setCookie("rota_oidc"); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("callback does not clear the state cookie: %+v", ck)
	}
	if ck := c.cookie(f.srv.URL+"/auth/oidc/callback", "rota_oidc"); ck != nil {
		t.Errorf("the state cookie outlives the sign-in: %+v", ck)
	}
	if page.url != f.srv.URL+"/incidents" || page.status != 200 || !strings.Contains(page.body, "<h1>Incidents</h1>") {
		t.Errorf("landed on %s with %d, want the incidents page", page.url, page.status)
	}
	if !strings.Contains(page.body, `<span class="who">alice <span class="role">(responder)</span></span>`) {
		t.Errorf("the page does not show alice signed in")
	}
	if status, actor := f.me(c); status != 200 || actor != "alice (web)" {
		t.Errorf("/api/v1/me after signing in: %d %q", status, actor)
	}

	ins := f.audit(t, "sign-in")
	if len(ins) != 1 {
		t.Fatalf("sign-in audit entries: %+v, want one", ins)
	}
	if e := ins[0]; e.Person != "alice" || e.Actor != "alice (web)" || e.Detail != "oidc" || !strings.HasPrefix(e.Subject, "session ") {
		t.Errorf("audit entry %+v: want alice (web) signing in by oidc to a session", e)
	}
}

// TestSignInNextStaysLocal: next never sends the browser to another site.
func TestSignInNextStaysLocal(t *testing.T) {
	f := newOIDCFixture(t)
	for _, tt := range []struct{ next, want string }{
		// Another site, as a browser reads it: home instead.
		{"//evil.example/x", "/"},
		{"https://evil.example", "/"},
		{`/\evil.example`, "/"},
		{`/./\evil.example`, "/evil.example"},
		{`/.\/evil.example`, "/evil.example"},
		{`/%5Cevil.example`, "/"},
		{`/%5C%5Cevil.example`, "/"},
		{"/%2F%2Fevil.example", "/evil.example"},
		{"/../../evil.example", "/evil.example"},
		{"///evil.example", "/"},
		{"http:/evil.example", "/"},
		{"evil.example", "/"},
		{"", "/"},
		{"/rotations/primary?weeks=2", "/rotations/primary?weeks=2"},
	} {
		c := newWebClient(t)
		f.queue("sub-alice", "alice@example.com", true)
		hops := c.follow("GET", f.srv.URL+"/auth/oidc/login?next="+url.QueryEscape(tt.next), nil)
		last := hops[len(hops)-1]
		// A path of this site that no page answers is a 404 here, not
		// a visit elsewhere.
		if last.url != f.srv.URL+tt.want || last.status != 200 && !(last.status == 404 && strings.Contains(tt.want, "evil")) {
			t.Errorf("next=%q: landed on %s (%d), want %s%s:%s", tt.next, last.url, last.status, f.srv.URL, tt.want, describeHops(hops))
		}
		if len(hops) < 3 || hops[2].location != tt.want {
			t.Errorf("next=%q: callback sent the browser to %q, want %q", tt.next, hops[2].location, tt.want)
		}
	}
}

// TestSignInNextControlCharacters: browsers drop tabs and newlines from
// a URL before reading it (WHATWG URL parsing), so "/<TAB>/evil.example"
// is "//evil.example" to them: another site. A Location must not become
// one that way.
func TestSignInNextControlCharacters(t *testing.T) {
	f := newOIDCFixture(t)
	browserReads := strings.NewReplacer("\t", "", "\n", "", "\r", "")
	for _, next := range []string{"/\t/evil.example", "/\t\\evil.example", "/\n/evil.example", "/\r\n/evil.example"} {
		c := newWebClient(t)
		f.queue("sub-alice", "alice@example.com", true)
		cb, _ := f.startLogin(c, next)
		h := c.do("GET", cb.String(), nil)
		if h.status != http.StatusSeeOther {
			t.Errorf("next=%q: callback %d, want 303: %s", next, h.status, h.body)
			continue
		}
		if loc := browserReads.Replace(h.location); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) {
			t.Errorf("next=%q: callback sends the browser to Location %q, which a browser reads as %q: another site", next, h.location, loc)
		}
	}
	// The development sign-in takes next too.
	d := newAuthFixture(t, withToken(), true)
	d.onRunClock(t)
	h := bare(t, "POST", d.srv.URL+"/auth/dev", url.Values{"person": {"alice"}, "next": {"/\t/evil.example"}})
	if loc := browserReads.Replace(h.location); h.status != http.StatusSeeOther || strings.HasPrefix(loc, "//") {
		t.Errorf("dev sign-in with next=\"/\\t/evil.example\": %d to Location %q, which a browser reads as %q", h.status, h.location, loc)
	}
}

// TestSignInUnknownEmail: a verified email no person has is refused,
// with a page that names it, no session, and an audit entry.
func TestSignInUnknownEmail(t *testing.T) {
	f := newOIDCFixture(t)
	c := newWebClient(t)
	f.queue("sub-nobody", "nobody@example.com", true)
	hops := c.follow("GET", f.srv.URL+"/auth/oidc/login?next=/incidents", nil)
	last := hops[len(hops)-1]
	if last.status != http.StatusForbidden || !strings.HasPrefix(last.url, f.srv.URL+"/auth/oidc/callback?") {
		t.Fatalf("want 403 at the callback:%s", describeHops(hops))
	}
	msg := "you signed in as nobody@example.com, but no person in rota&#39;s configuration has that verified email"
	if !strings.Contains(last.body, msg) || !strings.Contains(last.body, "That was not done") {
		t.Errorf("the refusal page does not say why: %s", last.body)
	}
	for _, h := range hops {
		if ck := h.setCookie("rota_session"); ck != nil {
			t.Errorf("%s %s set a session cookie", h.method, h.url)
		}
	}
	if ck := c.cookie(f.srv.URL+"/", "rota_session"); ck != nil {
		t.Errorf("the jar holds a session cookie: %+v", ck)
	}
	if status, _ := f.me(c); status != 401 {
		t.Errorf("/api/v1/me after the refusal: %d", status)
	}
	refused := f.audit(t, "sign-in.refused")
	if len(refused) != 1 || refused[0].Subject != "nobody@example.com" || refused[0].Detail != "no configured person" || refused[0].Person != "" {
		t.Errorf("sign-in.refused entries: %+v", refused)
	}
	if ins := f.audit(t, "sign-in"); len(ins) != 0 {
		t.Errorf("sign-in entries after a refusal: %+v", ins)
	}
}

// TestSignInUnverifiedEmail: alice's email, not verified by the provider
// (mockoidc then sends no email_verified), does not sign anyone in.
func TestSignInUnverifiedEmail(t *testing.T) {
	f := newOIDCFixture(t)
	c := newWebClient(t)
	f.queue("sub-mallory", "alice@example.com", false)
	hops := c.follow("GET", f.srv.URL+"/auth/oidc/login?next=/", nil)
	last := hops[len(hops)-1]
	if last.status != http.StatusForbidden {
		t.Fatalf("an unverified email: want 403:%s", describeHops(hops))
	}
	if !strings.Contains(last.body, "alice@example.com (not verified by the provider)") {
		t.Errorf("the refusal page does not say the email is unverified: %s", last.body)
	}
	if ck := c.cookie(f.srv.URL+"/", "rota_session"); ck != nil {
		t.Errorf("signed in with an unverified email")
	}
	if refused := f.audit(t, "sign-in.refused"); len(refused) != 1 || refused[0].Subject != "alice@example.com (not verified by the provider)" {
		t.Errorf("sign-in.refused entries: %+v", refused)
	}
	if ins := f.audit(t, "sign-in"); len(ins) != 0 {
		t.Errorf("sign-in entries: %+v", ins)
	}
}

// TestSignInStateMismatch: a callback whose state is not the one this
// browser's sign-in began with, or that comes without the state cookie,
// is refused (401) before the code is used; the same code with the right
// state and cookie then works, so the refusals were for that alone.
func TestSignInStateMismatch(t *testing.T) {
	f := newOIDCFixture(t)

	t.Run("other state", func(t *testing.T) {
		c := newWebClient(t)
		f.queue("sub-alice", "alice@example.com", true)
		cb, state := f.startLogin(c, "/")
		forged := *cb
		q := forged.Query()
		q.Set("state", "not-"+q.Get("state"))
		forged.RawQuery = q.Encode()
		h := c.do("GET", forged.String(), nil)
		if h.status != http.StatusUnauthorized {
			t.Errorf("callback with another state: %d (Location %q), want 401", h.status, h.location)
		}
		if h.setCookie("rota_session") != nil || c.cookie(f.srv.URL+"/", "rota_session") != nil {
			t.Errorf("callback with another state made a session")
		}
		if ins := f.audit(t, "sign-in"); len(ins) != 0 {
			t.Errorf("sign-in entries: %+v", ins)
		}
		// The refusal cleared the state cookie; with it back, the
		// provider's own answer signs in.
		h = bare(t, "GET", cb.String(), nil, &http.Cookie{Name: state.Name, Value: state.Value})
		if h.status != http.StatusSeeOther || h.setCookie("rota_session") == nil {
			t.Errorf("the provider's callback with the state cookie: %d: %s", h.status, h.body)
		}
	})

	t.Run("no state cookie", func(t *testing.T) {
		c := newWebClient(t)
		f.queue("sub-alice", "alice@example.com", true)
		cb, state := f.startLogin(c, "/")
		signIns := len(f.audit(t, "sign-in"))
		// Another browser (no cookies) with the right code and state.
		h := bare(t, "GET", cb.String(), nil)
		if h.status != http.StatusUnauthorized {
			t.Errorf("callback without the state cookie: %d (Location %q), want 401", h.status, h.location)
		}
		if h.setCookie("rota_session") != nil {
			t.Errorf("callback without the state cookie made a session")
		}
		// A damaged cookie too.
		h = bare(t, "GET", cb.String(), nil, &http.Cookie{Name: "rota_oidc", Value: "e30"}) // "{}"
		if h.status != http.StatusUnauthorized || h.setCookie("rota_session") != nil {
			t.Errorf("callback with an empty state cookie: %d (Location %q), want 401", h.status, h.location)
		}
		if ins := f.audit(t, "sign-in"); len(ins) != signIns {
			t.Errorf("sign-in entries: %d, want %d as before", len(ins), signIns)
		}
		// The code was not spent: the browser that began it signs in.
		h = c.do("GET", cb.String(), nil)
		if h.status != http.StatusSeeOther || h.setCookie("rota_session") == nil {
			t.Errorf("the browser that began the sign-in (cookie %s): %d: %s", state.Name, h.status, h.body)
		}
	})
}

// TestSignInProviderRefuses: when the provider answers with an error
// (the person cancelled), the callback says so (401), and makes no
// session.
func TestSignInProviderRefuses(t *testing.T) {
	f := newOIDCFixture(t)
	c := newWebClient(t)
	cb, _ := f.startLogin(c, "/")
	q := url.Values{"error": {"access_denied"}, "error_description": {"the person cancelled"}, "state": {cb.Query().Get("state")}}
	h := c.do("GET", f.srv.URL+"/auth/oidc/callback?"+q.Encode(), nil)
	if h.status != http.StatusUnauthorized || !strings.Contains(h.body, "the identity provider refused the sign-in: access_denied the person cancelled") {
		t.Errorf("callback with the provider's error: %d (Location %q), want 401 saying why", h.status, h.location)
	}
	if h.setCookie("rota_session") != nil {
		t.Errorf("the provider's refusal made a session")
	}
}

// TestSignInReplayedCallback: the provider's code works once. The same
// callback again, from the same browser (whose state cookie is spent) or
// with the state cookie put back by hand, is refused and makes no second
// session.
func TestSignInReplayedCallback(t *testing.T) {
	f := newOIDCFixture(t)
	c := newWebClient(t)
	f.queue("sub-alice", "alice@example.com", true)
	cb, state := f.startLogin(c, "/")
	first := c.do("GET", cb.String(), nil)
	if first.status != http.StatusSeeOther || first.setCookie("rota_session") == nil {
		t.Fatalf("first callback: %d: %s", first.status, first.body)
	}
	again := c.do("GET", cb.String(), nil)
	if again.status != http.StatusUnauthorized {
		t.Errorf("the callback again, same browser: %d (Location %q), want 401", again.status, again.location)
	}
	// An attacker who kept the state cookie as well: the provider
	// refuses the spent code.
	stolen := bare(t, "GET", cb.String(), nil, &http.Cookie{Name: state.Name, Value: state.Value})
	if stolen.status != http.StatusUnauthorized {
		t.Errorf("the callback again with the state cookie: %d (Location %q), want 401", stolen.status, stolen.location)
	}
	for _, h := range []webHop{again, stolen} {
		if h.setCookie("rota_session") != nil {
			t.Errorf("a replayed callback set a session cookie")
		}
	}
	if ins := f.audit(t, "sign-in"); len(ins) != 1 {
		t.Errorf("sign-in entries after a replay: %d, want 1: %+v", len(ins), ins)
	}
	// The first session still works.
	if status, actor := f.me(c); status != 200 || actor != "alice (web)" {
		t.Errorf("/api/v1/me with the first session: %d %q", status, actor)
	}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// TestSignInSignOut: signing out (with the form's CSRF token) ends the
// session on the server: its cookie, sent again by hand, opens nothing.
func TestSignInSignOut(t *testing.T) {
	f := newOIDCFixture(t)
	c := newWebClient(t)
	sess := f.signInOIDC(c)
	now := c.do("GET", f.srv.URL+"/", nil)
	m := csrfInput.FindStringSubmatch(now.body)
	if now.status != 200 || m == nil || m[1] == "" {
		t.Fatalf("the Now page: %d, no csrf input", now.status)
	}
	csrf := m[1]

	// Without the token, signing out is refused and the session lives.
	if h := c.do("POST", f.srv.URL+"/signout", url.Values{}); h.status != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d", h.status)
	}
	if status, _ := f.me(c); status != 200 {
		t.Errorf("the session after a refused sign-out: %d", status)
	}

	out := c.do("POST", f.srv.URL+"/signout", url.Values{"csrf": {csrf}})
	if out.status != http.StatusSeeOther || out.location != "/signin" {
		t.Errorf("sign-out: %d to %q, want 303 to /signin", out.status, out.location)
	}
	if ck := out.setCookie("rota_session"); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("sign-out does not clear the cookie: %+v", ck)
	}
	if ck := c.cookie(f.srv.URL+"/", "rota_session"); ck != nil {
		t.Errorf("the jar keeps the session cookie")
	}

	// The old cookie, by hand: revoked on the server.
	old := &http.Cookie{Name: "rota_session", Value: sess.Value}
	if h := bare(t, "GET", f.srv.URL+"/", nil, old); h.status != http.StatusSeeOther || h.location != "/signin?next=%2F" {
		t.Errorf("/ with the signed-out cookie: %d to %q, want 303 to /signin?next=%%2F", h.status, h.location)
	}
	if status, msg := meAnswer(t, bare(t, "GET", f.srv.URL+"/api/v1/me", nil, old)); status != 401 || !strings.Contains(msg, "not valid") {
		t.Errorf("/api/v1/me with the signed-out cookie: %d %q, want 401", status, msg)
	}
	if outs := f.audit(t, "sign-out"); len(outs) != 1 || outs[0].Actor != "alice (web)" {
		t.Errorf("sign-out audit entries: %+v", outs)
	}
}

// TestSignInSessionExpires: a session is good for its lifetime (a week
// by default, or server settings' SessionLifetime) and refused after.
func TestSignInSessionExpires(t *testing.T) {
	f := newOIDCFixture(t)
	c := newWebClient(t)
	sess := f.signInOIDC(c)
	ck := &http.Cookie{Name: "rota_session", Value: sess.Value}
	check := func(when string, ok bool) {
		t.Helper()
		status, msg := meAnswer(t, bare(t, "GET", f.srv.URL+"/api/v1/me", nil, ck))
		page := bare(t, "GET", f.srv.URL+"/", nil, ck)
		switch {
		case ok && (status != 200 || page.status != 200):
			t.Errorf("%s: /api/v1/me %d %q, / %d; want the session good", when, status, msg, page.status)
		case !ok && (status != 401 || !strings.Contains(msg, "expired")):
			t.Errorf("%s: /api/v1/me %d %q, want 401: the session expired", when, status, msg)
		case !ok && (page.status != http.StatusSeeOther || page.location != "/signin?next=%2F"):
			t.Errorf("%s: / %d to %q, want 303 to sign in", when, page.status, page.location)
		}
	}
	signedIn := f.now
	f.now = signedIn.Add(7*24*time.Hour - time.Hour)
	check("a week less an hour on", true)
	f.now = signedIn.Add(8 * 24 * time.Hour)
	check("eight days on", false)

	// A shorter configured lifetime.
	st := f.st
	st.SessionLifetime = time.Hour
	f.api.SetSettings(st)
	signedIn = clocktest.Now()
	f.now = signedIn
	c = newWebClient(t)
	sess = f.signInOIDC(c)
	if d := sess.Expires.Sub(signedIn); d < 50*time.Minute || d > 70*time.Minute {
		t.Errorf("with a lifetime of an hour the cookie expires in %v", d)
	}
	ck = &http.Cookie{Name: "rota_session", Value: sess.Value}
	f.now = signedIn.Add(30 * time.Minute)
	check("half an hour on, of an hour", true)
	f.now = signedIn.Add(2 * time.Hour)
	check("two hours on, of an hour", false)
}

// TestSignInDev: the development sign-in answers only when it is on.
func TestSignInDev(t *testing.T) {
	form := url.Values{"person": {"alice"}, "next": {"/incidents"}}

	off := newAuthFixture(t, withToken(), false)
	off.onRunClock(t)
	h := bare(t, "POST", off.srv.URL+"/auth/dev", form)
	if h.status != http.StatusNotFound || h.setCookie("rota_session") != nil {
		t.Errorf("dev sign-in while off: %d, cookies %v; want 404 and none", h.status, h.cookies)
	}
	if page := bare(t, "GET", off.srv.URL+"/signin", nil); strings.Contains(page.body, `action="/auth/dev"`) {
		t.Errorf("the sign-in page offers the development sign-in while it is off")
	}

	on := newAuthFixture(t, withToken(), true)
	on.onRunClock(t)
	if page := bare(t, "GET", on.srv.URL+"/signin?next=/incidents", nil); !strings.Contains(page.body, `action="/auth/dev"`) ||
		!strings.Contains(page.body, `name="next" value="/incidents"`) {
		t.Errorf("the sign-in page does not offer the development sign-in (from loopback): %s", page.body)
	}
	if h := bare(t, "POST", on.srv.URL+"/auth/dev", url.Values{"person": {"nobody"}}); h.status != http.StatusBadRequest || h.setCookie("rota_session") != nil {
		t.Errorf("dev sign-in as nobody: %d", h.status)
	}
	h = bare(t, "POST", on.srv.URL+"/auth/dev", form)
	ck := h.setCookie("rota_session")
	if h.status != http.StatusSeeOther || h.location != "/incidents" || ck == nil {
		t.Fatalf("dev sign-in: %d to %q, cookie %v; want 303 to /incidents with a session", h.status, h.location, ck)
	}
	if status, actor := meAnswer(t, bare(t, "GET", on.srv.URL+"/api/v1/me", nil, &http.Cookie{Name: ck.Name, Value: ck.Value})); status != 200 || actor != "alice (web)" {
		t.Errorf("/api/v1/me after the dev sign-in: %d %q", status, actor)
	}
	if ins := auditOf(t, on.db, "sign-in"); len(ins) != 1 || ins[0].Person != "alice" || ins[0].Detail != rota.ViaDevLogin {
		t.Errorf("dev sign-in audit entries: %+v", ins)
	}
	if h := bare(t, "POST", on.srv.URL+"/auth/dev", url.Values{"person": {"alice"}, "next": {"//evil.example"}}); h.status != http.StatusSeeOther || h.location != "/" {
		t.Errorf("dev sign-in with next=//evil.example: %d to %q, want /", h.status, h.location)
	}
	// A reverse proxy on this machine connects from loopback on behalf of
	// anyone: a request it passed on is refused, whatever it says.
	for _, h := range [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=203.0.113.9"}, {"X-Real-IP", "203.0.113.9"},
		{"X-Forwarded-Host", "rota.example"}, {"Via", "1.1 proxy"}} {
		req, err := http.NewRequest("POST", on.srv.URL+"/auth/dev", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(h[0], h[1])
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 || !strings.Contains(string(body), "proxy") {
			t.Errorf("dev sign-in with %s: %d %s, cookies %v; want 403 naming the proxy and no session", h[0], res.StatusCode, body, res.Cookies())
		}
	}
	if ins := auditOf(t, on.db, "sign-in"); len(ins) != 2 {
		t.Errorf("sign-ins after the proxied attempts: %d, want the two before", len(ins))
	}
}

var (
	tbodyRe = regexp.MustCompile(`(?s)<tbody>(.*?)</tbody>`)
	trRe    = regexp.MustCompile(`(?s)<tr( class="gap")?>(.*?)</tr>`)
	tdRe    = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagRe   = regexp.MustCompile(`<[^>]+>`)
	barRe   = regexp.MustCompile(`<g class="tl-bar" data-person="([^"]*)" data-start="([^"]*)" data-end="([^"]*)" data-kind="([^"]*)">`)
)

// rotationShifts reads a rotation page's list of shifts: each row who,
// from, to and note; each gap "from to to".
func rotationShifts(t *testing.T, body string) (rows [][4]string, gaps []string) {
	t.Helper()
	_, table, ok := strings.Cut(body, `<table id="shifts">`)
	if !ok {
		t.Fatal("the page has no list of shifts")
	}
	table, _, _ = strings.Cut(table, "</table>")
	tb := tbodyRe.FindStringSubmatch(table)
	if tb == nil {
		t.Fatal("the list of shifts has no tbody")
	}
	for _, tr := range trRe.FindAllStringSubmatch(tb[1], -1) {
		var cells []string
		for _, td := range tdRe.FindAllStringSubmatch(tr[2], -1) {
			cells = append(cells, strings.Join(strings.Fields(html.UnescapeString(tagRe.ReplaceAllString(td[1], ""))), " "))
		}
		if len(cells) != 4 {
			t.Fatalf("row %q", cells)
		}
		if tr[1] != "" {
			if cells[0] != "nobody" || cells[3] != "gap" {
				t.Fatalf("gap row %q", cells)
			}
			gaps = append(gaps, cells[1]+" to "+cells[2])
			continue
		}
		rows = append(rows, [4]string(cells))
	}
	return rows, gaps
}

// tlBar is a bar of a rotation page's timeline.
type tlBar struct {
	person, kind string
	start, end   time.Time
}

// timelineBars reads the bars of the timeline's row (final: who is on
// call), in order.
func timelineBars(t *testing.T, body, row string) []tlBar {
	t.Helper()
	_, rest, ok := strings.Cut(body, `data-row="`+row+`">`)
	if !ok {
		t.Fatalf("the timeline has no row %q", row)
	}
	rest, _, _ = strings.Cut(rest, "\n</g>")
	var out []tlBar
	for _, m := range barRe.FindAllStringSubmatch(rest, -1) {
		b := tlBar{person: m[1], kind: m[4]}
		var err error
		if b.start, err = time.Parse(time.RFC3339, m[2]); err != nil {
			t.Fatal(err)
		}
		if b.end, err = time.Parse(time.RFC3339, m[3]); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// getPage GETs path with a bearer token and wants 200.
func getPage(t *testing.T, base, path, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d: %s", path, res.StatusCode, body)
	}
	return body
}

const pageTime = "Mon 2 Jan 2006 15:04 MST"

// TestRotationPageAcrossDST: the rotation page across both daylight-saving
// changes in Europe/Berlin lists the scheduler's shifts, each once, with
// handovers at 10:00 wall time while the zone's abbreviation changes; its
// timeline's final line has no gap and agrees with GET /api/v1/oncall
// every three hours and a minute either side of each handover.
func TestRotationPageAcrossDST(t *testing.T) {
	f := newAuthFixture(t, withToken(), false)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	rot := f.book.Roster().Org().Rotation("primary")
	if rot.Handoff != rota.DefaultHandoff || rot.Handoff.Weekday != time.Tuesday || rot.Handoff.Time.Hour() != 10 || rot.Location.String() != "Europe/Berlin" {
		t.Fatalf("primary hands over %+v in %v: this test counts on Tuesdays 10:00 in Europe/Berlin", rot.Handoff, rot.Location)
	}
	for _, tt := range []struct {
		name     string
		now      time.Time
		handover string    // the handover after the change, as shown
		at       time.Time // and as an instant
		before   string    // the handover before it
	}{
		{"spring forward", time.Date(2026, 3, 25, 12, 0, 0, 0, berlin),
			"Tue 31 Mar 2026 10:00 CEST", time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC), "Tue 24 Mar 2026 10:00 CET"},
		{"fall back", time.Date(2026, 10, 21, 12, 0, 0, 0, berlin),
			"Tue 27 Oct 2026 10:00 CET", time.Date(2026, 10, 27, 9, 0, 0, 0, time.UTC), "Tue 20 Oct 2026 10:00 CEST"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.now = tt.now
			body := getPage(t, f.srv.URL, "/rotations/primary?weeks=3", f.tokens["alice"])
			if !strings.Contains(body, "times in Europe/Berlin") {
				t.Errorf("the page does not say its zone")
			}
			rows, gaps := rotationShifts(t, body)
			if len(gaps) != 0 {
				t.Errorf("gaps %q, but someone is always on call", gaps)
			}
			y, m, d := tt.now.Date()
			from := time.Date(y, m, d, 0, 0, 0, 0, berlin)
			var want [][4]string
			for _, sh := range f.book.Roster().Shifts("primary", from, from.AddDate(0, 0, 21)) {
				want = append(want, [4]string{sh.Person, sh.Start.In(berlin).Format(pageTime), sh.End.In(berlin).Format(pageTime), ""})
			}
			if fmt.Sprint(rows) != fmt.Sprint(want) {
				t.Errorf("shifts %q, want the scheduler's %q, each once", rows, want)
			}
			// The handover at the change, read off the scheduler: at
			// 10:00 local both sides of it, an hour apart in UTC.
			sh, ok := f.book.Roster().OnCall("primary", tt.at)
			if !ok || !sh.Start.Equal(tt.at) || sh.Start.In(berlin).Format(pageTime) != tt.handover {
				t.Fatalf("the scheduler's shift at %v: %+v, want one starting then (%s)", tt.at, sh, tt.handover)
			}
			prev, _ := f.book.Roster().OnCall("primary", tt.at.Add(-time.Minute))
			if prev.End.In(berlin).Format(pageTime) != tt.handover || prev.Start.In(berlin).Format(pageTime) != tt.before || prev.Person == sh.Person {
				t.Errorf("the shift before the handover: %+v, want %s to %s", prev, tt.before, tt.handover)
			}
			if d := sh.Start.Sub(prev.Start); d != 7*24*time.Hour-time.Hour && d != 7*24*time.Hour+time.Hour {
				t.Errorf("the week of the change lasts %v, want 167h or 169h", d)
			}
			for _, r := range [][4]string{{prev.Person, tt.before, tt.handover, ""}, {sh.Person, tt.handover, sh.End.In(berlin).Format(pageTime), ""}} {
				if !strings.Contains(fmt.Sprint(rows), fmt.Sprint(r)) {
					t.Errorf("the list lacks the row %q: %q", r, rows)
				}
			}
			if !strings.Contains(body, "<strong>alice</strong>") {
				t.Errorf("alice's own shifts are not marked as hers")
			}

			// The timeline: 14 days from today, nobody missing, and who
			// its final line shows is who the API says is on call.
			bars := timelineBars(t, body, "final")
			to := from.AddDate(0, 0, 14)
			if len(bars) == 0 || bars[0].start.After(from) || bars[len(bars)-1].end.Before(to) {
				t.Fatalf("the final line %+v does not span %v to %v", bars, from, to)
			}
			for i, b := range bars {
				if b.kind == "gap" || i > 0 && !b.start.Equal(bars[i-1].end) {
					t.Errorf("the final line has a hole or gap at %v: %+v", b.start, bars)
				}
			}
			instants := []time.Time{tt.at.Add(-time.Minute), tt.at, tt.at.Add(time.Minute)}
			for at := from; at.Before(to); at = at.Add(3 * time.Hour) {
				instants = append(instants, at)
			}
			for _, at := range instants {
				shown := ""
				for _, b := range bars {
					if !at.Before(b.start) && at.Before(b.end) {
						shown = b.person
					}
				}
				r := f.do(t, "GET", "/api/v1/oncall?at="+at.UTC().Format(time.RFC3339), f.tokens["alice"], "", "")
				api := ""
				for _, o := range r.body["oncall"].([]any) {
					if o := o.(map[string]any); o["rotation"] == "primary" {
						api = o["person"].(string)
					}
				}
				if shown == "" || shown != api {
					t.Errorf("at %s the timeline shows %q on call, the API %q", at.In(berlin).Format(pageTime), shown, api)
				}
			}
		})
	}
}

// gapConfig has a rotation of one person, who is on leave for a day, and
// a rotation of two, where the other covers.
const gapConfig = `
[[people]]
name = "sam"
timezone = "Europe/Berlin"
pto = [{ start = "2026-04-02", end = "2026-04-02", reason = "holiday" }]
[[people]]
name = "tess"
timezone = "Europe/Berlin"
[[teams]]
name = "infra"
members = ["sam", "tess"]
timezone = "Europe/Berlin"
[[rotations]]
name = "solo"
team = "infra"
members = ["sam"]
start = 2026-01-06
[[rotations]]
name = "pair"
team = "infra"
members = ["sam", "tess"]
start = 2026-01-06
`

// TestRotationPageGaps: a week when nobody is on call shows as gaps, to
// the minute, across the spring-forward change; a rotation with someone
// to cover shows them covering instead.
func TestRotationPageGaps(t *testing.T) {
	cfg, err := config.Parse("gap.toml", []byte(gapConfig), t.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.Options{})
	book := scheduler.NewBook(scheduler.NewRoster(cfg.Org, nil))
	now := time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db.Now = clock
	srv := api.New(api.Options{Book: book, Overrides: db, Pager: paging.New(paging.Options{Store: db, Book: book, Now: clock}), Alerts: db, Identity: db,
		Ping: db.Ping, Settings: withToken(), Now: clock})
	ts := newServer(t, srv)
	token, _, err := db.CreateAPIToken(context.Background(), "tess", "test", "test")
	if err != nil {
		t.Fatal(err)
	}

	body := getPage(t, ts.URL, "/rotations/solo?weeks=3", token)
	rows, gaps := rotationShifts(t, body)
	wantRows := [][4]string{
		{"sam", "Tue 24 Mar 2026 10:00 CET", "Tue 31 Mar 2026 10:00 CEST", ""},
		{"sam", "Tue 7 Apr 2026 10:00 CEST", "Tue 14 Apr 2026 10:00 CEST", ""},
		{"sam", "Tue 14 Apr 2026 10:00 CEST", "Tue 21 Apr 2026 10:00 CEST", ""}}
	if fmt.Sprint(rows) != fmt.Sprint(wantRows) {
		t.Errorf("solo: shifts %q, want %q", rows, wantRows)
	}
	// sam's leave on 2 April skips his week: nobody, to the minute across
	// the spring-forward change.
	if want := []string{"Tue 31 Mar 2026 10:00 CEST to Tue 7 Apr 2026 10:00 CEST"}; fmt.Sprint(gaps) != fmt.Sprint(want) {
		t.Errorf("solo: gaps %q, want %q", gaps, want)
	}
	var red []tlBar
	for _, b := range timelineBars(t, body, "final") {
		if b.kind == "gap" {
			red = append(red, b)
		}
	}
	if len(red) != 1 || !red[0].start.Equal(time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC)) || !red[0].end.Equal(time.Date(2026, 4, 7, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("solo: the timeline's gaps %+v, want the week of 31 March", red)
	}
	// The scheduler agrees: nobody is on call in the gap.
	if sh, ok := book.Roster().OnCall("solo", time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC)); ok {
		t.Errorf("the scheduler has %+v on call on solo during sam's leave", sh)
	}

	body = getPage(t, ts.URL, "/rotations/pair?weeks=3", token)
	rows, gaps = rotationShifts(t, body)
	if len(gaps) != 0 {
		t.Errorf("pair: gaps %q, but tess covers", gaps)
	}
	var covering [][4]string
	for _, r := range rows {
		if strings.Contains(r[3], "covering") {
			covering = append(covering, r)
		}
	}
	// tess covers sam's shift of the week of 31 March, listed once, and it
	// is her own (her name in bold: she is the viewer).
	cover := [4]string{"tess", "Tue 31 Mar 2026 10:00 CEST", "Tue 7 Apr 2026 10:00 CEST", "covering sam (on leave)"}
	if len(covering) != 1 || covering[0] != cover {
		t.Errorf("pair: covering rows %q, want %q once", covering, cover)
	}
	if !strings.Contains(body, `data-kind="covering"`) {
		t.Errorf("pair: the timeline does not mark the cover")
	}
}

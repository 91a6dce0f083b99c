package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

// secretPath is a workflow URL's path and query, as Teams gives them but
// with a recognisable signature.
const secretPath = "/workflows/abc/triggers/manual/paths/invoke?sig=SECRET"

// hit is one request a test server received.
type hit struct {
	method string
	header http.Header
	body   map[string]any
}

// server answers every request with answer, and reports each request on
// the channel it returns.
func server(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, <-chan hit) {
	t.Helper()
	hits := make(chan hit, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the request: %v", err)
		}
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("the request is not a JSON object: %v: %s", err, b)
		}
		hits <- hit{method: r.Method, header: r.Header.Clone(), body: body}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// accepted answers as Workflows does.
func accepted(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }

// post sends m to a server answering 202 and returns the card it received.
func post(t *testing.T, m notify.Message) (hit, map[string]any) {
	t.Helper()
	srv, hits := server(t, accepted)
	m.Address = srv.URL + secretPath
	r, err := Notifier{}.Notify(context.Background(), m)
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if r.ID != "" {
		t.Errorf("receipt id %q, want none", r.ID)
	}
	h := <-hits
	if h.body["type"] != "message" {
		t.Errorf("type %v, want message", h.body["type"])
	}
	atts, _ := h.body["attachments"].([]any)
	if len(atts) != 1 {
		t.Fatalf("attachments %v, want one", h.body["attachments"])
	}
	att := atts[0].(map[string]any)
	if att["contentType"] != "application/vnd.microsoft.card.adaptive" {
		t.Errorf("contentType %v", att["contentType"])
	}
	if v, ok := att["contentUrl"]; !ok || v != nil {
		t.Errorf("contentUrl %v (present %v), want null", v, ok)
	}
	card := att["content"].(map[string]any)
	want := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
	}
	for k, v := range want {
		if card[k] != v {
			t.Errorf("card %s = %v, want %v", k, card[k], v)
		}
	}
	if w := card["msteams"].(map[string]any)["width"]; w != "Full" {
		t.Errorf("msteams width %v, want Full", w)
	}
	return h, card
}

// elements are a card's body elements of type typ.
func elements(card map[string]any, typ string) []map[string]any {
	var out []map[string]any
	body, _ := card["body"].([]any)
	for _, e := range body {
		if e := e.(map[string]any); e["type"] == typ {
			out = append(out, e)
		}
	}
	return out
}

// texts are the texts of a card's TextBlocks.
func texts(card map[string]any) []string {
	var out []string
	for _, e := range elements(card, "TextBlock") {
		out = append(out, e["text"].(string))
	}
	return out
}

// findText is the TextBlock whose text is s, or nil.
func findText(card map[string]any, s string) map[string]any {
	for _, e := range elements(card, "TextBlock") {
		if e["text"] == s {
			return e
		}
	}
	return nil
}

// factsOf is a FactSet's facts by title.
func factsOf(set map[string]any) map[string]string {
	out := map[string]string{}
	for _, f := range set["facts"].([]any) {
		f := f.(map[string]any)
		out[f["title"].(string)] = f["value"].(string)
	}
	return out
}

// openURLs are the Action.OpenUrl actions of a list, as "title url".
func openURLs(actions any) []string {
	var out []string
	list, _ := actions.([]any)
	for _, a := range list {
		a := a.(map[string]any)
		if a["type"] == "Action.OpenUrl" {
			out = append(out, fmt.Sprintf("%s %s", a["title"], a["url"]))
		}
	}
	return out
}

var created = time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))

func incident(id int64, severity, summary string) rota.Incident {
	return rota.Incident{ID: id, Service: "payments", Status: rota.StatusTriggered, Summary: summary,
		Severity: severity, AlertCount: 3, CreatedAt: created}
}

func TestPage(t *testing.T) {
	m := notify.Message{
		NotificationID: 42, Kind: notify.KindPage, Person: "alice", Channel: rota.ContactTeams,
		Incidents: []rota.Incident{incident(12, rota.SeverityCritical, "checkout error rate above 5% for 10 minutes")},
		Text:      "[critical] payments: checkout error rate above 5% for 10 minutes",
		Reason:    "you deployed abc1234 12 min ago",
		PublicURL: "https://rota.example.com",
		Now:       created.Add(3 * time.Minute),
	}
	h, card := post(t, m)
	if h.method != http.MethodPost {
		t.Errorf("method %s, want POST", h.method)
	}
	if got := h.header.Get("X-Rota-Delivery"); got != "42" {
		t.Errorf("X-Rota-Delivery %q, want 42", got)
	}
	if got := h.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if card["fallbackText"] != m.Text {
		t.Errorf("fallbackText %v, want %q", card["fallbackText"], m.Text)
	}
	head := elements(card, "TextBlock")[0]
	if head["text"] != "Page for alice" || head["color"] != "attention" {
		t.Errorf("header %v, want Page for alice in attention", head)
	}
	if findText(card, "Why you: you deployed abc1234 12 min ago") == nil {
		t.Errorf("no reason in %q", texts(card))
	}
	if s := findText(card, "checkout error rate above 5% for 10 minutes"); s == nil || s["wrap"] != true {
		t.Errorf("summary %v, want a wrapping TextBlock; texts %q", s, texts(card))
	}
	sets := elements(card, "FactSet")
	if len(sets) != 1 {
		t.Fatalf("%d FactSets, want 1", len(sets))
	}
	want := map[string]string{
		"Incident": "#12", "Service": "payments", "Severity": "critical", "Status": "triggered",
		"Alerts": "3", "Triggered": "2024-05-01 10:00 UTC (3 min ago)",
	}
	if got := factsOf(sets[0]); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("facts %v, want %v", got, want)
	}
	if got := openURLs(card["actions"]); len(got) != 1 || got[0] != "Open in rota https://rota.example.com/incidents/12" {
		t.Errorf("actions %q, want Open in rota", got)
	}
	if len(elements(card, "ActionSet")) != 0 {
		t.Error("a single incident's link belongs in the card's actions, not the body")
	}
}

func TestPageWithoutPublicURLHasNoActions(t *testing.T) {
	_, card := post(t, notify.Message{NotificationID: 1, Kind: notify.KindPage, Person: "alice",
		Incidents: []rota.Incident{incident(12, rota.SeverityWarning, "disk 91% full")}, Text: "disk"})
	if _, ok := card["actions"]; ok {
		t.Errorf("actions %v without a public URL", card["actions"])
	}
	if head := elements(card, "TextBlock")[0]; head["color"] != "warning" {
		t.Errorf("header colour %v, want warning", head["color"])
	}
}

func TestBundle(t *testing.T) {
	m := notify.Message{
		NotificationID: 7, Kind: notify.KindPage, Person: "alice",
		Incidents: []rota.Incident{
			incident(12, rota.SeverityWarning, "disk 91% full on db-1"),
			incident(13, rota.SeverityCritical, "checkout is down"),
		},
		Text:      "2 incidents: disk 91% full on db-1; checkout is down",
		PublicURL: "https://rota.example.com",
	}
	_, card := post(t, m)
	head := elements(card, "TextBlock")[0]
	if head["text"] != "Page for alice: 2 incidents" || head["color"] != "attention" {
		t.Errorf("header %v, want Page for alice: 2 incidents in attention (the worst severity)", head)
	}
	for _, s := range []string{"disk 91% full on db-1", "checkout is down"} {
		if findText(card, s) == nil {
			t.Errorf("no summary %q in %q", s, texts(card))
		}
	}
	sets := elements(card, "FactSet")
	if len(sets) != 2 || factsOf(sets[0])["Incident"] != "#12" || factsOf(sets[1])["Incident"] != "#13" {
		t.Fatalf("FactSets %v, want #12 and #13", sets)
	}
	if factsOf(sets[0])["Severity"] != "warning" || factsOf(sets[1])["Severity"] != "critical" {
		t.Errorf("severities %v, %v", factsOf(sets[0]), factsOf(sets[1]))
	}
	links := elements(card, "ActionSet")
	if len(links) != 2 {
		t.Fatalf("%d ActionSets, want one per incident", len(links))
	}
	for i, want := range []string{
		"Open #12 in rota https://rota.example.com/incidents/12",
		"Open #13 in rota https://rota.example.com/incidents/13",
	} {
		if got := openURLs(links[i]["actions"]); len(got) != 1 || got[0] != want {
			t.Errorf("link %d: %q, want %q", i, got, want)
		}
	}
	if _, ok := card["actions"]; ok {
		t.Errorf("card actions %v for a bundle", card["actions"])
	}
	if card["fallbackText"] != m.Text {
		t.Errorf("fallbackText %v", card["fallbackText"])
	}
}

func TestBundleShowsTenIncidents(t *testing.T) {
	m := notify.Message{Kind: notify.KindPage, Person: "alice", Text: "12 incidents"}
	for i := range 12 {
		m.Incidents = append(m.Incidents, incident(int64(100+i), rota.SeverityInfo, fmt.Sprintf("alert %d", i)))
	}
	c := Card(m)
	sets, last := 0, c.Body[len(c.Body)-1]
	for _, e := range c.Body {
		if e.Type == "FactSet" {
			sets++
		}
	}
	if sets != maxIncidents || last.Text != "…and 2 more." {
		t.Errorf("%d FactSets, last %q; want %d and …and 2 more.", sets, last.Text, maxIncidents)
	}
	if c.Body[0].Text != "Page for alice: 12 incidents" {
		t.Errorf("header %q", c.Body[0].Text)
	}
}

func TestUpdate(t *testing.T) {
	inc := incident(12, rota.SeverityCritical, "checkout is down")
	inc.Status, inc.AckedBy, inc.AckedAt = rota.StatusAcknowledged, "alice", created.Add(time.Minute)
	m := notify.Message{
		NotificationID: 9, Kind: notify.KindUpdate, Channel: rota.ContactTeams,
		Incidents: []rota.Incident{inc},
		Update:    &notify.Update{Action: rota.ActionAcknowledge, By: "alice"},
		Text:      "Incident #12 acknowledged by alice",
		PublicURL: "https://rota.example.com",
	}
	h, card := post(t, m)
	if got := h.header.Get("X-Rota-Delivery"); got != "9" {
		t.Errorf("X-Rota-Delivery %q, want 9", got)
	}
	if head := elements(card, "TextBlock")[0]; head["text"] != "Incident #12 acknowledged by alice" {
		t.Errorf("header %v", head)
	}
	sets := elements(card, "FactSet")
	if len(sets) != 1 {
		t.Fatalf("%d FactSets, want 1", len(sets))
	}
	if f := factsOf(sets[0]); f["Status"] != "acknowledged by alice" || f["Service"] != "payments" {
		t.Errorf("facts %v", f)
	}
	if findText(card, "checkout is down") == nil {
		t.Errorf("no summary in %q", texts(card))
	}
	if got := openURLs(card["actions"]); len(got) != 1 || got[0] != "Open in rota https://rota.example.com/incidents/12" {
		t.Errorf("actions %q", got)
	}
}

func TestUpdateHeaders(t *testing.T) {
	inc := incident(12, rota.SeverityCritical, "checkout is down")
	for _, tc := range []struct {
		update *notify.Update
		status rota.Status
		head   string
		color  string
	}{
		{&notify.Update{Action: rota.ActionResolve, By: "bob"}, rota.StatusResolved, "Incident #12 resolved by bob", "good"},
		{&notify.Update{Action: rota.ActionEscalate, By: "service payments (key)"}, rota.StatusTriggered, "Incident #12 escalated by service payments (key)", "attention"},
		{&notify.Update{Action: rota.ActionAcknowledge}, rota.StatusAcknowledged, "Incident #12 acknowledged", ""},
		{nil, rota.StatusResolved, "Incident #12 resolved", "good"},
	} {
		inc.Status = tc.status
		c := Card(notify.Message{Kind: notify.KindUpdate, Incidents: []rota.Incident{inc}, Update: tc.update})
		if c.Body[0].Text != tc.head || c.Body[0].Color != tc.color {
			t.Errorf("header %q in %q, want %q in %q", c.Body[0].Text, c.Body[0].Color, tc.head, tc.color)
		}
		if c.FallbackText != tc.head {
			t.Errorf("fallbackText %q without text, want the header", c.FallbackText)
		}
	}
}

func TestNotice(t *testing.T) {
	m := notify.Message{NotificationID: 5, Kind: notify.KindNotice, Person: "carol",
		Text: "alice's off-hours budget is burned: 4 nights paged this month", PublicURL: "https://rota.example.com"}
	_, card := post(t, m)
	body := card["body"].([]any)
	if len(body) != 1 {
		t.Fatalf("body %v, want the text alone", body)
	}
	if e := body[0].(map[string]any); e["type"] != "TextBlock" || e["text"] != m.Text || e["wrap"] != true {
		t.Errorf("body %v, want a wrapping TextBlock of the text", e)
	}
	if _, ok := card["actions"]; ok {
		t.Errorf("actions %v on a notice", card["actions"])
	}
	if card["fallbackText"] != m.Text {
		t.Errorf("fallbackText %v", card["fallbackText"])
	}
}

func TestPostAndShadow(t *testing.T) {
	inc := incident(12, rota.SeverityError, "checkout is slow")
	c := Card(notify.Message{Kind: notify.KindPost, Incidents: []rota.Incident{inc}, Text: "t"})
	if c.Body[0].Text != "Posted to the channel" || c.Body[0].Color != "attention" {
		t.Errorf("post header %+v", c.Body[0])
	}
	c = Card(notify.Message{Kind: notify.KindPage, Person: "dan", Shadow: true, Incidents: []rota.Incident{inc}, Text: "t"})
	if c.Body[0].Text != "Shadow copy of a page, for dan" {
		t.Errorf("shadow header %q", c.Body[0].Text)
	}
	if !strings.Contains(c.Body[1].Text, "shadow copy") {
		t.Errorf("shadow note %q, want it to say it is a copy", c.Body[1].Text)
	}
	// An empty kind is a page, as elsewhere in rota.
	c = Card(notify.Message{Person: "dan", Incidents: []rota.Incident{inc}})
	if c.Body[0].Text != "Page for dan" {
		t.Errorf("header %q for an empty kind", c.Body[0].Text)
	}
}

func TestRetryAfter429(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{{"7", 7 * time.Second}, {"", defaultRetryAfter}} {
		srv, _ := server(t, func(w http.ResponseWriter, _ *http.Request) {
			if tc.header != "" {
				w.Header().Set("Retry-After", tc.header)
			}
			http.Error(w, "slow down", http.StatusTooManyRequests)
		})
		_, err := Notifier{}.Notify(context.Background(), notify.Message{Kind: notify.KindNotice, Text: "hi", Address: srv.URL + secretPath})
		if err == nil {
			t.Fatal("429 succeeded")
		}
		if d, ok := notify.RetryAfterOf(err); !ok || d != tc.want {
			t.Errorf("Retry-After %q: RetryAfterOf = %v, %v; want %v", tc.header, d, ok, tc.want)
		}
		if notify.IsPermanent(err) {
			t.Errorf("429 is permanent: %v", err)
		}
		if !strings.Contains(err.Error(), "429") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error %q, want the status and no secret", err)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    string
		want time.Duration
	}{
		{"", defaultRetryAfter},
		{"7", 7 * time.Second},
		{" 0 ", 0},
		{"-3", defaultRetryAfter},
		{"soon", defaultRetryAfter},
		{"99999999999999999999", defaultRetryAfter},
		{"86400", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(24 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		code      int
		permanent bool
	}{
		{http.StatusInternalServerError, false},
		{http.StatusBadGateway, false},
		{http.StatusServiceUnavailable, false},
		{http.StatusRequestTimeout, false},
		{http.StatusBadRequest, true},
		{http.StatusUnauthorized, true},
		{http.StatusNotFound, true},
	} {
		// The server quotes the request's URL back, as some do.
		srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad request to "+r.URL.RequestURI(), tc.code)
		})
		_, err := Notifier{}.Notify(context.Background(), notify.Message{Kind: notify.KindNotice, Text: "hi", Address: srv.URL + secretPath})
		if err == nil {
			t.Fatalf("%d succeeded", tc.code)
		}
		if notify.IsPermanent(err) != tc.permanent {
			t.Errorf("%d: permanent %v, want %v: %v", tc.code, notify.IsPermanent(err), tc.permanent, err)
		}
		if _, ok := notify.RetryAfterOf(err); ok {
			t.Errorf("%d: a Retry-After without 429", tc.code)
		}
		msg := err.Error()
		if strings.Contains(msg, "SECRET") || !strings.Contains(msg, fmt.Sprint(tc.code)) {
			t.Errorf("%d: error %q, want the status and no secret", tc.code, msg)
		}
		if !strings.Contains(msg, "teams "+srv.URL+"/workflows/abc/triggers/manual/paths/invoke?sig=…") {
			t.Errorf("%d: error %q does not name the URL redacted", tc.code, msg)
		}
	}
}

func TestErrorHidesLongSignature(t *testing.T) {
	const sig = "Zx8kQ2vLmN4pR7tYw1"
	srv, _ := server(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":{"message":"The signature '`+sig+`' is not valid."}}`, http.StatusUnauthorized)
	})
	_, err := Notifier{}.Notify(context.Background(), notify.Message{Kind: notify.KindNotice, Text: "hi",
		Address: srv.URL + "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=" + sig})
	if err == nil || !notify.IsPermanent(err) || strings.Contains(err.Error(), sig) {
		t.Errorf("error %v, want a permanent one without the signature", err)
	}
}

func TestNetworkErrors(t *testing.T) {
	srv, _ := server(t, accepted)
	addr := srv.URL + secretPath
	srv.Close()
	_, err := Notifier{}.Notify(context.Background(), notify.Message{Kind: notify.KindNotice, Text: "hi", Address: addr})
	if err == nil {
		t.Fatal("a closed server accepted the message")
	}
	if notify.IsPermanent(err) || strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), `Post "`) {
		t.Errorf("error %q, want a retryable one without the URL", err)
	}

	srv2, hits := server(t, accepted)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Notifier{}.Notify(ctx, notify.Message{Kind: notify.KindNotice, Text: "hi", Address: srv2.URL + secretPath})
	if err == nil || notify.IsPermanent(err) || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("cancelled: error %v, want a retryable one without the secret", err)
	}
	if !errors.Is(ctx.Err(), context.Canceled) || len(hits) != 0 {
		t.Errorf("a cancelled context still posted")
	}
}

// refuse is a transport that fails the test if anything is sent.
type refuse struct{ t *testing.T }

func (r refuse) RoundTrip(req *http.Request) (*http.Response, error) {
	r.t.Errorf("a request was made to %s", rota.RedactURL(req.URL.String()))
	return nil, errors.New("refused")
}

func TestBadAddress(t *testing.T) {
	n := Notifier{Client: &http.Client{Transport: refuse{t}}}
	for _, addr := range []string{
		"",
		"not a url ?sig=SECRET",
		"http://teams.example.com/workflows/abc?sig=SECRET",
		"ftp://example.com/workflows/abc?sig=SECRET",
		"/workflows/abc/triggers/manual/paths/invoke?sig=SECRET",
		"https:///workflows/abc?sig=SECRET",
		"https://exa mple.com/workflows/abc?sig=SECRET",
		"://nowhere?sig=SECRET",
		"mailto:alerts@example.com?sig=SECRET",
	} {
		_, err := n.Notify(context.Background(), notify.Message{Kind: notify.KindNotice, Text: "hi", Address: addr})
		if err == nil || !notify.IsPermanent(err) {
			t.Errorf("%q: error %v, want a permanent one", addr, err)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%q: error %q holds the secret", addr, err)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	for _, addr := range []string{
		"https://prod-12.westus.logic.azure.com:443/workflows/0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x",
		"https://default0a1b.03.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0a1b/triggers/manual/paths/invoke?sig=x",
		"http://127.0.0.1:8080/hook",
		"http://localhost/hook",
		"http://[::1]:9/hook",
	} {
		if err := checkAddress(addr); err != nil {
			t.Errorf("checkAddress(%q): %v", addr, err)
		}
	}
}

// TestCardTextCannotSteer: an alert's summary, a deploy's reason and a
// notice are plain text in a card: Markdown in them shows as typed, never
// as a link of the sender's choosing or a heading.
func TestCardTextCannotSteer(t *testing.T) {
	inc := incident(12, rota.SeverityCritical, "[Acknowledge here](https://evil.example) **now**")
	inc.AckedBy, inc.Status = "[bob](https://evil.example)", rota.StatusAcknowledged
	m := notify.Message{NotificationID: 1, Kind: notify.KindPage, Person: "alice", Channel: rota.ContactTeams,
		Incidents: []rota.Incident{inc}, Reason: "you deployed <b>x</b>", Now: created}
	_, card := post(t, m)
	for _, want := range []string{`\[Acknowledge here\](https://evil.example) \*\*now\*\*`, `Why you: you deployed \<b\>x\</b\>`} {
		if findText(card, want) == nil {
			t.Errorf("no TextBlock %q in %q", want, texts(card))
		}
	}
	if got := factsOf(elements(card, "FactSet")[0])["Status"]; got != `acknowledged by \[bob\](https://evil.example)` {
		t.Errorf("status fact %q", got)
	}
	n := notify.Message{NotificationID: 2, Kind: notify.KindNotice, Person: "alice", Channel: rota.ContactTeams, Text: "# Heading\n[x](https://evil.example)"}
	_, card = post(t, n)
	if findText(card, "\\# Heading\n\\[x\\](https://evil.example)") == nil {
		t.Errorf("notice texts %q", texts(card))
	}
}

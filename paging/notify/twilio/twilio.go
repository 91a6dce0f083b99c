// Package twilio sends SMS and voice calls through Twilio's REST API, with
// twilio-go, and speaks Twilio's XML (TwiML): the call scripts and the
// answers to replies and key presses. The engine says what to say; this
// package says it in TwiML.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/rotahq/rota/paging/notify"
)

// Options configure the Twilio notifiers.
type Options struct {
	AccountSID string
	AuthToken  string
	// From is the number messages and calls come from; a messaging
	// service may send SMS instead.
	From                string
	MessagingServiceSID string
	// PublicURL is where Twilio reaches rotad for status callbacks and
	// key presses.
	PublicURL string
	// APIURL replaces https://api.twilio.com, for a proxy or a test
	// server; twilio-go has no such option, so requests are redirected by
	// the HTTP transport.
	APIURL string
	// Timeout bounds one API call (twilio-go takes no context); 10s by
	// default.
	Timeout time.Duration
}

// Twilio sends SMS and voice calls through Twilio's REST API.
type Twilio struct {
	opts Options
	api  *openapi.ApiService
}

// NewTwilio returns Twilio notifiers for opts.
func New(opts Options) (*Twilio, error) {
	// twilio-go refuses, at every call, credentials that are not
	// alphanumeric; say so once, at start.
	if !alphanumeric(opts.AccountSID) || !alphanumeric(opts.AuthToken) {
		return nil, fmt.Errorf("twilio: the account SID and auth token must be letters and digits only")
	}
	if opts.From == "" {
		return nil, fmt.Errorf("twilio: a from number is required (for calls, and for SMS without a messaging service)")
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	transport := http.DefaultTransport
	if opts.APIURL != "" {
		u, err := url.Parse(opts.APIURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("twilio api url %q: not a URL", opts.APIURL)
		}
		transport = rewriteHost{to: u, next: http.DefaultTransport}
	}
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(opts.AccountSID, opts.AuthToken),
		HTTPClient: &http.Client{
			Timeout:   opts.Timeout,
			Transport: transport,
			// Twilio's own client does not follow redirects.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(opts.AccountSID)
	// Only the 2010 API (messages and calls) is built: twilio-go's
	// RestClient would compile in every Twilio product.
	return &Twilio{opts: opts, api: openapi.NewApiService(twclient.NewRequestHandler(c))}, nil
}

// rewriteHost sends every request to another scheme and host.
type rewriteHost struct {
	to   *url.URL
	next http.RoundTripper
}

func (r rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.to.Scheme, r.to.Host, r.to.Host
	return r.next.RoundTrip(req)
}

func (t *Twilio) callback(path string, notification int64) string {
	return fmt.Sprintf("%s%s?n=%d", t.opts.PublicURL, path, notification)
}

// SMS returns the notifier for text messages.
func (t *Twilio) SMS() notify.Notifier {
	return notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		p := &openapi.CreateMessageParams{}
		p.SetTo(m.Address).SetBody(m.Text).SetStatusCallback(t.callback("/twilio/status", m.NotificationID))
		if t.opts.MessagingServiceSID != "" {
			p.SetMessagingServiceSid(t.opts.MessagingServiceSID)
		} else {
			p.SetFrom(t.opts.From)
		}
		msg, err := t.api.CreateMessage(p)
		if err != nil {
			return notify.Receipt{}, twilioError("SMS", m.Address, err)
		}
		return notify.Receipt{ID: deref(msg.Sid)}, nil
	})
}

// Voice returns the notifier for phone calls: the call speaks the
// incidents and gathers a key press (4 acknowledges, 5 escalates, 6
// resolves, * repeats).
func (t *Twilio) Voice() notify.Notifier {
	return notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		p := &openapi.CreateCallParams{}
		speech := notify.Speech{Sentences: notify.CallScript(m.Incidents, m.Now, m.Reason), Gather: t.callback("/twilio/voice", m.NotificationID)}
		p.SetTo(m.Address).SetFrom(t.opts.From).
			SetTwiml(string(Call(speech))).
			SetStatusCallback(t.callback("/twilio/status", m.NotificationID)).
			SetTimeout(30)
		call, err := t.api.CreateCall(p)
		if err != nil {
			return notify.Receipt{}, twilioError("call", m.Address, err)
		}
		return notify.Receipt{ID: deref(call.Sid)}, nil
	})
}

// twilioError sorts Twilio's answers: 429 and 5xx (and no answer) are
// retried; any other refusal, such as 21211 for an invalid number, fails
// the contact method at once.
func twilioError(what, to string, err error) error {
	var te *twclient.TwilioRestError
	if errors.As(err, &te) {
		e := fmt.Errorf("twilio refused the %s to %s: %d %s (HTTP %d)", what, to, te.Code, te.Message, te.Status)
		if te.Status == http.StatusTooManyRequests || te.Status >= 500 {
			return e
		}
		return notify.Permanent(e)
	}
	return fmt.Errorf("twilio %s to %s: %w", what, to, err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func alphanumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Package twiliotest is a fake Twilio for tests and benchmarks: the REST
// endpoints rota calls (Messages.json and Calls.json) on a local HTTP
// server, recording each request and answering as Twilio does, including
// its errors; and a signer that calls rota's webhooks as Twilio would.
package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Request is one API request the fake received.
type Request struct {
	Kind           string // "sms" or "call"
	SID            string
	To, From       string
	Body           string // SMS
	Twiml          string // call
	StatusCallback string
	MessagingSID   string
	At             time.Time
}

// Failure is an error the fake answers with.
type Failure struct {
	Status  int // HTTP status
	Code    int // Twilio error code
	Message string
}

// Server is a fake Twilio REST API.
type Server struct {
	*httptest.Server
	AccountSID, AuthToken string

	mu       sync.Mutex
	requests []Request
	seq      int
	// fail maps a destination number to the failures it answers with, in
	// order; the last one repeats when Times is negative.
	fail    map[string][]Failure
	arrived chan struct{}
}

// NewServer starts a fake for the account and token.
func NewServer(accountSID, authToken string) *Server {
	s := &Server{AccountSID: accountSID, AuthToken: authToken, fail: map[string][]Failure{}, arrived: make(chan struct{}, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// FailNext makes the next requests to number fail, one failure each.
func (s *Server) FailNext(number string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[number] = append(s.fail[number], fs...)
}

// Requests returns what the fake has received.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Wait waits until n requests have been received, or timeout passes.
func (s *Server) Wait(n int, timeout time.Duration) []Request {
	deadline := time.After(timeout)
	for {
		if r := s.Requests(); len(r) >= n {
			return r
		}
		select {
		case <-s.arrived:
		case <-deadline:
			return s.Requests()
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.AccountSID || pass != s.AuthToken {
		writeError(w, Failure{Status: 401, Code: 20003, Message: "Authenticate"})
		return
	}
	prefix := "/2010-04-01/Accounts/" + s.AccountSID + "/"
	kind := ""
	switch {
	case r.Method == http.MethodPost && r.URL.Path == prefix+"Messages.json":
		kind = "sms"
	case r.Method == http.MethodPost && r.URL.Path == prefix+"Calls.json":
		kind = "call"
	default:
		writeError(w, Failure{Status: 404, Code: 20404, Message: "The requested resource " + r.URL.Path + " was not found"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, Failure{Status: 400, Code: 20001, Message: err.Error()})
		return
	}
	req := Request{Kind: kind, To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"),
		Twiml: r.PostForm.Get("Twiml"), StatusCallback: r.PostForm.Get("StatusCallback"),
		MessagingSID: r.PostForm.Get("MessagingServiceSid"), At: time.Now()}
	s.mu.Lock()
	if fs := s.fail[req.To]; len(fs) > 0 {
		s.fail[req.To] = fs[1:]
		s.mu.Unlock()
		writeError(w, fs[0])
		return
	}
	switch {
	case req.To == "" || !strings.HasPrefix(req.To, "+"):
		s.mu.Unlock()
		writeError(w, Failure{Status: 400, Code: 21211, Message: fmt.Sprintf("The 'To' number %s is not a valid phone number.", req.To)})
		return
	case kind == "sms" && req.Body == "":
		s.mu.Unlock()
		writeError(w, Failure{Status: 400, Code: 21602, Message: "Message body is required."})
		return
	case kind == "call" && req.Twiml == "" && r.PostForm.Get("Url") == "":
		s.mu.Unlock()
		writeError(w, Failure{Status: 400, Code: 21205, Message: "Url parameter is required."})
		return
	}
	s.seq++
	if kind == "sms" {
		req.SID = fmt.Sprintf("SM%032d", s.seq)
	} else {
		req.SID = fmt.Sprintf("CA%032d", s.seq)
	}
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"sid": req.SID, "account_sid": s.AccountSID, "to": req.To, "from": req.From,
		"body": req.Body, "status": "queued", "date_created": time.Now().UTC().Format(time.RFC1123Z)})
}

func writeError(w http.ResponseWriter, f Failure) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	json.NewEncoder(w).Encode(map[string]any{"code": f.Code, "message": f.Message, "status": f.Status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", f.Code)})
}

// Sign computes X-Twilio-Signature from Twilio's documentation, written
// apart from any library: base64 of HMAC-SHA1, keyed with the auth token,
// over the full URL followed by each parameter's name and value, sorted
// by name (and by value for repeated names).
func Sign(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Post calls a webhook as Twilio would: a form POST signed with the
// token for publicURL (the address Twilio was given), sent to target (where
// the daemon listens, which behind a proxy differs).
func Post(client *http.Client, authToken, publicURL, target string, params url.Values) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", Sign(authToken, publicURL, params))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	return client.Do(req)
}

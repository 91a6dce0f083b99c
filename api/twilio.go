package api

import (
	"context"
	"net/http"
	"strconv"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
	"github.com/rotahq/rota/paging/notify/twilio"
)

// TwilioHandler is the engine's side of Twilio's webhooks.
type TwilioHandler interface {
	HandleSMS(ctx context.Context, from, body, sid string) (string, bool, error)
	// HandleKeypress says what a call says next; TwiML is twilio's.
	HandleKeypress(ctx context.Context, id int64, digits, callSID string) (notify.Speech, error)
	HandleStatus(ctx context.Context, r rota.ProviderReport) error
}

// maxTwilioBody bounds a Twilio webhook's form.
const maxTwilioBody = 64 << 10

// twilioRequest checks a Twilio webhook: the signature must validate,
// with the primary or the secondary auth token, against the URL Twilio
// was given (the public URL with this request's path and query, which
// behind a proxy differs from the URL the request arrived on) and every
// form parameter, known or not.
func (s *Server) twilioRequest(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	st := s.settings.Load()
	if len(st.TwilioTokens) == 0 {
		s.metrics.twilio.WithLabelValues(endpoint, "not_configured").Inc()
		s.writeError(w, r, rota.Errorf(rota.ENOTFOUND, "Twilio is not configured"))
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTwilioBody)
	if err := r.ParseForm(); err != nil {
		s.metrics.twilio.WithLabelValues(endpoint, "bad_request").Inc()
		s.writeError(w, r, rota.Errorf(rota.EINVALID, "cannot read the form: %v", err))
		return false
	}
	params := make(map[string]string, len(r.PostForm))
	for k, vs := range r.PostForm {
		params[k] = vs[0]
	}
	url := st.PublicURL + r.URL.RequestURI()
	sig := r.Header.Get("X-Twilio-Signature")
	for _, tok := range st.TwilioTokens {
		v := twclient.NewRequestValidator(tok)
		if sig != "" && v.Validate(url, params, sig) {
			return true
		}
	}
	s.metrics.twilio.WithLabelValues(endpoint, "bad_signature").Inc()
	s.log.Warn("twilio webhook refused: bad signature", "endpoint", endpoint, "url", url, "remote", r.RemoteAddr, "signed", sig != "")
	s.writeError(w, r, rota.Errorf(rota.EFORBIDDEN, "the X-Twilio-Signature does not match this request"))
	return false
}

func writeTwiML(w http.ResponseWriter, twiml []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(twiml)
}

// twilioSMS serves replies to pages.
func (s *Server) twilioSMS(w http.ResponseWriter, r *http.Request) {
	if !s.twilioRequest(w, r, "sms") {
		return
	}
	answer, known, err := s.twilio.HandleSMS(r.Context(), r.PostForm.Get("From"), r.PostForm.Get("Body"), r.PostForm.Get("MessageSid"))
	if err != nil {
		s.metrics.twilio.WithLabelValues("sms", "error").Inc()
		s.log.Error("sms reply failed", "from", r.PostForm.Get("From"), "err", err)
		writeTwiML(w, twilio.Message("Sorry, rota could not handle that reply. Please try again or use the web."))
		return
	}
	if !known {
		// Strangers get no answer: refusing quietly does not confirm to
		// them that this number pages anyone.
		s.metrics.twilio.WithLabelValues("sms", "unknown_number").Inc()
		writeTwiML(w, twilio.Message(""))
		return
	}
	s.metrics.twilio.WithLabelValues("sms", "ok").Inc()
	writeTwiML(w, twilio.Message(answer))
}

// twilioVoice serves key presses during page calls.
func (s *Server) twilioVoice(w http.ResponseWriter, r *http.Request) {
	if !s.twilioRequest(w, r, "voice") {
		return
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil {
		s.metrics.twilio.WithLabelValues("voice", "bad_request").Inc()
		s.writeError(w, r, rota.FieldError("n", "is not a notification id"))
		return
	}
	speech, err := s.twilio.HandleKeypress(r.Context(), id, r.PostForm.Get("Digits"), r.PostForm.Get("CallSid"))
	if err != nil {
		s.metrics.twilio.WithLabelValues("voice", "error").Inc()
		s.writeError(w, r, err)
		return
	}
	s.metrics.twilio.WithLabelValues("voice", "ok").Inc()
	writeTwiML(w, twilio.Call(speech))
}

// twilioStatus serves delivery reports of messages and calls.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) {
	if !s.twilioRequest(w, r, "status") {
		return
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil {
		s.metrics.twilio.WithLabelValues("status", "bad_request").Inc()
		s.writeError(w, r, rota.FieldError("n", "is not a notification id"))
		return
	}
	rep := rota.ProviderReport{NotificationID: id}
	f := r.PostForm
	if st := f.Get("MessageStatus"); st != "" {
		rep.ExternalID, rep.Status = f.Get("MessageSid"), st
		rep.Delivered = st == "delivered" || st == "read"
		rep.Failed = st == "undelivered" || st == "failed"
	} else {
		rep.ExternalID, rep.Status = f.Get("CallSid"), f.Get("CallStatus")
		rep.Delivered = rep.Status == "completed"
		rep.Failed = rep.Status == "busy" || rep.Status == "failed" || rep.Status == "no-answer" || rep.Status == "canceled"
	}
	if rep.Status == "" {
		s.metrics.twilio.WithLabelValues("status", "bad_request").Inc()
		s.writeError(w, r, rota.FieldError("MessageStatus", "or CallStatus is required"))
		return
	}
	if code := f.Get("ErrorCode"); code != "" {
		rep.Error = "Twilio error " + code
		if msg := f.Get("ErrorMessage"); msg != "" {
			rep.Error += ": " + msg
		}
	}
	if err := s.twilio.HandleStatus(r.Context(), rep); err != nil {
		s.metrics.twilio.WithLabelValues("status", "error").Inc()
		s.writeError(w, r, err)
		return
	}
	s.metrics.twilio.WithLabelValues("status", "ok").Inc()
	w.WriteHeader(http.StatusNoContent)
}

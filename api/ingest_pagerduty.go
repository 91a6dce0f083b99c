package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// pdEvent is a PagerDuty Events API v2 event, as POST /v2/enqueue takes it.
type pdEvent struct {
	RoutingKey  string      `json:"routing_key"`
	EventAction rota.Action `json:"event_action"`
	DedupKey    string      `json:"dedup_key"`
	Payload     *pdPayload  `json:"payload"`
	Images      []pdImage   `json:"images"`
	Links       []rota.Link `json:"links"`
	Client      string      `json:"client"`
	ClientURL   string      `json:"client_url"`
}

type pdPayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

type pdImage struct {
	Src  string `json:"src"`
	Href string `json:"href"`
	Alt  string `json:"alt"`
}

// maxPagerDutyBody is PagerDuty's own limit on an event.
const maxPagerDutyBody = 512 << 10

// decodePagerDuty reads an event and returns the routing key and the
// event it carries, or every problem found, as PagerDuty lists them.
func decodePagerDuty(b []byte) (string, rota.Event, []string, error) {
	var in pdEvent
	if err := unmarshal(b, &in, true); err != nil {
		return "", rota.Event{}, nil, err
	}
	var problems []string
	if in.RoutingKey == "" {
		problems = append(problems, "'routing_key' is missing or blank")
	}
	ev := rota.Event{Action: in.EventAction, DedupKey: in.DedupKey, Links: in.Links, Integration: "pagerduty", Actor: "pagerduty"}
	switch in.EventAction {
	case rota.ActionTrigger, rota.ActionAcknowledge, rota.ActionResolve:
	case "":
		problems = append(problems, "'event_action' is missing or blank")
	default:
		problems = append(problems, fmt.Sprintf("'event_action' must be trigger, acknowledge or resolve, not %q", in.EventAction))
	}
	if len(in.DedupKey) > rota.MaxDedupKeyLength {
		problems = append(problems, fmt.Sprintf("'dedup_key' is longer than %d characters", rota.MaxDedupKeyLength))
	}
	if in.EventAction != rota.ActionTrigger {
		if in.EventAction != "" && in.DedupKey == "" {
			problems = append(problems, "'dedup_key' is required to "+string(in.EventAction)+" an alert")
		}
		return in.RoutingKey, ev, problems, nil
	}
	p := in.Payload
	if p == nil {
		return in.RoutingKey, ev, append(problems, "'payload' is missing"), nil
	}
	switch {
	case p.Summary == "":
		problems = append(problems, "'payload.summary' is missing or blank")
	case len(p.Summary) > rota.MaxSummaryLength:
		problems = append(problems, fmt.Sprintf("'payload.summary' is longer than %d characters", rota.MaxSummaryLength))
	}
	if p.Source == "" {
		problems = append(problems, "'payload.source' is missing or blank")
	}
	if !rota.ValidSeverity(p.Severity) {
		problems = append(problems, fmt.Sprintf("'payload.severity' must be critical, error, warning or info, not %q", p.Severity))
	}
	if p.Timestamp != "" {
		t, err := time.Parse(time.RFC3339Nano, p.Timestamp)
		if err != nil {
			problems = append(problems, fmt.Sprintf("'payload.timestamp' %q is not an ISO 8601 time", p.Timestamp))
		}
		ev.StartedAt = t
	}
	ev.Summary, ev.Source, ev.Severity = p.Summary, p.Source, p.Severity
	if in.DedupKey == "" {
		ev.DedupKey = newDedupKey()
	}
	if in.ClientURL != "" {
		ev.Links = append(ev.Links, rota.Link{Href: in.ClientURL, Text: in.Client})
	}
	// Everything else the event says is kept in the alert's details.
	details := map[string]any{}
	for k, v := range map[string]string{"timestamp": p.Timestamp, "component": p.Component, "group": p.Group, "class": p.Class, "client": in.Client} {
		if v != "" {
			details[k] = v
		}
	}
	if len(p.CustomDetails) > 0 && string(p.CustomDetails) != "null" {
		details["custom_details"] = p.CustomDetails
	}
	if len(in.Images) > 0 {
		details["images"] = in.Images
	}
	if len(details) > 0 {
		ev.Details, _ = json.Marshal(details)
	}
	// group_by can name the custom details and component, group, class.
	var custom map[string]any
	json.Unmarshal(p.CustomDetails, &custom)
	ev.Labels = policy.LabelsOf(custom)
	for k, v := range map[string]string{"component": p.Component, "group": p.Group, "class": p.Class} {
		if v != "" {
			if ev.Labels == nil {
				ev.Labels = map[string]string{}
			}
			ev.Labels[k] = v
		}
	}
	if len(problems) == 0 {
		if err := ev.Validate(); err != nil {
			problems = append(problems, rota.ErrorMessage(err))
		}
	}
	return in.RoutingKey, ev, problems, nil
}

type pdResponse struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// pdInvalid answers an invalid event as PagerDuty does.
func pdInvalid(w http.ResponseWriter, status int, msg string, errs ...string) {
	writeJSON(w, status, pdResponse{Status: "invalid event", Message: msg, Errors: errs})
}

// pdRead reads, decodes and authenticates a body sent to one of
// PagerDuty's enqueue endpoints, answering anything wrong in PagerDuty's
// form (and counting it with rejected); ok is false when it answered.
func pdRead[T any](s *Server, w http.ResponseWriter, r *http.Request, rejected func(),
	decode func([]byte) (string, T, []string, error)) (svc *rota.Service, source string, v T, ok bool) {
	invalid := func(status int, msg string, errs ...string) {
		rejected()
		pdInvalid(w, status, msg, errs...)
	}
	b, err := readBody(w, r, maxPagerDutyBody)
	if err != nil {
		invalid(StatusOf(err), rota.ErrorMessage(err), rota.ErrorMessage(err))
		return nil, "", v, false
	}
	key, v, problems, err := decode(b)
	if err != nil {
		invalid(StatusOf(err), "Event object is invalid", rota.ErrorMessage(err))
		return nil, "", v, false
	}
	if len(problems) > 0 {
		invalid(http.StatusBadRequest, "Event object is invalid", problems...)
		return nil, "", v, false
	}
	if svc, source, err = s.service(r, key); err != nil {
		invalid(http.StatusUnauthorized, "Invalid routing key", "the routing key is not the integration key of any service")
		return nil, "", v, false
	}
	return svc, source, v, true
}

// enqueuePagerDuty serves POST /v2/enqueue with PagerDuty's answers, so
// that anything that pages PagerDuty pages rota by changing a URL.
func (s *Server) enqueuePagerDuty(w http.ResponseWriter, r *http.Request) {
	svc, _, ev, ok := pdRead(s, w, r, func() { s.metrics.received.WithLabelValues("pagerduty", "rejected").Inc() },
		decodePagerDuty)
	if !ok {
		return
	}
	ev.Service = svc.Name
	outcome, _, err := s.apply(r, ev)
	if err != nil {
		err = s.outage(r, err)
		s.log.Error("pagerduty event failed", "service", svc.Name, "err", err)
		if rota.ErrorCode(err) == rota.EUNAVAILABLE {
			w.Header().Set("Retry-After", "30")
		}
		writeJSON(w, StatusOf(err), pdResponse{Status: "error", Message: rota.ErrorMessage(err)})
		return
	}
	s.metrics.received.WithLabelValues("pagerduty", outcome).Inc()
	writeJSON(w, http.StatusAccepted, pdResponse{Status: "success", Message: "Event processed", DedupKey: ev.DedupKey})
}

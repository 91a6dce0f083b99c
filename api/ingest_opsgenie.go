package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
)

// Opsgenie's Alert API, as far as alert senders use it: create an alert,
// acknowledge and close it by alias (or id). Prometheus Alertmanager's
// opsgenie_configs and Grafana's Opsgenie contact point post here by
// changing only their API URL; the integration key is the GenieKey.

// ogCreate is an Opsgenie create-alert request.
type ogCreate struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description"`
	Responders  []json.RawMessage `json:"responders"`
	VisibleTo   []json.RawMessage `json:"visibleTo"`
	Actions     []string          `json:"actions"`
	Tags        []string          `json:"tags"`
	Details     map[string]string `json:"details"`
	Entity      string            `json:"entity"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
	User        string            `json:"user"`
	Note        string            `json:"note"`
}

// ogAction is an acknowledge or close request's body.
type ogAction struct {
	User   string `json:"user"`
	Source string `json:"source"`
	Note   string `json:"note"`
}

// Opsgenie's own limits on a created alert: a longer message is cut, a
// longer alias or description refused.
const (
	ogMaxMessage     = 130
	ogMaxAlias       = 512
	ogMaxDescription = 15000
	maxOpsgenieBody  = 1 << 20
)

// OpsgeniePriorities map Opsgenie's priorities to rota's severities. P3,
// Opsgenie's default, is urgent (error): a sender that sets no priority
// pages as it did before; P4 and P5 wait for business hours where the
// service's low_urgency says so (warning and info, by default).
var OpsgeniePriorities = map[string]string{
	"P1": rota.SeverityCritical,
	"P2": rota.SeverityError,
	"P3": rota.SeverityError,
	"P4": rota.SeverityWarning,
	"P5": rota.SeverityInfo,
}

// ogAnswer is Opsgenie's answer: result on success, message (and errors)
// on failure, with took and requestId always.
type ogAnswer struct {
	Result    string            `json:"result,omitempty"`
	Message   string            `json:"message,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	Took      float64           `json:"took"`
	RequestID string            `json:"requestId"`
}

// opsgenieKey is the integration key of an Opsgenie request: the
// "GenieKey KEY" authorization, a bearer token, or ?apiKey= (Opsgenie's
// older form).
func opsgenieKey(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if scheme, key, ok := strings.Cut(auth, " "); ok && (strings.EqualFold(scheme, "GenieKey") || strings.EqualFold(scheme, "Bearer")) {
			return strings.TrimSpace(key)
		}
	}
	return r.URL.Query().Get("apiKey")
}

// opsgenie answers an Opsgenie request: it authenticates the key, and
// handle returns what to answer 202 with, or an error answered as
// Opsgenie answers one.
func (s *Server) opsgenie(handle func(w http.ResponseWriter, r *http.Request, svc *rota.Service, source string) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		answer := ogAnswer{RequestID: requestID()}
		reply := func(status int) {
			answer.Took = float64(time.Since(start).Microseconds()) / 1e6
			writeJSON(w, status, answer)
		}
		key := opsgenieKey(r)
		if key == "" {
			s.metrics.received.WithLabelValues("opsgenie", "rejected").Inc()
			answer.Message = "Could not authenticate: send the service's integration key as \"Authorization: GenieKey KEY\""
			reply(http.StatusUnauthorized)
			return
		}
		svc, source, err := s.service(r, key)
		if err != nil {
			s.metrics.received.WithLabelValues("opsgenie", "rejected").Inc()
			answer.Message = "Could not authenticate: the key is not the integration key of any service"
			reply(http.StatusUnauthorized)
			return
		}
		result, err := handle(w, r, svc, source)
		if err != nil {
			err = s.outage(r, err)
			status := StatusOf(err)
			if status == http.StatusBadRequest {
				// Opsgenie answers a request it cannot process 422.
				status = http.StatusUnprocessableEntity
			}
			if status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "30")
			}
			if status >= 500 {
				s.log.Error("opsgenie request failed", "service", svc.Name, "path", r.URL.Path, "err", err)
			}
			s.metrics.received.WithLabelValues("opsgenie", "rejected").Inc()
			answer.Message = rota.ErrorMessage(err)
			if field := rota.ErrorField(err); field != "" {
				answer.Message = "Request body is not processable. Please check the errors."
				answer.Errors = map[string]string{field: rota.ErrorMessage(err)}
			}
			reply(status)
			return
		}
		s.metrics.received.WithLabelValues("opsgenie", result).Inc()
		answer.Result = "Request will be processed"
		reply(http.StatusAccepted)
	}
}

// createOpsgenie serves POST /v2/alerts: an Opsgenie alert, triggered on
// the key's service, deduplicated by its alias.
func (s *Server) createOpsgenie(w http.ResponseWriter, r *http.Request, svc *rota.Service, _ string) (string, error) {
	b, err := readBody(w, r, maxOpsgenieBody)
	if err != nil {
		return "", err
	}
	ev, err := decodeOpsgenie(b)
	if err != nil {
		return "", err
	}
	ev.Service = svc.Name
	outcome, _, err := s.apply(r, ev)
	return outcome, err
}

// decodeOpsgenie reads a create-alert request as a trigger event, or an
// error naming the field at fault, in Opsgenie's words where it has some.
func decodeOpsgenie(b []byte) (rota.Event, error) {
	var in ogCreate
	if err := unmarshal(b, &in, false); err != nil {
		return rota.Event{}, err
	}
	if strings.TrimSpace(in.Message) == "" {
		return rota.Event{}, rota.FieldError("message", "Message can not be empty.")
	}
	// Opsgenie keeps the first 130 characters of a longer message; rota
	// keeps them as the summary, and the whole in the details.
	summary := in.Message
	if r := []rune(summary); len(r) > ogMaxMessage {
		summary = string(r[:ogMaxMessage])
	}
	if utf8.RuneCountInString(in.Alias) > ogMaxAlias {
		return rota.Event{}, rota.FieldError("alias", "Alias can not be longer than %d characters.", ogMaxAlias)
	}
	if utf8.RuneCountInString(in.Description) > ogMaxDescription {
		return rota.Event{}, rota.FieldError("description", "Description can not be longer than %d characters.", ogMaxDescription)
	}
	priority := in.Priority
	if priority == "" {
		priority = "P3"
	}
	severity, ok := OpsgeniePriorities[priority]
	if !ok {
		return rota.Event{}, rota.FieldError("priority", "Priority should be one of [P1, P2, P3, P4, P5], not %q.", in.Priority)
	}
	ev := rota.Event{Action: rota.ActionTrigger, DedupKey: opsgenieDedupKey(in.Alias), Summary: summary, Severity: severity,
		Source: in.Source, Integration: "opsgenie", Actor: "opsgenie"}
	if ev.DedupKey == "" {
		ev.DedupKey = newDedupKey() // no alias: every alert its own, as in Opsgenie
	}
	// What rota has no field for is kept in the alert's details; the
	// details' values (Alertmanager's common labels) group by group_by.
	details := map[string]any{"priority": priority}
	if summary != in.Message {
		details["message"] = in.Message
	}
	for k, v := range map[string]string{"description": in.Description, "entity": in.Entity, "note": in.Note, "user": in.User, "alias": in.Alias} {
		if v != "" {
			details[k] = v
		}
	}
	if len(in.Details) > 0 {
		details["details"] = in.Details
		ev.Labels = map[string]string{}
		for k, v := range in.Details {
			ev.Labels[k] = v
		}
	}
	if len(in.Tags) > 0 {
		details["tags"] = in.Tags
	}
	if len(in.Actions) > 0 {
		details["actions"] = in.Actions
	}
	if len(in.Responders) > 0 {
		// rota's policy decides who is paged; Opsgenie's responders are
		// kept to read, not obeyed.
		details["responders"] = in.Responders
	}
	ev.Details, _ = json.Marshal(details)
	if ev.Source == "" {
		ev.Source = "opsgenie"
	}
	return ev, ev.Validate()
}

// opsgenieDedupKey is the dedup key of an Opsgenie alias: the alias, or
// a digest of one longer than rota's dedup keys (Opsgenie takes 512
// characters), the same for the same alias.
func opsgenieDedupKey(alias string) string {
	if len(alias) <= rota.MaxDedupKeyLength {
		return alias
	}
	sum := sha256.Sum256([]byte(alias))
	return "opsgenie-alias:" + hex.EncodeToString(sum[:])
}

// actOpsgenie serves POST /v2/alerts/{identifier}/acknowledge and /close:
// by alias (identifierType=alias, as Alertmanager and Grafana send), the
// open alert with that alias; by id (the default, or tiny), rota's alert
// id. A closed alert is resolved.
func (s *Server) actOpsgenie(action rota.Action) func(http.ResponseWriter, *http.Request, *rota.Service, string) (string, error) {
	return func(w http.ResponseWriter, r *http.Request, svc *rota.Service, source string) (string, error) {
		var body ogAction
		if b, err := readBody(w, r, maxOpsgenieBody); err != nil {
			return "", err
		} else if len(strings.TrimSpace(string(b))) > 0 {
			if err := unmarshal(b, &body, false); err != nil {
				return "", err
			}
		}
		identifier := r.PathValue("identifier")
		switch kind := r.URL.Query().Get("identifierType"); kind {
		case "alias":
			outcome, _, err := s.apply(r, rota.Event{Service: svc.Name, Action: action, DedupKey: opsgenieDedupKey(identifier), Integration: "opsgenie"})
			return outcome, err
		case "", "id", "tiny":
			id, err := strconv.ParseInt(identifier, 10, 64)
			if err != nil || id <= 0 {
				return "", rota.FieldError("identifier", "%q is not an alert id: rota's alert ids are numbers; use identifierType=alias for an alias", identifier)
			}
			actor := rota.Actor{Service: svc.Name, Key: source, Via: rota.ViaKey, Role: rota.RoleService}
			if _, err := s.pager.Act(r.Context(), paging.Act{Actor: actor, Action: action, Alert: id}); err != nil {
				return "", err
			}
			if action == rota.ActionAcknowledge {
				return "acknowledged", nil
			}
			return "resolved", nil
		default:
			return "", rota.FieldError("identifierType", "must be id, tiny or alias, not %q", kind)
		}
	}
}

// updateOpsgenie answers Opsgenie's message and description updates
// (Alertmanager's update_alerts): rota keeps an alert's first summary.
func (s *Server) updateOpsgenie(w http.ResponseWriter, r *http.Request, _ *rota.Service, _ string) (string, error) {
	return "", rota.FieldError(r.PathValue("field"), "rota does not update an alert's %s: set update_alerts: false in Alertmanager's opsgenie_configs", r.PathValue("field"))
}

// requestID is a random UUID, as Opsgenie names each request.
func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// DeployStore records and lists deploys.
type DeployStore interface {
	CreateDeploy(ctx context.Context, d *rota.Deploy) (bool, error)
	Deploys(ctx context.Context, f rota.DeployFilter) ([]rota.Deploy, error)
}

// maxFutureDeploy bounds how far ahead of rota's clock a deploy's time may
// be: a little clock skew, not a schedule.
const maxFutureDeploy = 5 * time.Minute

type deployJSON struct {
	ID           int64     `json:"id"`
	Service      string    `json:"service"`
	Commit       string    `json:"commit,omitempty"`
	Author       string    `json:"author,omitempty"`
	AuthorPerson string    `json:"author_person,omitempty"`
	MergedBy     string    `json:"merged_by,omitempty"`
	MergerPerson string    `json:"merger_person,omitempty"`
	DeployedAt   time.Time `json:"deployed_at"`
	URL          string    `json:"url,omitempty"`
	CompareURL   string    `json:"compare_url,omitempty"`
	Summary      string    `json:"summary,omitempty"`
	Source       string    `json:"source"`
	Environment  string    `json:"environment,omitempty"`
	Repository   string    `json:"repository,omitempty"`
	RecordedBy   string    `json:"recorded_by,omitempty"`
}

func (s *Server) deployJSON(d rota.Deploy) deployJSON {
	org := s.book.Roster().Org()
	j := deployJSON{ID: d.ID, Service: d.Service, Commit: d.Commit, Author: d.Author, MergedBy: d.MergedBy, DeployedAt: d.DeployedAt,
		URL: d.URL, CompareURL: d.CompareURL, Summary: d.Summary, Source: d.Source, Environment: d.Environment, Repository: d.Repository, RecordedBy: d.RecordedBy}
	if p := org.PersonByIdentity(d.Author); p != nil {
		j.AuthorPerson = p.Name
	}
	if p := org.PersonByIdentity(d.MergedBy); p != nil {
		j.MergerPerson = p.Name
	}
	return j
}

type nativeDeploy struct {
	Service    string `json:"service"`
	Commit     string `json:"commit"`
	Author     string `json:"author"`
	MergedBy   string `json:"merged_by"`
	DeployedAt string `json:"deployed_at"`
	URL        string `json:"url"`
	CompareURL string `json:"compare_url"`
	Summary    string `json:"summary"`
}

// postDeploy serves POST /api/v1/deploys, for a service's integration key
// (the service is the key's) or the admin token (the body names it).
func (s *Server) postDeploy(w http.ResponseWriter, r *http.Request) error {
	admin, keyService, err := s.alertAuth(r)
	if err != nil {
		return err
	}
	var in nativeDeploy
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	service := in.Service
	switch {
	case !admin && service != "" && service != keyService:
		return rota.FieldError("service", "is %q, but this integration key is service %s's", service, keyService)
	case !admin:
		service = keyService
	case service == "":
		return rota.FieldError("service", "is required with the admin token")
	case s.book.Roster().Org().Service(service) == nil:
		return rota.FieldError("service", "no service named %q", service)
	}
	d := rota.Deploy{Service: service, Commit: in.Commit, Author: in.Author, MergedBy: in.MergedBy, URL: in.URL,
		CompareURL: in.CompareURL, Summary: in.Summary, Source: "native", DeployedAt: s.now(), RecordedBy: actorOf(r).Credential()}
	if in.DeployedAt != "" {
		if d.DeployedAt, err = parseTime("deployed_at", in.DeployedAt); err != nil {
			return err
		}
	}
	if err := s.recordDeploy(r, &d); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.deployJSON(d))
	return nil
}

// recordDeploy checks a deploy's time and stores it.
func (s *Server) recordDeploy(r *http.Request, d *rota.Deploy) error {
	if d.DeployedAt.After(s.now().Add(maxFutureDeploy)) {
		return rota.FieldError("deployed_at", "is in the future (%s)", d.DeployedAt.Format(time.RFC3339))
	}
	created, err := s.deploys.CreateDeploy(r.Context(), d)
	if err != nil {
		return err
	}
	if created {
		s.auditDeploy(r, d)
		s.metrics.deploys.WithLabelValues(d.Source, "recorded").Inc()
		s.log.Info("deploy recorded", "deploy", d.ID, "service", d.Service, "commit", d.ShortCommit(), "author", d.Author, "merged_by", d.MergedBy, "source", d.Source)
	} else {
		s.metrics.deploys.WithLabelValues(d.Source, "duplicate").Inc()
	}
	return nil
}

// auditDeploy records a deploy in the audit log, under its service's
// team: a deploy decides whom an alert pages, and whoever holds a key may
// name an author.
func (s *Server) auditDeploy(r *http.Request, d *rota.Deploy) {
	team := ""
	if svc := s.book.Roster().Org().Service(d.Service); svc != nil {
		team = svc.Team
	}
	var who []string
	if d.Author != "" {
		who = append(who, "author "+d.Author)
	}
	if d.MergedBy != "" {
		who = append(who, "merged by "+d.MergedBy)
	}
	detail := d.ShortCommit()
	if detail == "" {
		detail = d.Summary
	}
	if len(who) > 0 {
		detail += " (" + strings.Join(who, ", ") + ")"
	}
	if s.identity == nil {
		return
	}
	e := rota.AuditEntry{Actor: d.RecordedBy, Action: "deploy.record", Subject: fmt.Sprintf("deploy %d of %s", d.ID, d.Service), Team: team, Detail: detail}
	if err := s.identity.Audit(context.WithoutCancel(r.Context()), &e); err != nil {
		s.log.Error("cannot write the audit log", "action", e.Action, "actor", e.Actor, "err", err)
	}
}

// listDeploys serves GET /api/v1/deploys?service=&since=&until=&limit=.
func (s *Server) listDeploys(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := rota.DeployFilter{Service: q.Get("service"), Limit: 100}
	if f.Service != "" && s.book.Roster().Org().Service(f.Service) == nil {
		return rota.FieldError("service", "no service named %q", f.Service)
	}
	var err error
	if f.Since, err = timeParam(r, "since", time.Time{}); err != nil {
		return err
	}
	if f.Until, err = timeParam(r, "until", time.Time{}); err != nil {
		return err
	}
	if f.Limit, err = limitParam(r, 100); err != nil {
		return err
	}
	ds, err := s.deploys.Deploys(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]deployJSON, len(ds))
	for i, d := range ds {
		out[i] = s.deployJSON(d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"deploys": out})
	return nil
}

// PagerDuty change events.

type pdChange struct {
	RoutingKey string          `json:"routing_key"`
	Payload    *pdChangeDetail `json:"payload"`
	Links      []rota.Link     `json:"links"`
	Images     []pdImage       `json:"images"`
}

type pdChangeDetail struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Timestamp     string         `json:"timestamp"`
	CustomDetails map[string]any `json:"custom_details"`
}

// Keys of a change event's custom_details that rota reads.
const (
	ChangeAuthor     = "author"
	ChangeMergedBy   = "merged_by"
	ChangeCommit     = "commit"
	ChangeService    = "service"
	ChangeCompareURL = "compare_url"
	ChangeURL        = "url"
	ChangeEnv        = "environment"
)

// decodePagerDutyChange reads a change event.
func decodePagerDutyChange(b []byte) (string, rota.Deploy, []string, error) {
	var in pdChange
	if err := unmarshal(b, &in, true); err != nil {
		return "", rota.Deploy{}, nil, err
	}
	var problems []string
	if in.RoutingKey == "" {
		problems = append(problems, "'routing_key' is missing or blank")
	}
	if in.Payload == nil {
		return in.RoutingKey, rota.Deploy{}, append(problems, "'payload' is missing"), nil
	}
	p := in.Payload
	if p.Summary == "" {
		problems = append(problems, "'payload.summary' is missing or blank")
	} else if len(p.Summary) > rota.MaxSummaryLength {
		problems = append(problems, fmt.Sprintf("'payload.summary' is longer than %d characters", rota.MaxSummaryLength))
	}
	d := rota.Deploy{Summary: p.Summary, Source: "pagerduty"}
	if p.Timestamp != "" {
		t, err := time.Parse(time.RFC3339Nano, p.Timestamp)
		if err != nil {
			problems = append(problems, fmt.Sprintf("'payload.timestamp' %q is not an ISO 8601 time", p.Timestamp))
		}
		d.DeployedAt = t
	}
	str := func(key string) string {
		v, ok := p.CustomDetails[key]
		if !ok {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			problems = append(problems, fmt.Sprintf("'payload.custom_details.%s' must be a string", key))
		}
		return s
	}
	d.Author, d.MergedBy, d.Commit = str(ChangeAuthor), str(ChangeMergedBy), str(ChangeCommit)
	d.CompareURL, d.URL, d.Environment = str(ChangeCompareURL), str(ChangeURL), str(ChangeEnv)
	d.Service = str(ChangeService)
	if d.URL == "" && len(in.Links) > 0 {
		d.URL = in.Links[0].Href
	}
	return in.RoutingKey, d, problems, nil
}

// enqueueChange serves POST /v2/change/enqueue, PagerDuty's change events.
func (s *Server) enqueueChange(w http.ResponseWriter, r *http.Request) {
	rejected := func() { s.metrics.deploys.WithLabelValues("pagerduty", "rejected").Inc() }
	svc, source, d, ok := pdRead(s, w, r, rejected, decodePagerDutyChange)
	if !ok {
		return
	}
	invalid := func(status int, msg string, errs ...string) {
		rejected()
		pdInvalid(w, status, msg, errs...)
	}
	if d.Service != "" && d.Service != svc.Name {
		invalid(http.StatusBadRequest, "Event object is invalid", fmt.Sprintf("'payload.custom_details.service' is %q, but the routing key is service %s's", d.Service, svc.Name))
		return
	}
	d.Service = svc.Name
	d.RecordedBy = rota.Actor{Service: svc.Name, Key: source}.Credential() + " (a PagerDuty change event)"
	if d.DeployedAt.IsZero() {
		d.DeployedAt = s.now()
	}
	if err := s.recordDeploy(r, &d); err != nil {
		err = s.outage(r, err)
		if rota.ErrorCode(err) == rota.EUNAVAILABLE {
			w.Header().Set("Retry-After", "30")
		}
		status := StatusOf(err)
		if status == http.StatusInternalServerError {
			s.log.Error("change event failed", "service", svc.Name, "err", err)
			writeJSON(w, status, pdResponse{Status: "error", Message: "internal error"})
			return
		}
		invalid(status, "Event object is invalid", rota.ErrorMessage(err))
		return
	}
	writeJSON(w, http.StatusAccepted, pdResponse{Status: "success", Message: "Change event processed"})
}

// GitHub webhooks.

// verifyGitHub checks X-Hub-Signature-256: "sha256=" and the hex
// HMAC-SHA256 of the raw body, compared in constant time.
func verifyGitHub(secret string, body []byte, header string) error {
	if header == "" {
		return rota.Errorf(rota.EUNAUTHORIZED, "missing X-Hub-Signature-256 header: set the webhook's secret in GitHub")
	}
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return rota.Errorf(rota.EUNAUTHORIZED, "X-Hub-Signature-256 must be sha256=HEX")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(got))) {
		return rota.Errorf(rota.EUNAUTHORIZED, "the X-Hub-Signature-256 signature does not match the body")
	}
	return nil
}

type ghDeploymentStatus struct {
	DeploymentStatus struct {
		ID             int64  `json:"id"`
		State          string `json:"state"`
		EnvironmentURL string `json:"environment_url"`
		LogURL         string `json:"log_url"`
		TargetURL      string `json:"target_url"`
		CreatedAt      string `json:"created_at"`
		Description    string `json:"description"`
	} `json:"deployment_status"`
	Deployment struct {
		SHA         string          `json:"sha"`
		Ref         string          `json:"ref"`
		Environment string          `json:"environment"`
		Description *string         `json:"description"`
		Payload     json.RawMessage `json:"payload"`
		Creator     struct {
			Login string `json:"login"`
		} `json:"creator"`
	} `json:"deployment"`
	Repository struct {
		FullName string `json:"full_name"`
		HTMLURL  string `json:"html_url"`
	} `json:"repository"`
}

// decodeGitHubDeployment turns a deployment_status event into a deploy;
// skip says why an event is not one (a state other than success).
func decodeGitHubDeployment(b []byte) (d rota.Deploy, skip string, err error) {
	var in ghDeploymentStatus
	if err := unmarshal(b, &in, false); err != nil {
		return d, "", err
	}
	if st := in.DeploymentStatus.State; st != "success" {
		return d, fmt.Sprintf("deployment_status %q is not a finished deploy", st), nil
	}
	if in.Repository.FullName == "" {
		return d, "", rota.FieldError("repository.full_name", "is required")
	}
	dep := in.Deployment
	d = rota.Deploy{Commit: dep.SHA, Environment: dep.Environment, Repository: in.Repository.FullName, Source: "github",
		Author: dep.Creator.Login, URL: firstOf(in.DeploymentStatus.LogURL, in.DeploymentStatus.TargetURL, in.DeploymentStatus.EnvironmentURL)}
	d.Summary = "deploy of " + firstOf(dep.Ref, dep.SHA) + " to " + dep.Environment
	if dep.Description != nil && *dep.Description != "" {
		d.Summary = *dep.Description
	}
	// The deployment's creator is often a bot; CI that knows better puts
	// the commit's author and the pull request's merger in the payload.
	var payload map[string]any
	if len(dep.Payload) > 0 && json.Unmarshal(dep.Payload, &payload) == nil {
		for key, dst := range map[string]*string{"author": &d.Author, "merged_by": &d.MergedBy, "compare_url": &d.CompareURL} {
			if v, ok := payload[key].(string); ok && v != "" {
				*dst = v
			}
		}
	}
	if d.CompareURL == "" && in.Repository.HTMLURL != "" && dep.SHA != "" {
		d.CompareURL = in.Repository.HTMLURL + "/commit/" + dep.SHA
	}
	t, err := time.Parse(time.RFC3339, in.DeploymentStatus.CreatedAt)
	if err != nil {
		return d, "", rota.FieldError("deployment_status.created_at", "%q is not a time", in.DeploymentStatus.CreatedAt)
	}
	d.DeployedAt = t
	// Recorded once per deployment status, by its id in the signed body:
	// X-GitHub-Delivery is not signed, and a replay with a new one must
	// not record the deploy again.
	if in.DeploymentStatus.ID != 0 {
		d.ExternalID = fmt.Sprintf("deployment_status:%d", in.DeploymentStatus.ID)
	}
	return d, "", nil
}

// githubService finds the service a repository and environment roll out.
func githubService(org *rota.Org, repo, env string) *rota.Service {
	var anyEnv *rota.Service
	for _, svc := range org.Services {
		for _, g := range svc.GitHub {
			if !strings.EqualFold(g.Repository, repo) {
				continue
			}
			if strings.EqualFold(g.Environment, env) {
				return svc
			}
			if g.Environment == "" && anyEnv == nil {
				anyEnv = svc
			}
		}
	}
	return anyEnv
}

// postGitHub serves GitHub webhooks: deployment_status (success) records a
// deploy, ping answers, anything else is accepted and ignored with why.
func (s *Server) postGitHub(w http.ResponseWriter, r *http.Request) error {
	secret := s.settings.Load().GitHubSecret
	if secret == "" {
		return rota.Errorf(rota.ENOTFOUND, "GitHub webhooks are not configured: set [github] webhook_secret")
	}
	b, err := readBody(w, r, maxWebhookBody)
	if err != nil {
		return err
	}
	if err := verifyGitHub(secret, b, r.Header.Get("X-Hub-Signature-256")); err != nil {
		s.metrics.deploys.WithLabelValues("github", "bad_signature").Inc()
		s.log.Warn("github webhook refused", "err", err, "delivery", r.Header.Get("X-GitHub-Delivery"))
		return err
	}
	ignore := func(reason string) error {
		s.metrics.deploys.WithLabelValues("github", "ignored").Inc()
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": reason})
		return nil
	}
	switch event := r.Header.Get("X-GitHub-Event"); event {
	case "ping":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "message": "pong"})
		return nil
	case "deployment_status":
	case "":
		return rota.Errorf(rota.EINVALID, "missing X-GitHub-Event header")
	default:
		return ignore(fmt.Sprintf("%s events are not deploys: send deployment_status", event))
	}
	d, skip, err := decodeGitHubDeployment(b)
	if err != nil {
		return err
	}
	if skip != "" {
		return ignore(skip)
	}
	svc := githubService(s.book.Roster().Org(), d.Repository, d.Environment)
	if svc == nil {
		return ignore(fmt.Sprintf("no service is rolled out by %s to %q: add it to a service's github list", d.Repository, d.Environment))
	}
	d.Service = svc.Name
	if d.ExternalID == "" {
		d.ExternalID = "delivery:" + r.Header.Get("X-GitHub-Delivery")
	}
	d.RecordedBy = "the GitHub webhook (delivery " + r.Header.Get("X-GitHub-Delivery") + ")"
	if err := s.recordDeploy(r, &d); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "recorded", "deploy": s.deployJSON(d)})
	return nil
}

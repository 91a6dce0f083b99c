package rota

import (
	"strings"
	"time"
)

// Deploy routing modes of a service.
const (
	// DeployAuthorFirst pages the author of a deploy in the window first
	// (its merger when the author cannot be paged), alone for the
	// service's grace, then runs the policy.
	DeployAuthorFirst = "author-first"
	// DeployWithOnCall pages them alongside the policy's first step.
	DeployWithOnCall = "with-oncall"
	// DeployOff never pages them unless a step names deploy-author.
	DeployOff = "off"
)

// DefaultDeployWindow is how long after a deploy an alert suspects it.
const DefaultDeployWindow = time.Hour

// DefaultDeployGrace bounds how long author-first routing pages a
// deploy's author alone, when the service does not say.
const DefaultDeployGrace = 5 * time.Minute

// Whom a deploy may page, per service (Service.DeployAuthors).
const (
	// DeployAuthorsTeam pages an author or merger on the service's team
	// only: a deploy naming anyone else pages the policy.
	DeployAuthorsTeam = "team"
	// DeployAuthorsOrg pages any configured person, whatever their team.
	DeployAuthorsOrg = "org"
)

// Deploy is a change rolled out to a service.
type Deploy struct {
	ID       int64
	Service  string
	Commit   string
	Author   string // as the source said: a login, an email or a name
	MergedBy string
	// DeployedAt is when the change was rolled out.
	DeployedAt  time.Time
	URL         string
	CompareURL  string
	Summary     string
	Source      string // native, pagerduty, github
	Environment string
	Repository  string
	// ExternalID identifies the delivery at its source (GitHub's
	// X-GitHub-Delivery), so that a redelivery is recorded once.
	ExternalID string
	// RecordedBy names the credential that recorded the deploy: which
	// integration key, the admin token, the GitHub webhook.
	RecordedBy string
	CreatedAt  time.Time
}

// ShortCommit returns the first seven characters of the commit.
func (d *Deploy) ShortCommit() string {
	if len(d.Commit) > 7 {
		return d.Commit[:7]
	}
	return d.Commit
}

// Validate checks a deploy's fields.
func (d *Deploy) Validate() error {
	switch {
	case d.Service == "":
		return FieldError("service", "is required")
	case d.Commit == "" && d.Summary == "":
		return FieldError("commit", "is required (or a summary naming the change)")
	case d.DeployedAt.IsZero():
		return FieldError("deployed_at", "is required")
	case len(d.Commit) > 200 || len(d.Author) > 200 || len(d.MergedBy) > 200:
		return FieldError("commit", "commit, author and merged_by are at most 200 characters")
	case len(d.Summary) > MaxSummaryLength:
		return FieldError("summary", "is longer than %d characters", MaxSummaryLength)
	}
	if err := CheckTime("deployed_at", d.DeployedAt); err != nil {
		return err
	}
	return checkTexts("commit", d.Commit, "author", d.Author, "merged_by", d.MergedBy, "summary", d.Summary, "url", d.URL, "compare_url", d.CompareURL)
}

// DeployFilter selects deploys to list.
type DeployFilter struct {
	Service string
	Since   time.Time
	Until   time.Time
	Limit   int
}

// PersonByIdentity finds the person a name, GitHub login or email
// belongs to, case-insensitively, or nil.
func (o *Org) PersonByIdentity(s string) *Person {
	if s == "" {
		return nil
	}
	return o.identities[strings.ToLower(strings.TrimSpace(s))]
}

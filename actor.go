package rota

import (
	"slices"
	"time"
)

// Role is what an actor may do. Roles are ordered: each may do what the
// one before it may, and more.
type Role int

// Roles, from least to most.
const (
	// RoleNone is an anonymous caller.
	RoleNone Role = iota
	// RoleService is a service's integration key: it ingests, and acts on
	// its own service's alerts.
	RoleService
	// RoleResponder is any configured person: acknowledge, resolve and
	// escalate their teams' incidents, put themselves on call, propose
	// swaps.
	RoleResponder
	// RoleManager manages at least one team: that team's reports,
	// overrides, swaps and audit log.
	RoleManager
	// RoleAdmin may do everything: the admin token, and the people the
	// configuration names as admins.
	RoleAdmin
)

var roleNames = [...]string{"anonymous", "service", "responder", "manager", "admin"}

func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return "unknown"
	}
	return roleNames[r]
}

// Ways an actor authenticated, as the Via of an Actor.
const (
	ViaWeb      = "web"
	ViaToken    = "token"
	ViaKey      = "key"
	ViaSMS      = "sms"
	ViaVoice    = "voice"
	ViaCLI      = "cli"
	ViaDevLogin = "dev sign-in"
	ViaSlack    = "slack"
)

// Actor is who did something, as they authenticated: a signed-in person,
// the holder of a personal or the admin token, or a service's key. It is
// never taken from a request's body.
type Actor struct {
	// Person is the configured person acting; empty for the admin token
	// and for service keys.
	Person string
	// Service is the service whose integration key acts, and Key which of
	// its keys (its source: env:NAME or file:PATH).
	Service string
	Key     string
	// Via is how the actor authenticated (ViaWeb, ViaToken, ...).
	Via  string
	Role Role
	// Session or TokenID identify the credential used, for revocation
	// and the audit log.
	Session int64
	TokenID int64
}

// Credential names the credential an actor used, for records that must
// say which (a deploy's RecordedBy): "service payments-api's key
// env:ROTA_KEY_PAYMENTS_API", "admin (token)", "alice (token)".
func (a Actor) Credential() string {
	if a.Service != "" && a.Key != "" {
		return "service " + a.Service + "'s key " + a.Key
	}
	return a.String()
}

// AdminActor is the holder of the admin token.
var AdminActor = Actor{Via: ViaToken, Role: RoleAdmin}

// String names the actor as timelines and the audit log show it: "alice
// (web)", "admin (token)", "service payments-api (key)".
func (a Actor) String() string {
	switch {
	case a.Service != "":
		return "service " + a.Service + " (key)"
	case a.Person != "":
		return a.Person + " (" + a.Via + ")"
	case a.Role == RoleAdmin:
		return "admin (" + a.Via + ")"
	}
	return "anonymous"
}

// Anonymous reports whether nobody authenticated.
func (a Actor) Anonymous() bool { return a.Role == RoleNone }

// RoleOf is the role of a configured person: admin when admins names
// them, manager when they manage a team, responder otherwise. Someone who
// is not configured has no role.
func (o *Org) RoleOf(person string, admins []string) Role {
	switch {
	case o.Person(person) == nil:
		return RoleNone
	case slices.Contains(admins, person):
		return RoleAdmin
	}
	for _, t := range o.Teams {
		if slices.Contains(t.Managers, person) {
			return RoleManager
		}
	}
	return RoleResponder
}

// OnTeam reports whether person is a member or manager of team, or on
// one of its rotations (TeamsOf).
func (o *Org) OnTeam(person, team string) bool { return slices.Contains(o.TeamsOf(person), team) }

// TeamsOf returns the teams person is a member or a manager of, or is on
// a rotation of, by name.
func (o *Org) TeamsOf(person string) []string {
	var out []string
	for _, t := range o.Teams {
		if slices.Contains(t.Members, person) || slices.Contains(t.Managers, person) {
			out = append(out, t.Name)
		}
	}
	for _, r := range o.Rotations {
		if r.Team != "" && !slices.Contains(out, r.Team) && slices.Contains(r.Members, person) {
			out = append(out, r.Team)
		}
	}
	return out
}

// Manages reports whether person manages team.
func (o *Org) Manages(person, team string) bool {
	t := o.Team(team)
	return t != nil && slices.Contains(t.Managers, person)
}

// ManagedTeams returns the teams person manages, by name.
func (o *Org) ManagedTeams(person string) []string {
	var out []string
	for _, t := range o.Teams {
		if slices.Contains(t.Managers, person) {
			out = append(out, t.Name)
		}
	}
	return out
}

// AuditEntry is one line of the audit log: who did what to what, when.
type AuditEntry struct {
	ID    int64     `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	// Person is the person who acted, when a person did.
	Person string `json:"person,omitempty"`
	// Action is what was done: "sign-in", "token.create", "override.create",
	// "incident.acknowledge", "config.reload", ...
	Action string `json:"action"`
	// Subject is what it was done to: "incident 12", "rotation primary".
	Subject string `json:"subject,omitempty"`
	// Team is the team the subject belongs to, which lets that team's
	// managers read the entry.
	Team   string `json:"team,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// AuditQuery selects audit entries: all of them, or those of Teams or
// done by People; older than the entry Before, newest first, at most
// Limit.
type AuditQuery struct {
	All    bool
	Teams  []string
	People []string
	Before int64
	Limit  int
}

// APIToken is a person's token for scripts. Its secret is shown once, at
// creation, and stored only as a hash.
type APIToken struct {
	ID        int64      `json:"id"`
	Person    string     `json:"person"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Session is a person signed in to the web UI.
type Session struct {
	ID      int64
	Person  string
	Via     string
	Created time.Time
	Expires time.Time
	// CSRF is the token every form of the session carries.
	CSRF string
}

// SwapStatus is where a proposed swap stands.
type SwapStatus string

// Swap statuses.
const (
	SwapProposed  SwapStatus = "proposed"
	SwapAccepted  SwapStatus = "accepted"
	SwapDeclined  SwapStatus = "declined"
	SwapCancelled SwapStatus = "cancelled"
)

// SwapRequest is a swap one person proposes and the other accepts or
// declines: Proposer takes Partner's shift and Partner takes Proposer's.
type SwapRequest struct {
	ID            int64      `json:"id"`
	Rotation      string     `json:"rotation"`
	Proposer      string     `json:"proposer"`
	ProposerShift Shift      `json:"-"`
	Partner       string     `json:"partner"`
	PartnerShift  Shift      `json:"-"`
	Reason        string     `json:"reason,omitempty"`
	Status        SwapStatus `json:"status"`
	CreatedAt     time.Time  `json:"created_at"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	DecidedBy     string     `json:"decided_by,omitempty"`
}

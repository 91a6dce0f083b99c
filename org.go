package rota

import "strings"

// Org is everything that is configured: people, teams, rotations, services
// and escalation policies, validated together. An Org is immutable once
// built; a configuration reload builds a new one.
type Org struct {
	People    []*Person
	Teams     []*Team
	Rotations []*Rotation
	Services  []*Service
	Policies  []*EscalationPolicy
	// ChatChannels are the Slack and Teams channels rota posts to.
	ChatChannels []*ChatChannel

	chatChannels map[string]*ChatChannel
	people       map[string]*Person
	teams        map[string]*Team
	rotations    map[string]*Rotation
	services     map[string]*Service
	policies     map[string]*EscalationPolicy
	// identities maps lower-cased names, GitHub logins and emails to
	// people.
	identities map[string]*Person
}

// NewOrg indexes the given values by name. Validation is the caller's: the
// config package checks names are unique and references resolve.
func NewOrg(people []*Person, teams []*Team, rotations []*Rotation, services []*Service, policies []*EscalationPolicy) *Org {
	o := &Org{People: people, Teams: teams, Rotations: rotations, Services: services, Policies: policies}
	o.people = index(people, func(p *Person) string { return p.Name })
	o.teams = index(teams, func(t *Team) string { return t.Name })
	o.rotations = index(rotations, func(r *Rotation) string { return r.Name })
	o.services = index(services, func(s *Service) string { return s.Name })
	o.policies = index(policies, func(p *EscalationPolicy) string { return p.Name })
	o.identities = map[string]*Person{}
	for _, p := range people {
		for _, id := range append(append([]string{p.Name}, p.GitHub...), p.Emails...) {
			if k := strings.ToLower(id); o.identities[k] == nil {
				o.identities[k] = p
			}
		}
	}
	return o
}

func index[T any](xs []*T, name func(*T) string) map[string]*T {
	m := make(map[string]*T, len(xs))
	for _, x := range xs {
		m[name(x)] = x
	}
	return m
}

// Person returns the named person, or nil.
func (o *Org) Person(name string) *Person { return o.people[name] }

// Team returns the named team, or nil.
func (o *Org) Team(name string) *Team { return o.teams[name] }

// Rotation returns the named rotation, or nil.
func (o *Org) Rotation(name string) *Rotation { return o.rotations[name] }

// Service returns the named service, or nil.
func (o *Org) Service(name string) *Service { return o.services[name] }

// Policy returns the named escalation policy, or nil.
func (o *Org) Policy(name string) *EscalationPolicy { return o.policies[name] }

// SignIn returns the person an identity provider's verified identity
// names: the one whose oidc_subject is subject, or else the one with the
// (verified) email among their emails, compared case-insensitively.
func (o *Org) SignIn(subject, email string) *Person {
	for _, p := range o.People {
		if p.OIDCSubject != "" && p.OIDCSubject == subject {
			return p
		}
	}
	if email == "" {
		return nil
	}
	for _, p := range o.People {
		for _, e := range p.Emails {
			if strings.EqualFold(e, email) {
				return p
			}
		}
	}
	return nil
}

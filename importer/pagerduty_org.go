package importer

import (
	"fmt"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"
)

// Person is a [[people]] section.
type Person struct {
	Name, FullName, Timezone string
	Emails                   []string
	Contacts                 []Contact
	From                     string
}

// Contact is one of a person's contact methods.
type Contact struct{ Type, Address string }

// Team is a [[teams]] section.
type Team struct {
	Name, Timezone    string
	Members, Managers []string
	From              string
}

// Policy is an [[escalation_policies]] section.
type Policy struct {
	Name   string
	Repeat int
	Steps  []Step
	From   string
}

// Step is one of a policy's steps.
type Step struct {
	Targets []string
	Delay   string
}

// Service is a [[services]] section; its integration key is read from
// KeyEnv, which the import names and the operator sets.
type Service struct {
	Name, Team, Policy, KeyEnv string
	// LowUrgency, when not nil, is written: an empty list keeps every
	// severity paging at any hour, as PagerDuty's default urgency does
	// (rota's default holds warnings and info for business hours).
	LowUrgency *[]string
	From       string
}

// Result is a whole imported configuration and its report.
type Result struct {
	Source    string
	People    []Person
	Teams     []Team
	Rotations []Rotation
	Schedules []Schedule
	Policies  []Policy
	Services  []Service
	Findings  []Finding
	// OnCallOf names, by the source's schedule ID, the rota rotation or
	// schedule that holds it; PersonOf the rota person of each source
	// user ID: what --verify compares.
	OnCallOf map[string]string
	PersonOf map[string]string
}

// PagerDutyExport is what rotad import reads from PagerDuty's REST API
// (or a saved export): the account's users (with their contact methods),
// teams with their members, schedules with their layers, escalation
// policies and services.
type PagerDutyExport struct {
	Users     []pagerduty.User
	Teams     []pagerduty.Team
	Members   map[string][]pagerduty.Member // by team ID
	Schedules []pagerduty.Schedule
	Policies  []pagerduty.EscalationPolicy
	Services  []pagerduty.Service
}

// PagerDuty converts an export. now decides what has ended and what
// begins later.
func PagerDuty(x PagerDutyExport, now time.Time) *Result {
	res := &Result{Source: "PagerDuty", OnCallOf: map[string]string{}}
	people := map[string]string{} // user ID → rota name
	res.PersonOf = people
	// Names are unique within their kind (people, teams, policies and
	// services are apart in rota's configuration).
	taken := map[string]bool{}
	unique := func(kind, base string) string {
		name := base
		for i := 2; taken[kind+"\x00"+name]; i++ {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		taken[kind+"\x00"+name] = true
		return name
	}
	for _, u := range x.Users {
		base := Slug(u.Name)
		if at := strings.IndexByte(u.Email, '@'); at > 0 {
			base = Slug(u.Email[:at])
		}
		if base == "" {
			base = Slug(u.ID)
		}
		p := Person{Name: unique("person", base), FullName: u.Name, Timezone: u.Timezone, From: fmt.Sprintf("PagerDuty user %s (%s)", u.Name, u.ID)}
		if u.Email != "" {
			p.Emails = []string{u.Email}
		}
		object := fmt.Sprintf("user %q (%s)", u.Name, u.ID)
		if _, err := time.LoadLocation(u.Timezone); err != nil || u.Timezone == "" {
			res.Findings = append(res.Findings, Finding{Object: object, Reason: fmt.Sprintf("time zone %q is not an IANA zone: UTC written", u.Timezone), Nearest: "timezone"})
			p.Timezone = "UTC"
		}
		for _, c := range u.ContactMethods {
			phone := c.Address
			if c.CountryCode > 0 && !strings.HasPrefix(phone, "+") {
				phone = fmt.Sprintf("+%d%s", c.CountryCode, strings.TrimLeft(phone, "0"))
			}
			switch c.Type {
			case "email_contact_method", "email_contact_method_reference":
				p.Contacts = append(p.Contacts, Contact{"email", c.Address})
			case "sms_contact_method", "sms_contact_method_reference":
				p.Contacts = append(p.Contacts, Contact{"sms", phone})
			case "phone_contact_method", "phone_contact_method_reference":
				p.Contacts = append(p.Contacts, Contact{"voice", phone})
			default:
				res.Findings = append(res.Findings, Finding{Object: object, Reason: fmt.Sprintf("contact method %q (%s) has no rota equivalent: left out", strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(c.Type, "_reference"), "_contact_method"), "_", " "), c.Label),
					Nearest: "a slack, webhook, sms, voice or email contact"})
			}
		}
		if len(u.NotificationRules) > 0 {
			res.Findings = append(res.Findings, Finding{Object: object, Reason: "notification rules (which contact method when) are not imported: rota reaches every contact at once unless a contact has a delay",
				Nearest: "give later contacts a delay (contacts = [{ type = \"voice\", address = \"…\", delay = \"2m\" }])"})
		}
		pageable := false
		for _, c := range p.Contacts {
			pageable = pageable || c.Type == "sms" || c.Type == "voice"
		}
		if !pageable {
			res.Findings = append(res.Findings, Finding{Object: object, Reason: "has no phone rota can page them on (email only reaches them with [smtp] set)",
				Nearest: "an sms or voice contact, or slack"})
		}
		people[u.ID] = p.Name
		res.People = append(res.People, p)
	}
	tz := func(names []string) string {
		for _, p := range res.People {
			for _, n := range names {
				if p.Name == n {
					return p.Timezone
				}
			}
		}
		return "UTC"
	}
	teams := map[string]string{} // team ID → rota name
	for _, t := range x.Teams {
		team := Team{Name: unique("team", Slug(t.Name)), From: fmt.Sprintf("PagerDuty team %s (%s)", t.Name, t.ID)}
		for _, m := range x.Members[t.ID] {
			name, ok := people[m.User.ID]
			if !ok {
				continue
			}
			team.Members = append(team.Members, name)
			if m.Role == "manager" {
				team.Managers = append(team.Managers, name)
			}
		}
		team.Timezone = tz(team.Members)
		teams[t.ID] = team.Name
		res.Teams = append(res.Teams, team)
	}
	teamOf := func(refs []pagerduty.APIObject) string {
		for _, r := range refs {
			if n, ok := teams[r.ID]; ok {
				return n
			}
		}
		return ""
	}
	targets := map[string]string{} // schedule ID → rota target
	for _, s := range x.Schedules {
		rs, sched, fs := PagerDutySchedule(s, teamOf(s.Teams), people, now)
		// Rotations and schedules share one namespace in rota: two
		// schedules of one name (or a layer named like another schedule)
		// are told apart.
		renamed := map[string]string{}
		for i := range rs {
			n := unique("rotation", rs[i].Name)
			renamed[rs[i].Name], rs[i].Name = n, n
		}
		if sched != nil {
			sched.Name = unique("rotation", sched.Name)
			for i, l := range sched.Layers {
				sched.Layers[i] = renamed[l]
			}
		}
		res.Rotations = append(res.Rotations, rs...)
		res.Findings = append(res.Findings, fs...)
		switch {
		case sched != nil:
			res.Schedules = append(res.Schedules, *sched)
			targets[s.ID] = "schedule:" + sched.Name
			res.OnCallOf[s.ID] = sched.Name
		case len(rs) == 1:
			targets[s.ID] = "rotation:" + rs[0].Name
			res.OnCallOf[s.ID] = rs[0].Name
		}
	}
	policies := map[string]string{}
	for _, ep := range x.Policies {
		object := fmt.Sprintf("escalation policy %q (%s)", ep.Name, ep.ID)
		p := Policy{Name: unique("policy", Slug(ep.Name)), Repeat: int(ep.NumLoops), From: fmt.Sprintf("PagerDuty escalation policy %s (%s)", ep.Name, ep.ID)}
		for i, rule := range ep.EscalationRules {
			st := Step{Delay: fmt.Sprintf("%dm", max(rule.Delay, 1))}
			for _, tg := range rule.Targets {
				switch tg.Type {
				case "user_reference", "user":
					if n, ok := people[tg.ID]; ok {
						st.Targets = append(st.Targets, "person:"+n)
						continue
					}
				case "schedule_reference", "schedule":
					if t, ok := targets[tg.ID]; ok {
						st.Targets = append(st.Targets, t)
						continue
					}
				}
				res.Findings = append(res.Findings, Finding{Object: object, Reason: fmt.Sprintf("step %d's target %s %s (%s) was not imported: left out", i+1, tg.Type, tg.Summary, tg.ID),
					Nearest: "a rotation:, schedule: or person: target"})
			}
			if len(st.Targets) == 0 {
				res.Findings = append(res.Findings, Finding{Object: object, Reason: fmt.Sprintf("step %d pages nobody rota knows: left out", i+1)})
				continue
			}
			p.Steps = append(p.Steps, st)
		}
		if len(p.Steps) == 0 {
			res.Findings = append(res.Findings, Finding{Object: object, Reason: "no step left: the policy is left out", Nearest: "write its steps by hand"})
			continue
		}
		policies[ep.ID] = p.Name
		res.Policies = append(res.Policies, p)
	}
	for _, s := range x.Services {
		object := fmt.Sprintf("service %q (%s)", s.Name, s.ID)
		pol, ok := policies[s.EscalationPolicy.ID]
		if !ok {
			res.Findings = append(res.Findings, Finding{Object: object, Reason: fmt.Sprintf("its escalation policy %s (%s) was not imported (see above): the service is left out",
				s.EscalationPolicy.Summary, s.EscalationPolicy.ID), Nearest: "escalation_policy, once a policy pages someone"})
			continue
		}
		name := unique("service", Slug(s.Name))
		team := ""
		for _, t := range s.Teams {
			if n, ok := teams[t.ID]; ok {
				team = n
				break
			}
		}
		svc := Service{Name: name, Team: team, Policy: pol, KeyEnv: "ROTA_KEY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")),
			From: fmt.Sprintf("PagerDuty service %s (%s)", s.Name, s.ID)}
		switch r := s.IncidentUrgencyRule; {
		case r == nil || r.Type == "constant" && r.Urgency == "high":
			// High urgency always: every alert pages at any hour.
			none := []string{}
			svc.LowUrgency = &none
		case r.Type == "use_support_hours":
			res.Findings = append(res.Findings, Finding{Object: object, Reason: "its urgency follows the service's support hours, which rota does not have: it holds low-urgency alerts until the paged person's own business hours",
				Nearest: `low_urgency = ["warning", "info"] (rota's default, written) and each person's business_hours`})
		default:
			urgency := r.Urgency
			if urgency == "" {
				urgency = r.Type
			}
			res.Findings = append(res.Findings, Finding{Object: object, Reason: fmt.Sprintf("its urgency is %q: rota decides urgency by severity", urgency),
				Nearest: `low_urgency = ["warning", "info"] (rota's default, written)`})
		}
		if s.AlertGrouping != "" || s.AlertGroupingParameters != nil {
			res.Findings = append(res.Findings, Finding{Object: object, Reason: "alert grouping settings are not imported", Nearest: "group_window or group_by"})
		}
		res.Findings = append(res.Findings, Finding{Object: object, Reason: "its integration keys stay in PagerDuty: rota reads its own key from " + svc.KeyEnv,
			Nearest: "set " + svc.KeyEnv + ", then change each sender's URL (docs/MIGRATING.md)"})
		res.Services = append(res.Services, svc)
	}
	// rota puts every rotation, schedule and service in a team: what
	// PagerDuty left teamless goes to one team of everyone imported.
	orphan := ""
	adopt := func(team *string, what string) {
		if *team != "" {
			return
		}
		if orphan == "" {
			orphan = unique("team", "imported")
			t := Team{Name: orphan, From: "rotad import: what PagerDuty had in no team"}
			for _, p := range res.People {
				t.Members = append(t.Members, p.Name)
			}
			t.Timezone = tz(t.Members)
			res.Teams = append(res.Teams, t)
		}
		*team = orphan
		res.Findings = append(res.Findings, Finding{Object: what, Reason: "is in no PagerDuty team: put in team " + orphan + ", of everyone imported",
			Nearest: "team (and the team's members and managers)"})
	}
	for i := range res.Rotations {
		adopt(&res.Rotations[i].Team, "rotation "+res.Rotations[i].Name)
	}
	for i := range res.Schedules {
		adopt(&res.Schedules[i].Team, "schedule "+res.Schedules[i].Name)
	}
	for i := range res.Services {
		adopt(&res.Services[i].Team, "service "+res.Services[i].Name)
	}
	return res
}

// TOML writes the whole configuration, each section saying what it came
// from.
func (r *Result) TOML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Imported from %s by rotad import. What did not carry over is in the import's report.\n\n", r.Source)
	for _, p := range r.People {
		fmt.Fprintf(&b, "# From %s.\n[[people]]\nname = %q\n", p.From, p.Name)
		if p.FullName != "" {
			fmt.Fprintf(&b, "full_name = %q\n", p.FullName)
		}
		fmt.Fprintf(&b, "timezone = %q\n", p.Timezone)
		if len(p.Emails) > 0 {
			fmt.Fprintf(&b, "emails = %s\n", tomlList(p.Emails))
		}
		if len(p.Contacts) > 0 {
			var cs []string
			for _, c := range p.Contacts {
				cs = append(cs, fmt.Sprintf("{ type = %q, address = %q }", c.Type, c.Address))
			}
			fmt.Fprintf(&b, "contacts = [%s]\n", strings.Join(cs, ", "))
		}
		b.WriteString("\n")
	}
	for _, t := range r.Teams {
		fmt.Fprintf(&b, "# From %s.\n[[teams]]\nname = %q\nmembers = %s\n", t.From, t.Name, tomlList(t.Members))
		if len(t.Managers) > 0 {
			fmt.Fprintf(&b, "managers = %s\n", tomlList(t.Managers))
		}
		fmt.Fprintf(&b, "timezone = %q\n\n", t.Timezone)
	}
	for _, rot := range r.Rotations {
		b.WriteString(rot.TOML() + "\n")
	}
	for _, s := range r.Schedules {
		b.WriteString(s.TOML() + "\n")
	}
	for _, p := range r.Policies {
		fmt.Fprintf(&b, "# From %s.\n[[escalation_policies]]\nname = %q\n", p.From, p.Name)
		if p.Repeat > 0 {
			fmt.Fprintf(&b, "repeat = %d\n", p.Repeat)
		}
		for _, st := range p.Steps {
			fmt.Fprintf(&b, "  [[escalation_policies.steps]]\n  targets = %s\n  delay = %q\n", tomlList(st.Targets), st.Delay)
		}
		b.WriteString("\n")
	}
	for _, s := range r.Services {
		fmt.Fprintf(&b, "# From %s.\n[[services]]\nname = %q\n", s.From, s.Name)
		if s.Team != "" {
			fmt.Fprintf(&b, "team = %q\n", s.Team)
		}
		fmt.Fprintf(&b, "escalation_policy = %q\nintegration_keys = [{ env = %q }]\n", s.Policy, s.KeyEnv)
		if s.LowUrgency != nil {
			fmt.Fprintf(&b, "low_urgency = %s # PagerDuty's high urgency: every alert pages at any hour\n", tomlList(*s.LowUrgency))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Report is the findings grouped by object, objects in the order the
// import met them (people, teams, schedules, policies, services), so that
// what caused a later finding (a schedule left out, then the policy step
// that paged it) reads first.
func (r *Result) Report() string {
	var objects []string
	byObject := map[string][]Finding{}
	for _, f := range r.Findings {
		if _, ok := byObject[f.Object]; !ok {
			objects = append(objects, f.Object)
		}
		byObject[f.Object] = append(byObject[f.Object], f)
	}
	n := func(k int, one, many string) string {
		if k == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", k, many)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rotad import from %s: %s, %s, %s, %s, %s, %s; %s (what did not carry over as it was, and the nearest rota setting).\n",
		r.Source, n(len(r.People), "person", "people"), n(len(r.Teams), "team", "teams"), n(len(r.Rotations), "rotation", "rotations"),
		n(len(r.Schedules), "schedule", "schedules"), n(len(r.Policies), "escalation policy", "escalation policies"), n(len(r.Services), "service", "services"),
		n(len(r.Findings), "finding", "findings"))
	for _, o := range objects {
		fmt.Fprintf(&b, "\n%s:\n", o)
		for _, f := range byObject[o] {
			line := "  - " + f.Reason
			if f.Nearest != "" {
				line += "\n    nearest in rota: " + f.Nearest
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

package config

import (
	"strings"

	"github.com/rotahq/rota"
)

// managersReachable checks that burn notices can reach someone. Every team
// has a human SLO (a default one when none is written), so every team with
// managers will tell them when it burns its budget: a team whose managers
// have no contact method at all is an error, and one whose managers' only
// channels have no provider configured (their notices would be written to
// the log) is a warning. Teams without managers have their own warning.
func (v *validator) managersReachable(f *fileConfig, teams *named[rota.Team], people *named[rota.Person], cfg *Config) {
	// A section written but left off by an unset secret is already
	// warned about; say which it is.
	smtpNote, twilioNote := "email needs [smtp]", "sms and voice need [twilio]"
	if f.SMTP != nil {
		smtpNote += " with its password set"
	}
	if f.Twilio != nil {
		twilioNote += " with its credentials set"
	}
	for i, t := range teams.bySection {
		if t == nil {
			continue
		}
		var names []string
		contacts, delivers := 0, false
		var needSMTP, needTwilio bool
		for _, name := range t.Managers {
			p := people.get(name)
			if p == nil {
				continue // reported as an unknown person
			}
			names = append(names, name)
			for _, c := range p.Contacts {
				contacts++
				switch c.Type {
				case rota.ContactWebhook, rota.ContactSlack:
					delivers = true
				case rota.ContactEmail:
					delivers = delivers || cfg.SMTP != nil
					needSMTP = needSMTP || cfg.SMTP == nil
				case rota.ContactSMS, rota.ContactVoice:
					delivers = delivers || cfg.Twilio != nil
					needTwilio = needTwilio || cfg.Twilio == nil
				}
			}
		}
		switch {
		case len(names) == 0 || delivers:
		case contacts == 0:
			v.addf(at("teams", i, ""), "team %s has an SLO but none of its managers (%s) has a contact method: burn notices would reach nobody; give a manager an email, slack, webhook or sms contact",
				t.Name, listOf(names))
		case needSMTP || needTwilio:
			var need []string
			if needSMTP {
				need = append(need, smtpNote)
			}
			if needTwilio {
				need = append(need, twilioNote)
			}
			v.warnf(at("teams", i, ""), "team %s's managers are reached only through the log notifier (%s): burn notices will be written to rotad's log, not sent",
				t.Name, strings.Join(need, "; "))
		}
	}
}

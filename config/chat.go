package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/rotahq/rota"
)

// Slack is the Slack app rota pages through: its bot token calls Slack's
// Web API (chat.postMessage, chat.update, users.lookupByEmail,
// usergroups.users.update), its signing secret checks the button presses
// and slash commands Slack posts to rotad.
type Slack struct {
	BotToken      string
	SigningSecret string
	// APIURL replaces https://slack.com/api/, for a proxy or a test
	// server.
	APIURL string
}

type slackSection struct {
	BotToken      secretSection `toml:"bot_token"`
	SigningSecret secretSection `toml:"signing_secret"`
	APIURL        string        `toml:"api_url"`
}

type channelSection struct {
	Name string `toml:"name"`
	Type string `toml:"type"`
	// Channel is a Slack channel's id or #name, posted to by the app.
	Channel string `toml:"channel"`
	// URL is a webhook (a Teams Workflows webhook, a Slack incoming
	// webhook): a secret, so from the environment or a file.
	URL *secretSection `toml:"url"`
}

// slack resolves the Slack app. Unset secrets leave the app off with a
// warning, as Twilio's credentials do: Slack contacts then go by webhook
// or to the log.
func (v *validator) slack(s *slackSection, publicURL string) *Slack {
	token, okToken := v.optionalSecret("slack.bot_token", s.BotToken)
	secret, okSecret := v.optionalSecret("slack.signing_secret", s.SigningSecret)
	out := &Slack{BotToken: token, SigningSecret: secret, APIURL: s.APIURL}
	if s.APIURL != "" {
		if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.addf("slack.api_url", "%q is not an http or https URL", s.APIURL)
		} else if !strings.HasSuffix(out.APIURL, "/") {
			out.APIURL += "/"
		}
	}
	if !okToken || !okSecret {
		v.warnf("slack", "the Slack app's bot token or signing secret is not set: Slack messages go to the log until they are")
		return nil
	}
	if !strings.HasPrefix(token, "xoxb-") {
		v.addf("slack.bot_token", "the token from %s is not a bot token (xoxb-…)", sourceOf(s.BotToken))
	}
	if publicURL == "" {
		v.warnf("slack", "server.public_url is not set: Slack's buttons and /rota need it as the app's Request URL (%s/slack/interactions)", "https://rota.example.com")
	}
	return out
}

// chatChannels resolves [[channels]]: the Slack and Teams channels
// escalation steps, services and rotations name.
func (v *validator) chatChannels(cs []channelSection, slack *Slack) *named[rota.ChatChannel] {
	out := &named[rota.ChatChannel]{}
	for i, s := range cs {
		c := &rota.ChatChannel{Name: s.Name, Type: rota.Channel(s.Type)}
		if !add(v, out, "channels", i, s.Name, c) {
			continue
		}
		path := at("channels", i, "")
		switch c.Type {
		case rota.ContactSlack:
			switch {
			case s.Channel != "" && s.URL != nil:
				v.addf(path, "set channel (posted to by the Slack app) or url (an incoming webhook), not both")
			case s.Channel != "":
				if !slackChannel(s.Channel) {
					v.addf(at("channels", i, "channel"), "%q is not a Slack channel id (C0123ABCD) or #name", s.Channel)
				}
				if slack == nil {
					v.warnf(at("channels", i, "channel"), "there is no [slack] app: posts to %s go to the log", s.Name)
				}
				c.Address = s.Channel
			case s.URL != nil:
				c.Address = v.webhookURL(at("channels", i, "url"), *s.URL)
			default:
				v.required(path, "channel", ": the channel's id or #name (or url, an incoming webhook)")
			}
		case rota.ContactTeams:
			if s.Channel != "" {
				v.addf(at("channels", i, "channel"), "a Teams channel is reached by its Workflows webhook: set url, not channel")
			}
			if s.URL == nil {
				v.required(path, "url", ": the channel's Workflows webhook, { env = \"NAME\" } or { file = \"PATH\" }")
			} else {
				c.Address = v.webhookURL(at("channels", i, "url"), *s.URL)
			}
		case "":
			v.required(path, "type", ` ("slack" or "teams")`)
		default:
			v.addf(at("channels", i, "type"), "%q is not a chat channel type: use \"slack\" or \"teams\"", s.Type)
		}
	}
	return out
}

// webhookURL reads a webhook's URL, a secret; unset, the channel posts to
// the log, with a warning.
func (v *validator) webhookURL(path string, s secretSection) string {
	raw, ok := v.optionalSecret(path, s)
	if !ok {
		v.warnf(path, "the webhook URL is not set (%s): posts go to the log until it is", sourceOf(s))
		return ""
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.addf(path, "the URL from %s is not an http or https URL", sourceOf(s))
	}
	return raw
}

// slackChannel reports whether s names a Slack conversation: an id (C…,
// G…) or a #name.
func slackChannel(s string) bool {
	if name, ok := strings.CutPrefix(s, "#"); ok {
		return name != "" && !strings.ContainsAny(name, " \t,")
	}
	return slackID(s, "CG")
}

// slackID reports whether s looks like a Slack id starting with one of
// prefixes: capital letters and digits.
func slackID(s, prefixes string) bool {
	if len(s) < 5 || !strings.ContainsRune(prefixes, rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// slackContact checks a person's Slack contact: a Slack user id (U…, W…)
// or an email looked up in the workspace, DMed by the app; or an
// incoming webhook's URL.
func (v *validator) slackContact(path, addr string) {
	switch {
	case strings.HasPrefix(addr, "https://") || strings.HasPrefix(addr, "http://"):
		if u, err := url.Parse(addr); err != nil || u.Host == "" {
			v.addf(path, "%q is not an http or https URL", addr)
		}
	case strings.Contains(addr, "@"):
	case slackID(addr, "UW"):
	default:
		v.addf(path, "%q is not a Slack user id (U0123ABCD), an email to look up in the workspace, or an incoming webhook's URL", addr)
	}
}

// channelRefs checks names of chat channels.
func (v *validator) channelRefs(path string, names []string, channels *named[rota.ChatChannel]) {
	for j, n := range names {
		if channels.get(n) == nil {
			v.addf(fmt.Sprintf("%s[%d]", path, j), "unknown channel %q (declare it in [[channels]])", n)
		}
	}
}

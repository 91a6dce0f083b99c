package rota

import "strings"

// ChatChannel is a named place in a chat tool where rota posts: a Slack
// channel or a Microsoft Teams channel (through its Workflows webhook).
// An escalation step can post an incident to it ("channel:NAME"), a
// service can post every incident to it, and a rotation can announce its
// handoffs there.
type ChatChannel struct {
	Name string
	// Type is ContactSlack or ContactTeams.
	Type Channel
	// Address is where messages go: a Slack channel's id ("C0123ABCD")
	// or name ("#payments"), posted to by the Slack app; or a webhook URL
	// (a Slack incoming webhook, a Teams Workflows webhook), a secret.
	Address string
}

// Webhook reports whether the channel is reached through a webhook URL
// rather than the Slack app: it gets text and cards, not buttons.
func (c *ChatChannel) Webhook() bool {
	return strings.HasPrefix(c.Address, "https://") || strings.HasPrefix(c.Address, "http://")
}

// SetChatChannels indexes the chat channels of o; the config package
// calls it once, before o is shared.
func (o *Org) SetChatChannels(chs []*ChatChannel) {
	o.ChatChannels = chs
	o.chatChannels = index(chs, func(c *ChatChannel) string { return c.Name })
}

// ChatChannel returns the named chat channel, or nil.
func (o *Org) ChatChannel(name string) *ChatChannel { return o.chatChannels[name] }

// SlackUser returns the person whose Slack contact is the Slack user id,
// or nil.
func (o *Org) SlackUser(id string) *Person {
	for _, p := range o.People {
		for _, c := range p.Contacts {
			if c.Type == ContactSlack && c.Address == id {
				return p
			}
		}
	}
	return nil
}

// Identity returns the person a name, GitHub login or email names,
// compared case-insensitively, or nil.
func (o *Org) Identity(id string) *Person { return o.identities[strings.ToLower(id)] }

package slack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

// Action ids of the buttons on an incident's message; each button's
// value is the incident's id.
const (
	ActionAck      = "rota_ack"
	ActionEscalate = "rota_escalate"
	ActionResolve  = "rota_resolve"
)

// maxIncidents bounds the incidents one message lists in full (Slack
// allows 50 blocks a message).
const maxIncidents = 10

// Blocks renders a message in Block Kit: each incident with its buttons
// (those its state allows), why the person is paged, a shadow's note; a
// notice or an update as text.
func Blocks(m notify.Message) []slack.Block {
	text := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	if m.Kind == notify.KindNotice || len(m.Incidents) == 0 {
		return []slack.Block{slack.NewSectionBlock(text(escape(fallback(m))), nil, nil)}
	}
	var blocks []slack.Block
	if m.Kind == notify.KindUpdate && m.Update != nil {
		blocks = append(blocks, slack.NewSectionBlock(text("*"+escape(updateLine(m))+"*"), nil, nil))
	}
	if len(m.Incidents) > 1 {
		blocks = append(blocks, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, fmt.Sprintf("%d incidents for you", len(m.Incidents)), false, false)))
	}
	if m.Shadow {
		blocks = append(blocks, slack.NewContextBlock("", text("_Shadow copy, to learn from: only the on-call can answer it._")))
	}
	for i, inc := range m.Incidents {
		if i == maxIncidents {
			blocks = append(blocks, rest(m, m.Incidents[i:])...)
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(text(incidentLine(m, inc)), nil, nil))
		ctx := []slack.MixedElement{text(status(inc, m))}
		if m.Reason != "" && len(m.Incidents) == 1 {
			ctx = append(ctx, text("Why you: "+escape(m.Reason)))
		}
		blocks = append(blocks, slack.NewContextBlock("", ctx...))
		if m.Shadow || m.Kind == notify.KindUpdate {
			continue
		}
		if buttons := Buttons(inc); len(buttons) > 0 {
			blocks = append(blocks, slack.NewActionBlock(fmt.Sprintf("incident:%d", inc.ID), buttons...))
		}
	}
	return blocks
}

// rest lists the incidents of a bundle past the first maxIncidents, a
// line each, in sections of at most Slack's 3,000 characters: every
// incident is named, without buttons (Slack allows 50 blocks).
func rest(m notify.Message, incs []rota.Incident) []slack.Block {
	var blocks []slack.Block
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, b.String(), false, false), nil, nil))
			b.Reset()
		}
	}
	b.WriteString(fmt.Sprintf("*And %d more:*\n", len(incs)))
	for i, inc := range incs {
		line := "• " + incidentLine(m, inc) + "\n"
		if b.Len()+len(line) > 2900 {
			flush()
			if len(blocks) == 12 {
				blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
					fmt.Sprintf("…and %d more: see rota.", len(incs)-i), false, false)))
				return blocks
			}
		}
		b.WriteString(line)
	}
	flush()
	return blocks
}

// Buttons are the actions an incident's state allows: acknowledge while
// triggered, escalate and resolve while open; none once resolved.
func Buttons(inc rota.Incident) []slack.BlockElement {
	id := strconv.FormatInt(inc.ID, 10)
	button := func(action, label, style string) slack.BlockElement {
		b := slack.NewButtonBlockElement(action, id, slack.NewTextBlockObject(slack.PlainTextType, label, false, false))
		if style != "" {
			b.Style = slack.Style(style)
		}
		return b
	}
	switch inc.Status {
	case rota.StatusTriggered:
		return []slack.BlockElement{button(ActionAck, "Acknowledge", "primary"), button(ActionEscalate, "Escalate", ""), button(ActionResolve, "Resolve", "")}
	case rota.StatusAcknowledged:
		return []slack.BlockElement{button(ActionEscalate, "Escalate", ""), button(ActionResolve, "Resolve", "")}
	}
	return nil
}

// incidentLine is an incident's first line: severity, service, summary,
// its number linked to the web UI, and its further alerts.
func incidentLine(m notify.Message, inc rota.Incident) string {
	icon := map[string]string{rota.SeverityCritical: ":red_circle:", rota.SeverityWarning: ":large_orange_circle:"}[inc.Severity]
	if icon == "" {
		icon = ":white_circle:"
	}
	if inc.Status == rota.StatusResolved {
		icon = ":white_check_mark:"
	}
	num := fmt.Sprintf("#%d", inc.ID)
	if u := m.IncidentURL(inc.ID); u != "" {
		num = fmt.Sprintf("<%s|#%d>", u, inc.ID)
	}
	line := fmt.Sprintf("%s *%s* %s %s `%s`", icon, escape(inc.Service), escape(inc.Summary), num, escape(inc.Severity))
	if n := inc.AlertCount - 1; n > 0 {
		line += fmt.Sprintf(" (+%d %s)", n, plural(n, "alert", "alerts"))
	}
	return line
}

// status says where an incident stands.
func status(inc rota.Incident, m notify.Message) string {
	switch inc.Status {
	case rota.StatusAcknowledged:
		return fmt.Sprintf("Acknowledged by %s", escape(inc.AckedBy))
	case rota.StatusResolved:
		return fmt.Sprintf("Resolved by %s", escape(inc.ResolvedBy))
	}
	if m.Now.IsZero() || inc.CreatedAt.IsZero() {
		return "Triggered"
	}
	return fmt.Sprintf("Triggered <!date^%d^{time}|%s>", inc.CreatedAt.Unix(), inc.CreatedAt.UTC().Format("15:04 UTC"))
}

// escape makes text safe in Slack's mrkdwn: &, < and > are its control
// characters (a summary could otherwise @-mention a channel).
func escape(s string) string { return notify.EscapeMrkdwn(s) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

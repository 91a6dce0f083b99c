package paging

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rotahq/rota"
)

// maxText bounds a message's text: a few SMS segments at most.
const maxText = 320

// smsText writes an SMS: the first line names the service, summary and
// how to answer, within one 160-character segment where it can; a bundle
// lists each alert with its reply code.
//
// A page with a reason (a deploy's author) says it, with its link, after
// the first line: that one may take a second segment.
func smsText(alerts []rota.Incident, codes map[int64]int, reason string) string {
	if len(alerts) == 1 {
		a := alerts[0]
		code := codes[a.ID]
		tail := fmt.Sprintf("%s. Reply %da ack, %dc resolve", more(a), code, code)
		head := fmt.Sprintf("%s %s: ", a.Service, strings.ToUpper(a.Severity))
		room := 160 - len(head) - len(tail)
		first := head + truncateASCII(gsm(a.Summary), max(room, 20))
		if reason != "" {
			return truncateASCII(first+" - "+gsm(reason)+tail, maxText)
		}
		return first + tail
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d incidents. Reply aa to ack all. ", len(alerts))
	for i, a := range alerts {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s%s (%d)", a.Service, gsm(a.Summary), more(a), codes[a.ID])
	}
	return truncateASCII(b.String(), maxText)
}

// shadowText is a learner's copy: what the on-call sees, and that it is
// theirs to watch, not to answer.
func shadowText(alerts []rota.Incident) string {
	return truncateASCII("[shadow copy, no reply needed] "+gsm(text(alerts, "")), maxText)
}

// truncateASCII shortens s to n bytes with "..." (the ellipsis character is
// not in the GSM alphabet and would make the whole SMS UCS-2).
func truncateASCII(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// gsm replaces characters outside the GSM 7-bit alphabet that have a
// plain equivalent, so that a message is not sent as UCS-2 (70 characters
// a segment) for a dash or a curly quote.
func gsm(s string) string {
	return strings.NewReplacer("—", "-", "–", "-", "‘", "'", "’", "'", "“", `"`, "”", `"`, "…", "...", "\t", " ", "\n", " ").Replace(s)
}

// text writes the message for one alert (with why, when there is a
// reason) or a bundle.
func text(alerts []rota.Incident, reason string) string {
	if len(alerts) == 1 {
		a := alerts[0]
		if reason != "" {
			return truncate(fmt.Sprintf("%s: %s [%s] #%d%s - %s", a.Service, a.Summary, a.Severity, a.ID, more(a), reason), maxText)
		}
		return truncate(fmt.Sprintf("%s: %s [%s] #%d%s", a.Service, a.Summary, a.Severity, a.ID, more(a)), maxText)
	}
	services := map[string]bool{}
	for _, a := range alerts {
		services[a.Service] = true
	}
	var b strings.Builder
	if len(services) == 1 {
		fmt.Fprintf(&b, "%d incidents on %s: ", len(alerts), alerts[0].Service)
		for i, a := range alerts {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s #%d%s", a.Summary, a.ID, more(a))
		}
	} else {
		fmt.Fprintf(&b, "%d incidents: ", len(alerts))
		for i, a := range alerts {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s: %s #%d%s", a.Service, a.Summary, a.ID, more(a))
		}
	}
	return truncate(b.String(), maxText)
}

// more says how many alerts besides the first an incident holds: " +3
// alerts" ("" for one alone).
func more(a rota.Incident) string {
	switch n := a.AlertCount - 1; {
	case n <= 0:
		return ""
	case n == 1:
		return " +1 alert"
	default:
		return fmt.Sprintf(" +%d alerts", n)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

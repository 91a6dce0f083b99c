package paging

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rotahq/rota"
)

// maxText bounds a message's text: a few SMS segments at most.
const maxText = 320

// text writes the message for one alert or a bundle.
func text(alerts []rota.Alert) string {
	if len(alerts) == 1 {
		a := alerts[0]
		return truncate(fmt.Sprintf("%s: %s [%s] #%d", a.Service, a.Summary, a.Severity, a.ID), maxText)
	}
	services := map[string]bool{}
	for _, a := range alerts {
		services[a.Service] = true
	}
	var b strings.Builder
	if len(services) == 1 {
		fmt.Fprintf(&b, "%d alerts on %s: ", len(alerts), alerts[0].Service)
		for i, a := range alerts {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s #%d", a.Summary, a.ID)
		}
	} else {
		fmt.Fprintf(&b, "%d alerts: ", len(alerts))
		for i, a := range alerts {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s: %s #%d", a.Service, a.Summary, a.ID)
		}
	}
	return truncate(b.String(), maxText)
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

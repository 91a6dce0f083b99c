package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// Keys pressed during a page call.
const (
	KeyAck      = "4"
	KeyEscalate = "5"
	KeyResolve  = "6"
	// KeysPrompt says them.
	KeysPrompt = "Press 4 to acknowledge, 5 to escalate to the next step, 6 to resolve, or star to hear this again."
)

// Speech is what a call says, in sentences spoken one at a time; with
// Gather set, it waits for a key press and posts it there, else it hangs
// up after speaking. Providers that call (Twilio) render it.
type Speech struct {
	Sentences []string
	Gather    string
}

// Spoken makes a summary easier to speak: symbols read as words.
func Spoken(s string) string {
	return strings.NewReplacer("%", " percent", ">", " above ", "<", " below ", "_", " ", "-", " ", "/", " ", "#", "number ").Replace(s)
}

// ago says how long ago t was, in words.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < 2*time.Minute:
		return "1 minute ago"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 2*time.Hour:
		return "1 hour ago"
	}
	return fmt.Sprintf("%d hours ago", int(d.Hours()))
}

// CallScript is what a page call says: each incident, why the person is
// paged when it is not their turn, then the keys to press.
func CallScript(alerts []rota.Incident, now time.Time, reason string) []string {
	var sentences []string
	if len(alerts) == 1 {
		a := alerts[0]
		sentences = append(sentences, "This is rota, with a page for you.",
			fmt.Sprintf("Alert on %s, triggered %s.", Spoken(a.Service), ago(a.CreatedAt, now)),
			Spoken(a.Summary)+".")
		if a.AlertCount > 1 {
			sentences = append(sentences, fmt.Sprintf("And %d more alerts with it.", a.AlertCount-1))
		}
		if reason != "" {
			// Links are for reading, not hearing.
			if i := strings.Index(reason, ": http"); i > 0 {
				reason = reason[:i]
			}
			sentences = append(sentences, "You are paged because "+Spoken(reason)+".")
		}
	} else {
		sentences = append(sentences, fmt.Sprintf("This is rota, with %d incidents for you.", len(alerts)))
		for _, a := range alerts {
			s := fmt.Sprintf("On %s, %s: %s.", Spoken(a.Service), ago(a.CreatedAt, now), Spoken(a.Summary))
			if a.AlertCount > 1 {
				s += fmt.Sprintf(" And %d more alerts with it.", a.AlertCount-1)
			}
			sentences = append(sentences, s)
		}
	}
	return append(sentences, KeysPrompt)
}

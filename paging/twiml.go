package paging

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// TwiML documents, built with encoding/xml so that summaries are escaped.

type twimlResponse struct {
	XMLName  xml.Name `xml:"Response"`
	Elements []any
}

type twimlMessage struct {
	XMLName xml.Name `xml:"Message"`
	Body    string   `xml:",chardata"`
}

type twimlSay struct {
	XMLName  xml.Name `xml:"Say"`
	Voice    string   `xml:"voice,attr,omitempty"`
	Language string   `xml:"language,attr,omitempty"`
	Text     string   `xml:",chardata"`
}

type twimlPause struct {
	XMLName xml.Name `xml:"Pause"`
	Length  int      `xml:"length,attr"`
}

type twimlGather struct {
	XMLName   xml.Name `xml:"Gather"`
	NumDigits int      `xml:"numDigits,attr"`
	Action    string   `xml:"action,attr"`
	Method    string   `xml:"method,attr"`
	Timeout   int      `xml:"timeout,attr"`
	Elements  []any
}

type twimlHangup struct {
	XMLName xml.Name `xml:"Hangup"`
}

func render(elements ...any) []byte {
	b, err := xml.Marshal(twimlResponse{Elements: elements})
	if err != nil {
		// Only unmarshalable types fail, and these are ours.
		panic(err)
	}
	return append([]byte(xml.Header), b...)
}

// TwiMLMessage answers an inbound SMS with text, or with nothing when text
// is empty.
func TwiMLMessage(text string) []byte {
	if text == "" {
		return render()
	}
	return render(twimlMessage{Body: text})
}

// say speaks sentences one at a time with a pause between them, so that a
// person woken at night can follow.
func say(sentences ...string) []any {
	var out []any
	for i, s := range sentences {
		if i > 0 {
			out = append(out, twimlPause{Length: 1})
		}
		out = append(out, twimlSay{Voice: "Polly.Joanna", Language: "en-US", Text: s})
	}
	return out
}

// spoken makes a summary easier to speak: symbols read as words.
func spoken(s string) string {
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

// callScript is what a page call says: each alert, then the keys to press,
// gathered; repeated once if nothing is pressed, then goodbye.
func callScript(alerts []rota.Incident, now time.Time, action string, reason string) []byte {
	var sentences []string
	if len(alerts) == 1 {
		a := alerts[0]
		sentences = append(sentences, "This is rota, with a page for you.",
			fmt.Sprintf("Alert on %s, triggered %s.", spoken(a.Service), ago(a.CreatedAt, now)),
			spoken(a.Summary)+".")
		if a.AlertCount > 1 {
			sentences = append(sentences, fmt.Sprintf("And %d more alerts with it.", a.AlertCount-1))
		}
		if reason != "" {
			// Links are for reading, not hearing.
			if i := strings.Index(reason, ": http"); i > 0 {
				reason = reason[:i]
			}
			sentences = append(sentences, "You are paged because "+spoken(reason)+".")
		}
	} else {
		sentences = append(sentences, fmt.Sprintf("This is rota, with %d incidents for you.", len(alerts)))
		for _, a := range alerts {
			s := fmt.Sprintf("On %s, %s: %s.", spoken(a.Service), ago(a.CreatedAt, now), spoken(a.Summary))
			if a.AlertCount > 1 {
				s += fmt.Sprintf(" And %d more alerts with it.", a.AlertCount-1)
			}
			sentences = append(sentences, s)
		}
	}
	prompt := "Press 4 to acknowledge, 6 to resolve, or star to hear this again."
	gather := func() twimlGather {
		return twimlGather{NumDigits: 1, Action: action, Method: "POST", Timeout: 8, Elements: say(append(sentences, prompt)...)}
	}
	return render(gather(), gather(), twimlSay{Voice: "Polly.Joanna", Language: "en-US", Text: "Goodbye."}, twimlHangup{})
}

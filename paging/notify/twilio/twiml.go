package twilio

import (
	"encoding/xml"

	"github.com/rotahq/rota/paging/notify"
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

// Message answers an inbound SMS with text, or with nothing when text is
// empty.
func Message(text string) []byte {
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

// Call is a call's TwiML for speech: its sentences, gathering a key press
// for speech.Gather (twice, then goodbye) when set, else hanging up after
// them.
func Call(speech notify.Speech) []byte {
	if speech.Gather == "" {
		return render(append(say(speech.Sentences...), twimlHangup{})...)
	}
	gather := func() twimlGather {
		return twimlGather{NumDigits: 1, Action: speech.Gather, Method: "POST", Timeout: 8, Elements: say(speech.Sentences...)}
	}
	return render(gather(), gather(), twimlSay{Voice: "Polly.Joanna", Language: "en-US", Text: "Goodbye."}, twimlHangup{})
}

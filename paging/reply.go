package paging

import (
	"strconv"
	"strings"

	"github.com/rotahq/rota/paging/notify"
)

// Reply commands.
const (
	ReplyAck     = "ack"
	ReplyResolve = "resolve"
	// ReplyEscalate runs the incident's next escalation step at once.
	ReplyEscalate = "escalate"
	ReplyAckAll   = "ack-all"
	ReplyHelp     = "help"
	ReplyUnknown  = "unknown"
)

// Reply is what an SMS answer to a page asks for: acknowledge or resolve
// the alert with Code (0: the one that paged most recently), acknowledge
// every open alert paging the person, or help.
type Reply struct {
	Command string
	Code    int
}

// ParseReply reads an SMS reply. It accepts PagerDuty's digits ("4"
// acknowledges, "5" escalates, "6" resolves), words ("ack", "escalate",
// "resolve", "close"), GoAlert's codes ("12a", "12c", also "12e", "12 ack"
// and "12 resolve") and "aa" for all.
func ParseReply(body string) Reply {
	s := strings.ToLower(strings.Join(strings.Fields(body), " "))
	s = strings.TrimRight(s, ".!")
	switch s {
	case "4", "a", "ack", "acknowledge", "ok":
		return Reply{Command: ReplyAck}
	case "6", "c", "r", "res", "resolve", "close", "closed", "resolved":
		return Reply{Command: ReplyResolve}
	case "5", "e", "esc", "escalate":
		return Reply{Command: ReplyEscalate}
	case "aa", "ack all", "4 all", "acknowledge all":
		return Reply{Command: ReplyAckAll}
	case "help", "?", "h", "info":
		return Reply{Command: ReplyHelp}
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 4 {
		return Reply{Command: ReplyUnknown}
	}
	code, _ := strconv.Atoi(s[:i])
	switch strings.TrimSpace(s[i:]) {
	case "a", "ack", "acknowledge", "4":
		return Reply{Command: ReplyAck, Code: code}
	case "c", "r", "res", "resolve", "close", "6":
		return Reply{Command: ReplyResolve, Code: code}
	case "e", "esc", "escalate", "5":
		return Reply{Command: ReplyEscalate, Code: code}
	}
	return Reply{Command: ReplyUnknown}
}

// Key presses during a call (see notify.KeyAck and the others).
const (
	KeyAck      = notify.KeyAck
	KeyEscalate = notify.KeyEscalate
	KeyResolve  = notify.KeyResolve
	KeyRepeat   = "*"
)

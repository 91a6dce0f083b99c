package notify

import "strings"

// Text from outside (an alert's summary, a deploy's author) is escaped for
// where it is shown, so that it cannot steer the reader: in Slack's
// mrkdwn "<!channel>" pings a channel and "<https://x|Acknowledge>" is a
// link under text of the sender's choosing; in Teams' Markdown
// "[Acknowledge](https://x)" is one.

// EscapeMrkdwn makes s plain text in Slack's mrkdwn (and the chat tools
// that take Slack's incoming-webhook format): &, < and > are its control
// characters, and escaped they show as themselves.
func EscapeMrkdwn(s string) string {
	return mrkdwn.Replace(s)
}

var mrkdwn = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// EscapeMarkdown makes s plain text in the Markdown of Teams' cards (and
// CommonMark): the characters that open a link ([ ]), an HTML tag or
// autolink (< >), emphasis or code (* _ ` ~) are escaped with a
// backslash, and so is a line's leading marker of a heading or a list.
// What cannot change what the reader sees ("#12", "(3 min ago)") is left
// as it is.
func EscapeMarkdown(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = escapeMarkdownLine(line)
	}
	return strings.Join(lines, "\n")
}

func escapeMarkdownLine(line string) string {
	rest := strings.TrimLeft(line, " \t")
	var b strings.Builder
	b.WriteString(line[:len(line)-len(rest)])
	// A marker counts when a space (or the line's end) follows it.
	marker := func(n int) bool { return n < len(rest) && (n+1 == len(rest) || rest[n+1] == ' ' || rest[n+1] == '\t') }
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	switch {
	case rest == "":
	case strings.ContainsRune("#-+=", rune(rest[0])) && marker(0):
		// A heading, a list item, an underline.
		b.WriteByte('\\')
	case rest[0] == '#' && strings.HasPrefix(strings.TrimLeft(rest, "#"), " "):
		// "## heading"
		b.WriteByte('\\')
	case digits > 0 && digits < len(rest) && (rest[digits] == '.' || rest[digits] == ')') && marker(digits):
		// "1. " starts a numbered list.
		b.WriteString(rest[:digits])
		b.WriteByte('\\')
		b.WriteByte(rest[digits])
		rest = rest[digits+1:]
	}
	for _, r := range rest {
		if strings.ContainsRune("\\`*_[]<>~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

package notify

import "testing"

func TestEscapeMrkdwn(t *testing.T) {
	for in, want := range map[string]string{
		"<!channel> <https://evil.example|Acknowledge here>": "&lt;!channel&gt; &lt;https://evil.example|Acknowledge here&gt;",
		"<@U123> & <#C1>": "&lt;@U123&gt; &amp; &lt;#C1&gt;",
		"disk 95% full":   "disk 95% full",
		"&amp;":           "&amp;amp;",
	} {
		if got := EscapeMrkdwn(in); got != want {
			t.Errorf("EscapeMrkdwn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"[Acknowledge here](https://evil.example)":     `\[Acknowledge here\](https://evil.example)`,
		"**urgent** _now_ `rm -rf`":                    `\*\*urgent\*\* \_now\_ \` + "`" + `rm -rf\` + "`",
		"# big\n- item\n1. first\n  2) second\n## two": "\\# big\n\\- item\n1\\. first\n  2\\) second\n\\## two",
		"<img src=x onerror=alert(1)>":                 `\<img src=x onerror=alert(1)\>`,
		"disk 95% full on db-1.example (3 min ago)":    "disk 95% full on db-1.example (3 min ago)",
		"#12 escalated by service payments (key)":      "#12 escalated by service payments (key)",
		"2024-05-01 10:00 UTC":                         "2024-05-01 10:00 UTC",
		"![x](https://evil.example/pixel)":             `!\[x\](https://evil.example/pixel)`,
		"-":                                            `\-`,
		"":                                             "",
	} {
		if got := EscapeMarkdown(in); got != want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", in, got, want)
		}
	}
}

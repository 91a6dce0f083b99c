package paging_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
)

func TestParseReply(t *testing.T) {
	for in, want := range map[string]paging.Reply{
		"4": {Command: paging.ReplyAck}, " ACK ": {Command: paging.ReplyAck}, "ok.": {Command: paging.ReplyAck},
		"6": {Command: paging.ReplyResolve}, "Resolve": {Command: paging.ReplyResolve}, "close": {Command: paging.ReplyResolve},
		"aa": {Command: paging.ReplyAckAll}, "AA": {Command: paging.ReplyAckAll},
		"12a": {Command: paging.ReplyAck, Code: 12}, "12 ack": {Command: paging.ReplyAck, Code: 12}, "3c": {Command: paging.ReplyResolve, Code: 3},
		"3 resolve": {Command: paging.ReplyResolve, Code: 3}, "help": {Command: paging.ReplyHelp}, "?": {Command: paging.ReplyHelp},
		"12": {Command: paging.ReplyUnknown}, "12x": {Command: paging.ReplyUnknown}, "thanks": {Command: paging.ReplyUnknown},
		"": {Command: paging.ReplyUnknown}, "123456a": {Command: paging.ReplyUnknown},
		"5": {Command: paging.ReplyEscalate}, "escalate": {Command: paging.ReplyEscalate}, "12e": {Command: paging.ReplyEscalate, Code: 12},
		"3 esc": {Command: paging.ReplyEscalate, Code: 3},
	} {
		if got := paging.ParseReply(in); got != want {
			t.Errorf("ParseReply(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestSMSTextFitsOneSegment(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("database connection pool exhausted — ", 10)
	if _, err := h.engine.Trigger(context.Background(), rota.Event{Service: "batch", DedupKey: "k", Summary: long, Severity: "critical"}); err != nil {
		t.Fatal(err)
	}
	if err := h.engine.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.phone.mu.Lock()
	defer h.phone.mu.Unlock()
	if len(h.phone.sent) != 1 {
		t.Fatalf("%d messages", len(h.phone.sent))
	}
	text := h.phone.sent[0].Text
	if len(text) > 160 || !strings.HasPrefix(text, "batch CRITICAL: database connection pool exhausted - ") || !strings.HasSuffix(text, ". Reply 1a ack, 1c resolve") {
		t.Errorf("SMS of %d characters: %q", len(text), text)
	}
	for _, r := range text {
		if r > 127 {
			t.Errorf("non-GSM character %q in %q", r, text)
		}
	}
}

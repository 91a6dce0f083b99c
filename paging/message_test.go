package paging

import (
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging/notify"
)

// TestMessagesSayTheIncidentsAlerts: alerts that joined an incident are
// in its next message, as "+N alerts", on every channel.
func TestMessagesSayTheIncidentsAlerts(t *testing.T) {
	created := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	one := rota.Incident{ID: 7, Service: "api", Summary: "5xx above 2%", Severity: "critical", AlertCount: 1, CreatedAt: created}
	four := one
	four.AlertCount = 4
	for _, tt := range []struct {
		name, got, want string
	}{
		{"text, one alert", text([]rota.Incident{one}, ""), "api: 5xx above 2% [critical] #7"},
		{"text, four", text([]rota.Incident{four}, ""), "api: 5xx above 2% [critical] #7 +3 alerts"},
		{"sms, four", smsText([]rota.Incident{four}, map[int64]int{7: 2}, ""), "api CRITICAL: 5xx above 2% +3 alerts. Reply 2a ack, 2c resolve"},
		{"sms bundle", smsText([]rota.Incident{one, {ID: 8, Service: "web", Summary: "down", AlertCount: 2}}, map[int64]int{7: 1, 8: 2}, ""),
			"2 incidents. Reply aa to ack all. api: 5xx above 2% (1); web: down +1 alert (2)"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	call := strings.Join(notify.CallScript([]rota.Incident{four}, created.Add(3*time.Minute), ""), " ")
	if !strings.Contains(call, "And 3 more alerts with it.") {
		t.Errorf("call: %s", call)
	}
}

package paging_test

import (
	"reflect"
	"testing"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/paging"
)

// TestUpdatesTyped: an update says what was done, by whom and to whom, and
// its text reads back the same, as updates queued before they were typed
// (schema 27) are read.
func TestUpdatesTyped(t *testing.T) {
	for _, u := range []rota.Update{
		{Action: rota.ActionAcknowledge, By: "alice (sms)"},
		{Action: rota.ActionResolve, By: "service payments-api (key) from opsgenie"},
		{Action: rota.ActionEscalate, By: "chloe (web)", To: []string{"alice", "bruno"}},
		{Action: rota.ActionEscalate, To: []string{"dmitri"}},
		{Action: rota.ActionResolve},
	} {
		text := u.Text()
		if got := paging.LegacyUpdate(text); !reflect.DeepEqual(got, u) {
			t.Errorf("%q reads back as %+v, want %+v", text, got, u)
		}
	}
	if got := (rota.Update{Action: rota.ActionEscalate, By: "chloe (web)", To: []string{"alice", "bruno"}}).Text(); got != "escalated by chloe (web) to alice, bruno" {
		t.Errorf("text: %q", got)
	}
}

package api

import (
	"os"
	"reflect"
	"testing"

	"github.com/rotahq/rota"
)

// TestLabelsOfRecoversEveryIntakesLabels: for each intake, the labels read
// back from the details it stored are the labels it gave the event, so a
// replay groups recorded alerts as they were grouped.
func TestLabelsOfRecoversEveryIntakesLabels(t *testing.T) {
	var events []rota.Event
	for _, f := range []string{"testdata/alertmanager/webhook-v4.firing.json", "testdata/alertmanager/webhook-v4.resolved.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := decodeAlertmanager(b, "alertmanager", "4")
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, evs...)
	}
	grafana, err := decodeAlertmanager([]byte(`{"version":"1","groupKey":"g","status":"firing","receiver":"rota","title":"t",
		"alerts":[{"status":"firing","labels":{"alertname":"DiskFull","grafana_folder":"infra"},"annotations":{"summary":"disk"},"startsAt":"2026-03-04T22:00:00Z","fingerprint":"f1"}]}`), "grafana", "1")
	if err != nil {
		t.Fatal(err)
	}
	events = append(events, grafana...)
	for _, body := range []string{
		`{"summary":"s","severity":"critical","details":{"alertname":"Native","cluster":"eu-1","count":3,"nested":{"x":1}}}`,
		`{"summary":"no details","severity":"critical"}`,
	} {
		ev, err := decodeNative([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	for _, f := range []string{"testdata/alertmanager/pagerduty-v2.trigger.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, ev, problems, err := decodePagerDuty(b)
		if err != nil || len(problems) > 0 {
			t.Fatal(err, problems)
		}
		events = append(events, ev)
	}
	_, pd, problems, err := decodePagerDuty([]byte(`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"lb","severity":"error",
		"component":"db","group":"prod","class":"lag","custom_details":{"alertname":"PD","shard":7}}}`))
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	events = append(events, pd)
	og, err := decodeOpsgenie([]byte(`{"message":"m","alias":"a","priority":"P1","tags":["t"],"details":{"alertname":"OG","team":"db"},"entity":"e"}`))
	if err != nil {
		t.Fatal(err)
	}
	events = append(events, og)
	kinds := map[string]bool{}
	for _, ev := range events {
		kinds[ev.Integration] = true
		got := LabelsOf(ev.Integration, ev.Details)
		if len(got) == 0 && len(ev.Labels) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, ev.Labels) {
			t.Errorf("%s: labels %v read back as %v from %s", ev.Integration, ev.Labels, got, ev.Details)
		}
	}
	if len(kinds) != 5 {
		t.Errorf("intakes covered: %v", kinds)
	}
}

package api

import (
	"encoding/json"

	"github.com/rotahq/rota/policy"
)

// LabelsOf recovers, from the details an intake stored with an alert, the
// labels it gave the alert's event: what group_by reads. A replay
// (rotad export-alerts) reads alerts back through it, so that a
// configuration grouping by a label groups the recorded alerts as the
// intake did. TestLabelsOfRecoversEveryIntakesLabels keeps it true.
func LabelsOf(integration string, details json.RawMessage) map[string]string {
	var m map[string]any
	if json.Unmarshal(details, &m) != nil || len(m) == 0 {
		return nil
	}
	sub := func(key string) map[string]string {
		inner, _ := m[key].(map[string]any)
		return policy.LabelsOf(inner)
	}
	switch integration {
	case "alertmanager", "grafana":
		return sub("labels")
	case "opsgenie":
		return sub("details")
	case "pagerduty":
		out := sub("custom_details")
		for _, k := range []string{"component", "group", "class"} {
			if v, ok := m[k].(string); ok && v != "" {
				if out == nil {
					out = map[string]string{}
				}
				out[k] = v
			}
		}
		return out
	}
	return policy.LabelsOf(m)
}

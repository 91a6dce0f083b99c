package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// nativeAlert is the body of POST /api/v1/alerts.
type nativeAlert struct {
	Summary  string          `json:"summary"`
	Severity string          `json:"severity"`
	DedupKey string          `json:"dedup_key"`
	Source   string          `json:"source"`
	Details  json.RawMessage `json:"details"`
	Links    []rota.Link     `json:"links"`
	// GroupKey, when set, groups alerts into one incident as an
	// Alertmanager group key does.
	GroupKey string `json:"group_key"`
}

// decodeNative reads a native alert; a trigger without a dedup key gets a
// generated one.
func decodeNative(b []byte) (rota.Event, error) {
	var in nativeAlert
	if err := unmarshal(b, &in, true); err != nil {
		return rota.Event{}, err
	}
	ev := rota.Event{Action: rota.ActionTrigger, Summary: in.Summary, Severity: in.Severity, DedupKey: in.DedupKey,
		Source: in.Source, Links: in.Links, Integration: "native", GroupKey: in.GroupKey}
	if err := detailsObject("details", in.Details, &ev); err != nil {
		return rota.Event{}, err
	}
	if ev.DedupKey == "" {
		ev.DedupKey = newDedupKey()
	}
	return ev, ev.Validate()
}

// detailsObject keeps details when they are a JSON object (or absent).
func detailsObject(field string, raw json.RawMessage, ev *rota.Event) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return rota.FieldError(field, "must be a JSON object")
	}
	ev.Details = raw
	var labels map[string]any
	json.Unmarshal(raw, &labels)
	ev.Labels = policy.LabelsOf(labels)
	return nil
}

func newDedupKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

package rota

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0123ABCD/B0123ABCD/aBcDeFgHiJkLmNoPqRsTuVwX": "https://hooks.slack.com/services/…/…/…",
		"https://user:s3cret@example.com/hooks/rota?token=abc&x=1":                      "https://example.com/hooks/rota?token=…&x=…",
		"https://alerts.example.com/incoming/pager":                                     "https://alerts.example.com/incoming/pager",
		"http://127.0.0.1:9000/alice":                                                   "http://127.0.0.1:9000/alice",
		"::not a url":                                                                   "…",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

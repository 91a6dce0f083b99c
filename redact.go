package rota

import (
	"net/url"
	"strings"
	"unicode"
)

// RedactURL shows a contact's or provider's URL without its secrets: the
// scheme, host and path shape stay; a password, query values and path
// segments that look like tokens (long, with digits or mixed case, as in
// Slack's /services/T0/B0/XXXX) become "…". What does not parse as a URL
// is shown as "…".
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "…"
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"…"}
		}
		u.RawQuery = q.Encode()
	}
	segs := strings.Split(u.Path, "/")
	for i, seg := range segs {
		if secretLike(seg) {
			segs[i] = "…"
		}
	}
	u.Path, u.RawPath = strings.Join(segs, "/"), ""
	out := u.String()
	// url.URL escapes "…" in paths and queries; show it as written.
	return strings.NewReplacer("%E2%80%A6", "…").Replace(out)
}

// secretLike reports whether a path segment looks like a token rather than
// a word: eight characters or more with a digit, or with upper and lower
// case letters.
func secretLike(seg string) bool {
	if len(seg) < 8 {
		return false
	}
	var digit, upper, lower bool
	for _, r := range seg {
		switch {
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		}
	}
	return digit || upper && lower
}

// RedactIn replaces every occurrence of secret URL s in text with its
// redacted form.
func RedactIn(text, s string) string {
	if s == "" {
		return text
	}
	return strings.ReplaceAll(text, s, RedactURL(s))
}

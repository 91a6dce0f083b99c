package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/rotahq/rota"
)

// timeParam reads an RFC 3339 query parameter, or returns def when it is
// absent.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	return parseTime(name, v)
}

func parseTime(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, rota.FieldError(field, "%q is not an RFC 3339 time such as \"2026-03-10T09:00:00Z\" or \"2026-03-10T10:00:00+01:00\"", v)
	}
	return t, rota.CheckTime(field, t)
}

func idParam(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, rota.FieldError(name, "%q is not an id (a positive integer)", v)
	}
	return id, nil
}

// limitParam reads ?limit= (1 to 1000), or returns def.
func limitParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, rota.FieldError("limit", "must be a number from 1 to 1000")
	}
	return n, nil
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// statuses maps error codes to HTTP statuses: the one place a status is
// chosen for an error.
var statuses = map[string]int{
	rota.EINVALID:      http.StatusBadRequest,
	rota.EUNAUTHORIZED: http.StatusUnauthorized,
	rota.EFORBIDDEN:    http.StatusForbidden,
	rota.ENOTFOUND:     http.StatusNotFound,
	rota.ECONFLICT:     http.StatusConflict,
	rota.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	rota.ETOOMANY:      http.StatusTooManyRequests,
	rota.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	rota.EUNAVAILABLE:  http.StatusServiceUnavailable,
	rota.EINTERNAL:     http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err's code.
func StatusOf(err error) int {
	if st, ok := statuses[rota.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError sends err as {"error":{"code","message","field"}}. Internal
// errors are logged here, once, and shown only as "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	err = s.outage(r, err)
	code := rota.ErrorCode(err)
	if code == rota.EINTERNAL {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if code == rota.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="rota"`)
		s.authFailed(r, err)
	}
	if code == rota.EUNAVAILABLE {
		// Senders (Alertmanager, Grafana, PagerDuty clients) retry.
		w.Header().Set("Retry-After", "30")
	}
	writeJSON(w, StatusOf(err), errorBody{errorDetail{Code: code, Message: rota.ErrorMessage(err), Field: rota.ErrorField(err)}})
}

// outage turns an internal error into an unavailable one (503 with
// Retry-After: senders keep what they sent and try again) when it comes
// from the database being out of reach: the request's deadline passed, or
// the database does not answer a ping now. Nothing a request was refused
// for was kept.
func (s *Server) outage(r *http.Request, err error) error {
	if err == nil || rota.ErrorCode(err) != rota.EINTERNAL {
		return err
	}
	down := errors.Is(err, context.DeadlineExceeded)
	if !down && s.ping != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
		defer cancel()
		down = s.ping(ctx) != nil
	}
	if !down {
		return err
	}
	s.log.Warn("refused while the database does not answer", "method", r.Method, "path", r.URL.Path, "err", err)
	return rota.Errorf(rota.EUNAVAILABLE, "rota's database does not answer: try again later")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// maxBody bounds request bodies of the management API.
const maxBody = 64 << 10

// decodeJSON reads one JSON object from r's body into dst, rejecting
// unknown fields, trailing data, other media types and bodies over limit,
// each with an error that names the problem.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, limit int64) error {
	if err := jsonContent(r); err != nil {
		return err
	}
	b, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return unmarshal(b, dst, true)
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func jsonError(err error, limit int64) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return rota.Errorf(rota.ETOOLARGE, "the body is larger than %d bytes", limit)
	case errors.Is(err, io.EOF):
		return rota.Errorf(rota.EINVALID, "the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return rota.Errorf(rota.EINVALID, "the body is not valid JSON: it ends too soon")
	case errors.As(err, &syn):
		return rota.Errorf(rota.EINVALID, "the body is not valid JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return rota.Errorf(rota.EINVALID, "the body must be a JSON object, not %s", typ.Value)
		}
		return rota.FieldError(typ.Field, "must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &rota.Error{Code: rota.EINVALID, Field: field, Message: fmt.Sprintf("unknown field %q", field)}
	}
	return rota.Errorf(rota.EINVALID, "the body is not valid JSON: %v", err)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

// jsonMuxErrors rewrites the plain-text 404 and 405 answers of ServeMux
// (no route, or a route without that method) into the API's JSON form.
// Handlers' own errors are JSON already and pass through.
func jsonMuxErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&muxErrorWriter{ResponseWriter: w, method: r.Method, path: r.URL.Path}, r)
	})
}

type muxErrorWriter struct {
	http.ResponseWriter
	method, path string
	swallow      bool
}

func (m *muxErrorWriter) WriteHeader(status int) {
	if !strings.HasPrefix(m.Header().Get("Content-Type"), "text/plain") {
		m.ResponseWriter.WriteHeader(status)
		return
	}
	var e errorDetail
	switch status {
	case http.StatusNotFound:
		e = errorDetail{Code: rota.ENOTFOUND, Message: fmt.Sprintf("no such endpoint: %s %s", m.method, m.path)}
	case http.StatusMethodNotAllowed:
		e = errorDetail{Code: "method_not_allowed", Message: fmt.Sprintf("%s is not allowed on %s (allowed: %s)", m.method, m.path, m.Header().Get("Allow"))}
	default:
		m.ResponseWriter.WriteHeader(status)
		return
	}
	m.swallow = true
	writeJSON(m.ResponseWriter, status, errorBody{e})
}

func (m *muxErrorWriter) Write(b []byte) (int, error) {
	if m.swallow {
		return len(b), nil
	}
	return m.ResponseWriter.Write(b)
}

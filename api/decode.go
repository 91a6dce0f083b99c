package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/rotahq/rota"
)

// readBody reads at most limit bytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if asMaxBytes(err, &tooBig) {
			return nil, rota.Errorf(rota.ETOOLARGE, "the body is larger than %d bytes", limit)
		}
		return nil, rota.Errorf(rota.EINVALID, "cannot read the body: %v", err)
	}
	// encoding/json would replace invalid bytes silently: refuse them.
	if !utf8.Valid(b) {
		return nil, rota.Errorf(rota.EINVALID, "the body is not valid UTF-8")
	}
	return b, nil
}

func asMaxBytes(err error, target **http.MaxBytesError) bool {
	e, ok := err.(*http.MaxBytesError)
	if ok {
		*target = e
	}
	return ok
}

// unmarshal decodes one JSON value from b into dst; strict rejects unknown
// fields. Errors name the problem as decodeJSON's do.
func unmarshal(b []byte, dst any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, int64(len(b)))
	}
	if dec.More() {
		return rota.Errorf(rota.EINVALID, "the body has data after its JSON object")
	}
	return nil
}

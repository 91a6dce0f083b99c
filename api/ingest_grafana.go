package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/rotahq/rota"
)

// grafanaSkew bounds the age of a signed Grafana request when the
// signature includes a timestamp, against replays.
const grafanaSkew = 5 * time.Minute

// verifyGrafana checks a Grafana webhook's HMAC when the service has a
// secret: hex HMAC-SHA256 of the body, or of "timestamp:body" when a
// timestamp header is configured.
func verifyGrafana(r *http.Request, sig rota.WebhookSignature, body []byte, now time.Time) error {
	if sig.Secret == "" {
		return nil
	}
	got := r.Header.Get(sig.Header)
	if got == "" {
		return rota.Errorf(rota.EUNAUTHORIZED, "missing %s header: this service requires signed requests", sig.Header)
	}
	mac := hmac.New(sha256.New, []byte(sig.Secret))
	if sig.TimestampHeader != "" {
		ts := r.Header.Get(sig.TimestampHeader)
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return rota.Errorf(rota.EUNAUTHORIZED, "missing or invalid %s header", sig.TimestampHeader)
		}
		if d := now.Sub(time.Unix(sec, 0)); d > grafanaSkew || d < -grafanaSkew {
			return rota.Errorf(rota.EUNAUTHORIZED, "the signature's timestamp is more than %s from now", grafanaSkew)
		}
		mac.Write([]byte(ts + ":"))
	}
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(got)) {
		return rota.Errorf(rota.EUNAUTHORIZED, "the %s signature does not match the body", sig.Header)
	}
	return nil
}

func (s *Server) decodeGrafanaRequest(r *http.Request, svc *rota.Service, b []byte) ([]rota.Event, error) {
	if err := verifyGrafana(r, svc.Grafana, b, s.now()); err != nil {
		return nil, err
	}
	return decodeAlertmanager(b, "grafana", "1")
}

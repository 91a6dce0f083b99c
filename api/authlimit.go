package api

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rotahq/rota"
)

// Failed authentication (a token, an integration key, a session, a
// signature that does not check out) is counted per client address in a
// bucket: authBurst failures at once, then authRefill a second. A client
// whose bucket is empty is answered 429 with Retry-After for anything that
// carries a credential, before the credential is looked at, so that
// guessing tokens goes no faster than the refill. Failures are logged at
// WARN, at most one line per address every authLogEvery, with the count
// since the last. Behind a reverse proxy every client shares the proxy's
// address (OPERATIONS.md).

const (
	authBurst    = 20
	authRefill   = 1.0 // failures a second
	authLogEvery = 10 * time.Second
	// authClients bounds the addresses remembered; idle ones go first.
	authClients = 10000
)

type authBucket struct {
	tokens float64
	at     time.Time // of the last refill
	logged time.Time
	since  int // failures not yet in a log line
}

type authLimiter struct {
	mu      sync.Mutex
	clients map[string]*authBucket
	pruned  time.Time
}

// bucket returns addr's bucket, refilled to now.
func (l *authLimiter) bucket(addr string, now time.Time) *authBucket {
	if l.clients == nil {
		l.clients = map[string]*authBucket{}
	}
	b := l.clients[addr]
	if b == nil {
		if len(l.clients) >= authClients {
			// Full: forget those whose allowance refilled (at most once
			// a minute: it reads them all), else any one.
			if now.Sub(l.pruned) >= time.Minute {
				l.prune(now)
				l.pruned = now
			}
			for k := range l.clients {
				if len(l.clients) < authClients {
					break
				}
				delete(l.clients, k)
			}
		}
		b = &authBucket{tokens: authBurst, at: now}
		l.clients[addr] = b
	}
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = math.Min(authBurst, b.tokens+d*authRefill)
		b.at = now
	}
	return b
}

// prune forgets the addresses whose buckets are full again.
func (l *authLimiter) prune(now time.Time) {
	for addr, b := range l.clients {
		if b.tokens+now.Sub(b.at).Seconds()*authRefill >= authBurst {
			delete(l.clients, addr)
		}
	}
}

// clientAddr is the address a request came from.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// carriesCredential reports whether r presents something to authenticate
// with: a failure then says the credential was wrong, not missing.
func carriesCredential(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" || r.URL.Query().Get("key") != "" || r.URL.Query().Get("token") != "" {
		return true
	}
	if _, err := r.Cookie(sessionCookie); err == nil {
		return true
	}
	for h := range r.Header {
		if strings.HasSuffix(strings.ToLower(h), "signature") || strings.HasSuffix(strings.ToLower(h), "signature-256") {
			return true
		}
	}
	return false
}

// limitAuth answers 429 to a client that failed to authenticate too often,
// for any request of it that carries a credential, before the credential
// is looked at. Only failures take from the allowance: a client that sends
// many good requests at once (a proxy, Alertmanager) is never held back by
// them. Requests sent side by side when one allowance is left may each be
// tried: guessing is bounded by the client's connections, and a token has
// 128 bits or more.
func (s *Server) limitAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !carriesCredential(r) {
			h.ServeHTTP(w, r)
			return
		}
		addr := clientAddr(r)
		s.authLimit.mu.Lock()
		b := s.authLimit.bucket(addr, s.now())
		wait := time.Duration(0)
		if b.tokens < 1 {
			wait = time.Duration((1 - b.tokens) / authRefill * float64(time.Second))
		}
		s.authLimit.mu.Unlock()
		if wait > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
			writeJSON(w, http.StatusTooManyRequests, errorBody{errorDetail{Code: rota.ETOOMANY,
				Message: fmt.Sprintf("too many failed authentications from %s: try again in %s", addr, wait.Round(time.Second))}})
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authFailedKey{}, new(atomic.Bool))))
	})
}

type authFailedKey struct{}

// authFailed counts r's failed credential against its client's allowance,
// once a request, and logs it, at most a line per client every
// authLogEvery.
func (s *Server) authFailed(r *http.Request, err error) {
	failed, _ := r.Context().Value(authFailedKey{}).(*atomic.Bool)
	if failed == nil || failed.Swap(true) {
		return // carried no credential, or counted already
	}
	now := s.now()
	addr := clientAddr(r)
	s.authLimit.mu.Lock()
	b := s.authLimit.bucket(addr, now)
	b.tokens = math.Max(0, b.tokens-1)
	b.since++
	n, log := b.since, now.Sub(b.logged) >= authLogEvery
	if log {
		b.logged, b.since = now, 0
	}
	s.authLimit.mu.Unlock()
	if log {
		s.log.Warn("authentication failed", "remote", addr, "method", r.Method, "path", r.URL.Path, "reason", rota.ErrorMessage(err), "failures", n)
	}
}

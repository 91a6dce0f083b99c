package api

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/rotahq/rota"
)

// keyIndex finds a service by integration key. Keys are indexed by their
// SHA-256 so that the lookup does not compare secrets byte by byte.
type keyIndex struct {
	org  *rota.Org
	keys map[[32]byte]keyed
}

// keyed is a service and which of its keys (the key's source, env:NAME
// or file:PATH: never the key) a request sent.
type keyed struct {
	svc    *rota.Service
	source string
}

func newKeyIndex(org *rota.Org) *keyIndex {
	k := &keyIndex{org: org, keys: map[[32]byte]keyed{}}
	for _, svc := range org.Services {
		for _, key := range svc.IntegrationKeys {
			k.keys[sha256.Sum256([]byte(key.Value))] = keyed{svc, key.Source}
		}
	}
	return k
}

// keys caches the index for the current organisation.
type keys struct{ cur atomic.Pointer[keyIndex] }

// lookup returns the service key is an integration key of, and the key's
// source; a nil service when it is none.
func (k *keys) lookup(org *rota.Org, key string) (*rota.Service, string) {
	idx := k.cur.Load()
	if idx == nil || idx.org != org {
		idx = newKeyIndex(org)
		k.cur.Store(idx)
	}
	e := idx.keys[sha256.Sum256([]byte(key))]
	return e.svc, e.source
}

// requestKey returns the integration key of a request: a bearer token, or
// the key query parameter for senders that cannot set headers.
func requestKey(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if scheme, token, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
	}
	return r.URL.Query().Get("key")
}

// service authenticates an ingestion request by its integration key, and
// returns the key's source too (env:NAME or file:PATH).
func (s *Server) service(r *http.Request, key string) (*rota.Service, string, error) {
	if key == "" {
		return nil, "", rota.Errorf(rota.EUNAUTHORIZED, "send the service's integration key as \"Authorization: Bearer KEY\" or ?key=KEY")
	}
	svc, source := s.keys.lookup(s.book.Roster().Org(), key)
	if svc == nil {
		return nil, "", rota.Errorf(rota.EUNAUTHORIZED, "unknown integration key")
	}
	return svc, source, nil
}

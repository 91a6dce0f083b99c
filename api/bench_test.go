package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rotahq/rota/api"
	"github.com/rotahq/rota/config"
	"github.com/rotahq/rota/scheduler"
	"github.com/rotahq/rota/store"
)

// benchServer serves n rotations of five people each.
func benchServer(b *testing.B, n int, now func() time.Time) *api.Server {
	var cfg strings.Builder
	for t := 0; t < (n+9)/10; t++ {
		var members []string
		for p := 0; p < 5; p++ {
			members = append(members, fmt.Sprintf("%q", fmt.Sprintf("p%d-%d", t, p)))
			fmt.Fprintf(&cfg, "[[people]]\nname = \"p%d-%d\"\ntimezone = \"Europe/Berlin\"\n", t, p)
		}
		fmt.Fprintf(&cfg, "[[teams]]\nname = \"t%d\"\nmembers = [%s]\ntimezone = \"Europe/Berlin\"\n", t, strings.Join(members, ","))
	}
	for r := 0; r < n; r++ {
		t := r / 10
		fmt.Fprintf(&cfg, "[[rotations]]\nname = \"r%d\"\nteam = \"t%d\"\nmembers = [\"p%d-0\",\"p%d-1\",\"p%d-2\",\"p%d-3\",\"p%d-4\"]\nstart = 2026-01-06\n", r, t, t, t, t, t, t)
	}
	c, err := config.Parse("bench.toml", []byte(cfg.String()), b.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "rota.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return api.New(api.Options{Book: scheduler.NewBook(scheduler.NewRoster(c.Org, nil)), Overrides: db, Ping: db.Ping, Now: now})
}

// BenchmarkOnCall200Rotations measures the handler alone, without the
// network: the whole GET /api/v1/oncall answer for 200 rotations.
func BenchmarkOnCall200Rotations(b *testing.B) {
	start := time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)
	i := 0
	srv := benchServer(b, 200, func() time.Time { i++; return start.Add(time.Duration(i) * time.Millisecond) })
	req := httptest.NewRequest("GET", "/api/v1/oncall", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkOnCall200RotationsUncached asks about instants a week apart, so
// every answer is computed afresh: the cost when shifts change.
func BenchmarkOnCall200RotationsUncached(b *testing.B) {
	srv := benchServer(b, 200, time.Now)
	var reqs []*http.Request
	for w := 0; w < 52; w++ {
		at := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC).Add(time.Duration(w) * 7 * 24 * time.Hour)
		reqs = append(reqs, httptest.NewRequest("GET", "/api/v1/oncall?at="+at.Format(time.RFC3339), nil))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, reqs[n%len(reqs)])
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckpointsBesideTheWriter: commits wake the checkpointer, which
// copies the write-ahead log into the database file while the committer
// goes on writing (the writer's own threshold is far above what this
// writes).
func TestCheckpointsBesideTheWriter(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rota.db")
	db := open(t, path)
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before := size()
	blob := strings.Repeat("x", 4000)
	for i := range 300 {
		err := db.tx(ctx, func(w wtx, _ time.Time) error {
			return w.later("INSERT INTO done_once (key, at_ms) VALUES (?, ?)", blob+string(rune('a'+i%26))+strings.Repeat("y", i), i)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 300 commits of a page or more each: far below walFallback, so only
	// the checkpointer moves them into the file.
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+1<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes after 1.2 MB of commits (was %d): nothing was checkpointed", size(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

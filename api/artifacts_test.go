package api_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// artifactsEnv names the directory the tests' screenshots go to (a
// relative path is taken from the package's directory, where go test
// runs). Unset, they go to a directory made for the run under the
// system's temporary directory: a test never writes into the source tree.
const artifactsEnv = "ROTA_TEST_ARTIFACTS"

// artifactsDir is the run's directory for screenshots, made once. It is
// kept after the run, so that the paths the tests log can be opened.
var artifactsDir = sync.OnceValues(func() (string, error) {
	if dir := os.Getenv(artifactsEnv); dir != "" {
		return dir, os.MkdirAll(dir, 0o755)
	}
	return os.MkdirTemp("", "rota-test-artifacts-")
})

// artifactPath is where the artifact named name goes.
func artifactPath(t testing.TB, name string) string {
	t.Helper()
	dir, err := artifactsDir()
	if err != nil {
		t.Fatalf("a directory for the screenshots (%s): %v", artifactsEnv, err)
	}
	return filepath.Join(dir, name)
}

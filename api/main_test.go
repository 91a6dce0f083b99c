package api_test

import (
	"os"
	"testing"

	"github.com/rotahq/rota/store/storetest"
)

// TestMain stops the PostgreSQL cluster the tests started, if they ran on
// PostgreSQL (ROTA_TEST_STORE=postgres).
func TestMain(m *testing.M) { os.Exit(storetest.Run(m)) }

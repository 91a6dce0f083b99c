package main

import (
	"os"
	"testing"

	"github.com/rotahq/rota/clocktest"
	"github.com/rotahq/rota/store/storetest"
)

// TestMain runs the commands called in-process on the run's clock (see
// package clocktest), and stops the PostgreSQL cluster the tests started,
// if any.
func TestMain(m *testing.M) {
	clockOffset = clocktest.Offset()
	os.Exit(storetest.Run(m))
}

package main

import (
	"os"
	"testing"

	"github.com/rotahq/rota/store/storetest"
)

// TestMain stops the PostgreSQL cluster the tests started, if any.
func TestMain(m *testing.M) { os.Exit(storetest.Run(m)) }

package paging

import (
	"context"

	"github.com/rotahq/rota"
)

// DecideBurns exposes decideBurns to the benchmarks of package paging_test.
func (e *Engine) DecideBurns(ctx context.Context, it rota.AccountItem) ([]rota.BurnNotice, error) {
	return e.decideBurns(ctx, it, e.newFacts([]rota.AccountItem{it}))
}

// LegacyUpdate exposes legacyUpdate to the tests of package paging_test.
var LegacyUpdate = legacyUpdate

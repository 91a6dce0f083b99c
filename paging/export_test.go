package paging

import (
	"context"

	"github.com/rotahq/rota"
)

// Account exposes account to the benchmarks of package paging_test.
func (e *Engine) Account(ctx context.Context, page rota.Page) { e.account(ctx, page) }

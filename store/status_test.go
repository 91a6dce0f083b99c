package store

import (
	"context"
	"time"

	"github.com/rotahq/rota"
	"github.com/rotahq/rota/policy"
)

// setStatus acknowledges, resolves or escalates incident id as the engine
// does: policy decides, the store applies.
func (db *DB) setStatus(ctx context.Context, id int64, action rota.Action, actor string) (rota.Incident, error) {
	return db.ChangeStatus(ctx, id, func(a rota.Incident, now time.Time) (rota.StatusChange, error) {
		return policy.ChangeStatus(a, action, actor, now)
	})
}

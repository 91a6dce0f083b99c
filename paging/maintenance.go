package paging

import (
	"context"
	"time"

	"github.com/rotahq/rota"
)

// MaintenanceStore keeps ad hoc maintenance windows.
type MaintenanceStore interface {
	// StartMaintenance stores a window (one starting in the past starts
	// now).
	StartMaintenance(ctx context.Context, m *rota.Maintenance) error
	// EndMaintenance ends one now (cancels one not begun): what waited
	// for its end is due now.
	EndMaintenance(ctx context.Context, id int64) (rota.Maintenance, error)
	// ActiveMaintenance is each service's windows holding now or later.
	ActiveMaintenance(ctx context.Context, now time.Time) (map[string][]rota.Maintenance, error)
}

// StartMaintenance puts a service in maintenance for m's window: its
// alerts then page nobody, its open incidents stop escalating, and what
// still fires at the end pages as usual.
func (e *Engine) StartMaintenance(ctx context.Context, m *rota.Maintenance) error {
	if e.book.Roster().Org().Service(m.Service) == nil {
		return rota.Errorf(rota.ENOTFOUND, "no service named %q", m.Service)
	}
	if err := e.store.StartMaintenance(ctx, m); err != nil {
		return err
	}
	e.log.Info("maintenance window set", "id", m.ID, "service", m.Service, "start", m.Start, "end", m.End, "reason", m.Reason, "by", m.CreatedBy)
	e.Wake()
	return nil
}

// EndMaintenance ends window id now.
func (e *Engine) EndMaintenance(ctx context.Context, id int64) (rota.Maintenance, error) {
	m, err := e.store.EndMaintenance(ctx, id)
	if err != nil {
		return m, err
	}
	e.log.Info("maintenance window ended", "id", m.ID, "service", m.Service)
	e.Wake()
	return m, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

const swapColumns = `id, rotation, proposer, proposer_start_ms, proposer_end_ms, partner, partner_start_ms, partner_end_ms,
	reason, status, created_ms, decided_ms, decided_by`

// ProposeSwap stores a proposed swap, setting its ID, status and time.
func (db *DB) ProposeSwap(ctx context.Context, s *rota.SwapRequest) error {
	return db.tx(ctx, func(tx wtx, now time.Time) error {
		id, err := tx.insert(`INSERT INTO swap_requests (rotation, proposer, proposer_start_ms, proposer_end_ms, partner, partner_start_ms, partner_end_ms, reason, status, created_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.Rotation, s.Proposer, s.ProposerShift.Start.UnixMilli(), s.ProposerShift.End.UnixMilli(),
			s.Partner, s.PartnerShift.Start.UnixMilli(), s.PartnerShift.End.UnixMilli(), s.Reason, rota.SwapProposed, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("propose swap: %w", err)
		}
		s.ID = id
		s.Status, s.CreatedAt = rota.SwapProposed, fromMillis(now.UnixMilli())
		return nil
	})
}

// SwapRequest returns swap id, or an ENOTFOUND error.
func (db *DB) SwapRequest(ctx context.Context, id int64) (rota.SwapRequest, error) {
	s, err := scanSwap(db.queryRow(ctx, "SELECT "+swapColumns+" FROM swap_requests WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return rota.SwapRequest{}, rota.Errorf(rota.ENOTFOUND, "swap %d not found", id)
	}
	if err != nil {
		return rota.SwapRequest{}, fmt.Errorf("read swap: %w", err)
	}
	return s, nil
}

// SwapRequests lists the swaps person proposed or was asked for
// (everyone's when person is empty), newest first, at most limit.
func (db *DB) SwapRequests(ctx context.Context, person string, limit int) ([]rota.SwapRequest, error) {
	rows, err := db.query(ctx, "SELECT "+swapColumns+" FROM swap_requests WHERE ? = '' OR proposer = ? OR partner = ? ORDER BY id DESC LIMIT ?",
		person, person, person, limit)
	if err != nil {
		return nil, fmt.Errorf("list swaps: %w", err)
	}
	defer rows.Close()
	var out []rota.SwapRequest
	for rows.Next() {
		s, err := scanSwap(rows)
		if err != nil {
			return nil, fmt.Errorf("list swaps: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// DecideSwap moves a proposed swap to status (accepted, declined or
// cancelled), recording who decided. Accepting stores overrides in the
// same transaction: the swap is accepted and its overrides exist, or
// neither. A swap already decided is an ECONFLICT error.
func (db *DB) DecideSwap(ctx context.Context, id int64, status rota.SwapStatus, by string, overrides []*rota.Override) (rota.SwapRequest, error) {
	for _, o := range overrides {
		if err := o.Validate(); err != nil {
			return rota.SwapRequest{}, err
		}
	}
	var s rota.SwapRequest
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		if err := tx.lock(fmt.Sprintf("swap:%d", id)); err != nil {
			return err
		}
		var err error
		s, err = scanSwap(tx.queryRow("SELECT "+swapColumns+" FROM swap_requests WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return rota.Errorf(rota.ENOTFOUND, "swap %d not found", id)
		}
		if err != nil {
			return err
		}
		if s.Status != rota.SwapProposed {
			return rota.Errorf(rota.ECONFLICT, "swap %d is already %s", id, s.Status)
		}
		if _, err := tx.exec("UPDATE swap_requests SET status = ?, decided_ms = ?, decided_by = ? WHERE id = ?", status, now.UnixMilli(), by, id); err != nil {
			return err
		}
		d := fromMillis(now.UnixMilli())
		s.Status, s.DecidedAt, s.DecidedBy = status, &d, by
		return insertOverrides(tx, now, overrides)
	})
	if err != nil {
		return rota.SwapRequest{}, fmt.Errorf("decide swap: %w", err)
	}
	return s, nil
}

func scanSwap(sc scanner) (rota.SwapRequest, error) {
	var s rota.SwapRequest
	var ps, pe, qs, qe, created int64
	var decided sql.NullInt64
	if err := sc.Scan(&s.ID, &s.Rotation, &s.Proposer, &ps, &pe, &s.Partner, &qs, &qe, &s.Reason, &s.Status, &created, &decided, &s.DecidedBy); err != nil {
		return rota.SwapRequest{}, err
	}
	s.ProposerShift = rota.Shift{Rotation: s.Rotation, Person: s.Proposer, Start: fromMillis(ps), End: fromMillis(pe)}
	s.PartnerShift = rota.Shift{Rotation: s.Rotation, Person: s.Partner, Start: fromMillis(qs), End: fromMillis(qe)}
	s.CreatedAt, s.DecidedAt = fromMillis(created), optMillis(decided)
	return s, nil
}

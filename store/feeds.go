package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/rotahq/rota"
)

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// IssueFeedToken creates the token of a person's or rotation's calendar,
// or of a team's report, revoking the one it had, and returns it: the only
// time it is shown.
func (db *DB) IssueFeedToken(ctx context.Context, kind, name string) (string, error) {
	if kind != "person" && kind != "rotation" && kind != "team" {
		return "", rota.FieldError("kind", "must be person, rotation or team, not %q", kind)
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		if err := tx.lock("feed:" + kind + ":" + name); err != nil {
			return err
		}
		if _, err := tx.exec("UPDATE feed_tokens SET revoked_ms = ? WHERE kind = ? AND name = ? AND revoked_ms IS NULL", now.UnixMilli(), kind, name); err != nil {
			return err
		}
		_, err := tx.exec("INSERT INTO feed_tokens (kind, name, hash, created_ms) VALUES (?, ?, ?, ?)", kind, name, tokenHash(token), now.UnixMilli())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("issue feed token: %w", err)
	}
	return token, nil
}

// RevokeFeedToken revokes the calendar token of a person or rotation; an
// ENOTFOUND error when there is none.
func (db *DB) RevokeFeedToken(ctx context.Context, kind, name string) error {
	return db.tx(ctx, func(tx wtx, now time.Time) error {
		res, err := tx.exec("UPDATE feed_tokens SET revoked_ms = ? WHERE kind = ? AND name = ? AND revoked_ms IS NULL", now.UnixMilli(), kind, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rota.Errorf(rota.ENOTFOUND, "%s %s has no calendar token", kind, name)
		}
		return nil
	})
}

// HasFeedToken reports whether the person or rotation has an active token.
func (db *DB) HasFeedToken(ctx context.Context, kind, name string) (bool, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM feed_tokens WHERE kind = ? AND name = ? AND revoked_ms IS NULL", kind, name).Scan(&n)
	return n > 0, err
}

// CheckFeedToken reports whether token is the active token of the person
// or rotation.
func (db *DB) CheckFeedToken(ctx context.Context, kind, name, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	var k, n string
	err := db.queryRow(ctx, "SELECT kind, name FROM feed_tokens WHERE hash = ? AND revoked_ms IS NULL", tokenHash(token)).Scan(&k, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return k == kind && n == name, nil
}

// Versions gives each event (by UID and content hash) its SEQUENCE and
// LAST-MODIFIED: kept while the content is the same, the sequence raised
// and the time set to now when it changes, the first seen now at 0.
//
// Versions are remembered in memory once read or written: this daemon is
// their only writer, and feeds are read far more often than they change.
func (db *DB) Versions(ctx context.Context, events map[string]string) (map[string]rota.FeedVersion, error) {
	out := make(map[string]rota.FeedVersion, len(events))
	var changed []string
	for uid, hash := range events {
		if v, ok := db.feedVersions.Load(uid); ok && v.(rota.FeedVersion).Hash == hash {
			out[uid] = v.(rota.FeedVersion)
			continue
		}
		var v rota.FeedVersion
		var ms int64
		err := db.queryRow(ctx, "SELECT hash, sequence, modified_ms FROM feed_events WHERE uid = ?", uid).Scan(&v.Hash, &v.Sequence, &ms)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			changed = append(changed, uid)
		case err != nil:
			return nil, err
		case v.Hash != hash:
			changed = append(changed, uid)
		default:
			v.Modified = fromMillis(ms)
			out[uid] = v
			db.feedVersions.Store(uid, v)
		}
	}
	if len(changed) == 0 {
		return out, nil
	}
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		for _, uid := range changed {
			v := rota.FeedVersion{Hash: events[uid], Modified: fromMillis(now.Truncate(time.Second).UnixMilli())}
			var prev int
			err := tx.queryRow("SELECT sequence FROM feed_events WHERE uid = ?", uid).Scan(&prev)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				v.Sequence = prev + 1
			}
			if _, err := tx.exec(`INSERT INTO feed_events (uid, hash, sequence, modified_ms) VALUES (?, ?, ?, ?)
				ON CONFLICT (uid) DO UPDATE SET hash = excluded.hash, sequence = excluded.sequence, modified_ms = excluded.modified_ms`,
				uid, v.Hash, v.Sequence, v.Modified.UnixMilli()); err != nil {
				return err
			}
			out[uid] = v
		}
		return nil
	})
	if err == nil {
		for _, uid := range changed {
			db.feedVersions.Store(uid, out[uid])
		}
	}
	return out, err
}

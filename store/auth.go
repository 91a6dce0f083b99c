package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rotahq/rota"
)

// TokenPrefix begins every personal API token, so that rota tells one
// from an integration key without a database lookup, and secret scanners
// can find one pasted where it should not be.
const TokenPrefix = "rota_pat_"

// CreateSession signs person in for ttl and returns the session's secret
// (the cookie's value, shown only now) and the session.
func (db *DB) CreateSession(ctx context.Context, person, via string, ttl time.Duration) (string, rota.Session, error) {
	secret, csrf := rand.Text(), rand.Text()
	var s rota.Session
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		exp := now.Add(ttl)
		id, err := tx.insert("INSERT INTO sessions (hash, person, via, csrf, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)",
			tokenHash(secret), person, via, csrf, now.UnixMilli(), exp.UnixMilli())
		if err != nil {
			return err
		}
		s = rota.Session{ID: id, Person: person, Via: via, Created: fromMillis(now.UnixMilli()), Expires: fromMillis(exp.UnixMilli()), CSRF: csrf}
		return nil
	})
	if err != nil {
		return "", rota.Session{}, fmt.Errorf("create session: %w", err)
	}
	return secret, s, nil
}

// Session returns the live session whose secret is given, or an
// EUNAUTHORIZED error when there is none (unknown, expired or revoked).
func (db *DB) Session(ctx context.Context, secret string, now time.Time) (rota.Session, error) {
	var s rota.Session
	var created, expires int64
	err := db.queryRow(ctx, "SELECT id, person, via, csrf, created_ms, expires_ms FROM sessions WHERE hash = ? AND revoked_ms IS NULL",
		tokenHash(secret)).Scan(&s.ID, &s.Person, &s.Via, &s.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return rota.Session{}, rota.Errorf(rota.EUNAUTHORIZED, "the session is not valid: sign in again")
	}
	if err != nil {
		return rota.Session{}, fmt.Errorf("read session: %w", err)
	}
	s.Created, s.Expires = fromMillis(created), fromMillis(expires)
	if !now.Before(s.Expires) {
		return rota.Session{}, rota.Errorf(rota.EUNAUTHORIZED, "the session expired: sign in again")
	}
	return s, nil
}

// RevokeSession ends a session (signing out).
func (db *DB) RevokeSession(ctx context.Context, id int64) error {
	return db.tx(ctx, func(tx wtx, now time.Time) error {
		_, err := tx.exec("UPDATE sessions SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL", now.UnixMilli(), id)
		return err
	})
}

// RevokeSessions ends every session of person and says how many there
// were: for someone who leaves, or whose device was lost.
func (db *DB) RevokeSessions(ctx context.Context, person string) (int, error) {
	var n int64
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		res, err := tx.exec("UPDATE sessions SET revoked_ms = ? WHERE person = ? AND revoked_ms IS NULL", now.UnixMilli(), person)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// CreateAPIToken makes person a token for scripts named name and returns
// its secret, shown only now.
func (db *DB) CreateAPIToken(ctx context.Context, person, name, createdBy string) (string, rota.APIToken, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", rota.APIToken{}, rota.FieldError("name", "is required: say what the token is for")
	case len(name) > 100:
		return "", rota.APIToken{}, rota.FieldError("name", "is longer than 100 characters")
	}
	if err := rota.CheckText("name", name); err != nil {
		return "", rota.APIToken{}, err
	}
	secret := TokenPrefix + rand.Text()
	t := rota.APIToken{Person: person, Name: name, CreatedBy: createdBy}
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		id, err := tx.insert("INSERT INTO api_tokens (person, name, hash, created_ms, created_by) VALUES (?, ?, ?, ?, ?)",
			person, name, tokenHash(secret), now.UnixMilli(), createdBy)
		if err != nil {
			return err
		}
		t.ID = id
		t.CreatedAt = fromMillis(now.UnixMilli())
		return nil
	})
	if err != nil {
		return "", rota.APIToken{}, fmt.Errorf("create api token: %w", err)
	}
	return secret, t, nil
}

// APITokenFor returns the live token whose secret is given, or an
// EUNAUTHORIZED error. It notes the token's use at most once a minute,
// and firstUse says whether this is the first use in an hour (which the
// audit log records).
func (db *DB) APITokenFor(ctx context.Context, secret string, now time.Time) (t rota.APIToken, firstUse bool, err error) {
	var created int64
	var used sql.NullInt64
	err = db.queryRow(ctx, "SELECT id, person, name, created_ms, created_by, used_ms FROM api_tokens WHERE hash = ? AND revoked_ms IS NULL",
		tokenHash(secret)).Scan(&t.ID, &t.Person, &t.Name, &created, &t.CreatedBy, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return rota.APIToken{}, false, rota.Errorf(rota.EUNAUTHORIZED, "the token is not valid (unknown or revoked)")
	}
	if err != nil {
		return rota.APIToken{}, false, fmt.Errorf("read api token: %w", err)
	}
	t.CreatedAt = fromMillis(created)
	if used.Valid {
		u := fromMillis(used.Int64)
		t.LastUsed = &u
	}
	if !used.Valid || now.Sub(*t.LastUsed) >= time.Minute {
		firstUse = !used.Valid || now.Sub(*t.LastUsed) >= time.Hour
		if err := db.tx(ctx, func(tx wtx, _ time.Time) error {
			_, err := tx.exec("UPDATE api_tokens SET used_ms = ? WHERE id = ?", now.UnixMilli(), t.ID)
			return err
		}); err != nil {
			return rota.APIToken{}, false, fmt.Errorf("note api token use: %w", err)
		}
	}
	return t, firstUse, nil
}

// APITokens lists person's tokens (everyone's when person is empty),
// revoked ones included, newest first.
func (db *DB) APITokens(ctx context.Context, person string) ([]rota.APIToken, error) {
	q := "SELECT id, person, name, created_ms, created_by, used_ms, revoked_ms FROM api_tokens"
	var args []any
	if person != "" {
		q += " WHERE person = ?"
		args = append(args, person)
	}
	rows, err := db.query(ctx, q+" ORDER BY id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []rota.APIToken
	for rows.Next() {
		var t rota.APIToken
		var created int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Person, &t.Name, &created, &t.CreatedBy, &used, &revoked); err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		t.CreatedAt = fromMillis(created)
		t.LastUsed, t.RevokedAt = optMillis(used), optMillis(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken revokes token id. When person is not empty the token
// must be theirs; an ENOTFOUND error otherwise, or when it is already
// revoked.
func (db *DB) RevokeAPIToken(ctx context.Context, id int64, person string) (rota.APIToken, error) {
	var t rota.APIToken
	err := db.tx(ctx, func(tx wtx, now time.Time) error {
		var created int64
		err := tx.queryRow("SELECT id, person, name, created_ms, created_by FROM api_tokens WHERE id = ? AND revoked_ms IS NULL AND (? = '' OR person = ?)",
			id, person, person).Scan(&t.ID, &t.Person, &t.Name, &created, &t.CreatedBy)
		if errors.Is(err, sql.ErrNoRows) {
			return rota.Errorf(rota.ENOTFOUND, "no live token %d", id)
		}
		if err != nil {
			return err
		}
		t.CreatedAt = fromMillis(created)
		rev := fromMillis(now.UnixMilli())
		t.RevokedAt = &rev
		_, err = tx.exec("UPDATE api_tokens SET revoked_ms = ? WHERE id = ?", now.UnixMilli(), id)
		return err
	})
	return t, err
}

// Audit appends e to the audit log, setting its ID and time.
func (db *DB) Audit(ctx context.Context, e *rota.AuditEntry) error {
	return db.tx(ctx, func(tx wtx, now time.Time) error {
		id, err := tx.insert("INSERT INTO audit (at_ms, actor, person, action, subject, team, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
			now.UnixMilli(), e.Actor, e.Person, e.Action, e.Subject, e.Team, e.Detail)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		e.ID = id
		e.At = fromMillis(now.UnixMilli())
		return nil
	})
}

// AuditLog returns the entries q selects.
func (db *DB) AuditLog(ctx context.Context, q rota.AuditQuery) ([]rota.AuditEntry, error) {
	var where []string
	var args []any
	if !q.All {
		var who []string
		if len(q.Teams) > 0 {
			who = append(who, "team IN ("+placeholders(len(q.Teams))+")")
			for _, t := range q.Teams {
				args = append(args, t)
			}
		}
		if len(q.People) > 0 {
			who = append(who, "person IN ("+placeholders(len(q.People))+")")
			for _, p := range q.People {
				args = append(args, p)
			}
		}
		if len(who) == 0 {
			return nil, nil
		}
		where = append(where, "("+strings.Join(who, " OR ")+")")
	}
	if q.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, q.Before)
	}
	query := "SELECT id, at_ms, actor, person, action, subject, team, detail FROM audit"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, q.Limit)
	// Queries differ by the number of teams and people: not cached.
	rows, err := db.queryOnce(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []rota.AuditEntry
	for rows.Next() {
		var e rota.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Person, &e.Action, &e.Subject, &e.Team, &e.Detail); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func optMillis(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

-- Tokens also for teams (their report), so the kind check goes; SQLite
-- changes a CHECK by rebuilding the table.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);
INSERT INTO tokens (id, kind, name, hash, created_ms, revoked_ms)
    SELECT id, kind, name, hash, created_ms, revoked_ms FROM feed_tokens;
DROP TABLE feed_tokens;
ALTER TABLE tokens RENAME TO feed_tokens;
CREATE UNIQUE INDEX feed_tokens_active ON feed_tokens (kind, name) WHERE revoked_ms IS NULL;

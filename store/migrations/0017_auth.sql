-- People sign in: web sessions, personal API tokens, the audit log and
-- proposed swaps. Secrets are stored only as SHA-256 hashes.
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    person     TEXT NOT NULL,
    via        TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);
CREATE INDEX sessions_by_person ON sessions (person) WHERE revoked_ms IS NULL;

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    person     TEXT NOT NULL,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    used_ms    INTEGER,
    revoked_ms INTEGER
);
CREATE INDEX api_tokens_by_person ON api_tokens (person, id);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    person  TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    team    TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_team ON audit (team, id);
CREATE INDEX audit_by_person ON audit (person, id);

CREATE TABLE swap_requests (
    id                INTEGER PRIMARY KEY,
    rotation          TEXT NOT NULL,
    proposer          TEXT NOT NULL,
    proposer_start_ms INTEGER NOT NULL,
    proposer_end_ms   INTEGER NOT NULL,
    partner           TEXT NOT NULL,
    partner_start_ms  INTEGER NOT NULL,
    partner_end_ms    INTEGER NOT NULL,
    reason            TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'declined', 'cancelled')),
    created_ms        INTEGER NOT NULL,
    decided_ms        INTEGER,
    decided_by        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX swap_requests_open ON swap_requests (status, id);

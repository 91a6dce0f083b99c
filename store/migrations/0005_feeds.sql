-- Calendar feeds: secret tokens (stored as SHA-256 hashes) and what each
-- published event looked like, so that SEQUENCE and LAST-MODIFIED change
-- exactly when an event does.

CREATE TABLE feed_tokens (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('person', 'rotation')),
    name       TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);
CREATE UNIQUE INDEX feed_tokens_active ON feed_tokens (kind, name) WHERE revoked_ms IS NULL;

CREATE TABLE feed_events (
    uid         TEXT    PRIMARY KEY,
    hash        TEXT    NOT NULL,
    sequence    INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

-- Deploys, and what alerts suspect of them.

CREATE TABLE deploys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service     TEXT    NOT NULL,
    commit_sha  TEXT    NOT NULL DEFAULT '',
    author      TEXT    NOT NULL DEFAULT '',
    merged_by   TEXT    NOT NULL DEFAULT '',
    deployed_ms INTEGER NOT NULL,
    url         TEXT    NOT NULL DEFAULT '',
    compare_url TEXT    NOT NULL DEFAULT '',
    summary     TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL,
    environment TEXT    NOT NULL DEFAULT '',
    repository  TEXT    NOT NULL DEFAULT '',
    external_id TEXT,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX deploys_by_service ON deploys (service, deployed_ms);
-- A redelivered webhook is recorded once.
CREATE UNIQUE INDEX deploys_by_external_id ON deploys (source, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE alerts ADD COLUMN started_ms INTEGER;
ALTER TABLE alerts ADD COLUMN deploy_id INTEGER REFERENCES deploys (id);
-- The suspected deploy as it was when the alert triggered (JSON).
ALTER TABLE alerts ADD COLUMN deploy TEXT;

ALTER TABLE notifications ADD COLUMN reason TEXT NOT NULL DEFAULT '';

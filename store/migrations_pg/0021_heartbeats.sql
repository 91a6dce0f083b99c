-- Heartbeats (issue 15): see the SQLite migration of the same number.
CREATE TABLE heartbeats (
    service     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    last_ms     BIGINT  NOT NULL,
    deadline_ms BIGINT  NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('up', 'down')),
    PRIMARY KEY (service, name)
);
CREATE INDEX heartbeats_due ON heartbeats (deadline_ms) WHERE state = 'up';

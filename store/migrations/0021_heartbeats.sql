-- Heartbeats (issue 15): a job that reports it is alive every so often;
-- a missed beat opens an incident, the next beat resolves it. A
-- heartbeat is watched from its first beat.
CREATE TABLE heartbeats (
    service     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    last_ms     INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('up', 'down')),
    PRIMARY KEY (service, name)
);
CREATE INDEX heartbeats_due ON heartbeats (deadline_ms) WHERE state = 'up';

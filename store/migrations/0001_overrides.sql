-- Overrides: a person covers part of a rotation instead of whoever is
-- scheduled. IDs are never reused (AUTOINCREMENT) because the latest
-- override wins where overrides overlap.
CREATE TABLE overrides (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rotation    TEXT    NOT NULL,
    person      TEXT    NOT NULL,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    created_by  TEXT    NOT NULL DEFAULT '',
    created_ms  INTEGER NOT NULL,
    CHECK (end_ms > start_ms)
);

CREATE INDEX overrides_by_rotation ON overrides (rotation, start_ms);

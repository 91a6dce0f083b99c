-- Maintenance windows (issue 15): set ad hoc for a service, now or
-- later; the configuration's recurring ones are not stored. An incident
-- that opened in one paged nobody: reports count it as a page avoided.
CREATE TABLE maintenance (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service     TEXT    NOT NULL,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    created_by  TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    ended_early INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX maintenance_by_service ON maintenance (service, end_ms);
ALTER TABLE incidents ADD COLUMN maintenance INTEGER NOT NULL DEFAULT 0;

-- One row that readiness checks write, so that "ready" means the database
-- takes a durable write (not a full disk, not a read-only file).
CREATE TABLE health (
    id    INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL
);

-- The last good copy of each person's PTO calendar, so that a failed
-- fetch or a restart never clears their leave.
CREATE TABLE leave_cache (
    person     TEXT    PRIMARY KEY,
    leave      TEXT    NOT NULL, -- JSON: [{Start, End, Source, Summary}]
    fetched_ms INTEGER NOT NULL
);

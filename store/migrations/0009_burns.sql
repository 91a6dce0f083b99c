-- Human budgets burned: each recorded once per person (or team), budget
-- and window, so that managers hear of it once, even across restarts.
CREATE TABLE burns (
    id        INTEGER PRIMARY KEY,
    team      TEXT    NOT NULL,
    person    TEXT    NOT NULL DEFAULT '', -- '' for a team's warning
    budget    TEXT    NOT NULL,            -- weekly, offhours, team-weekly-80
    window_ms INTEGER NOT NULL,
    at_ms     INTEGER NOT NULL,
    pages     TEXT    NOT NULL             -- JSON: the pages that burned it
);
CREATE UNIQUE INDEX burns_once ON burns (team, person, budget, window_ms);
CREATE INDEX burns_by_person ON burns (person, budget, at_ms);

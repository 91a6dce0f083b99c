-- Interruptions: a person's page is the first notification that reaches
-- them after a quiet gap (the team's interruption_gap); notifications
-- inside the gap extend it. The unit of the weekly budget. A page row
-- (incident, person) now says an incident reached a person; with offhours
-- set, it is an off-hours incident: the unit of the six-month budget.
CREATE TABLE interruptions (
    id              INTEGER PRIMARY KEY,
    person          TEXT    NOT NULL,
    at_ms           INTEGER NOT NULL,
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    notification_id INTEGER,
    channel         TEXT    NOT NULL,
    offhours        INTEGER NOT NULL DEFAULT 0
);
-- Covering: budgets and reports read a person's interruptions from the
-- index alone.
CREATE INDEX interruptions_by_person ON interruptions (person, at_ms, incident_id, offhours);
-- An interruption is withdrawn with the notification that began it.
CREATE INDEX interruptions_by_notification ON interruptions (notification_id) WHERE notification_id IS NOT NULL;
-- Pages counted so far were interruptions of their own.
INSERT INTO interruptions (person, at_ms, incident_id, channel, offhours)
    SELECT person, at_ms, incident_id, channel, COALESCE(offhours, 0) FROM pages WHERE bundled = 0;

-- What is still to be accounted against budgets, written in the
-- transaction that recorded the interruption or the off-hours incident:
-- a crash delays accounting, never loses it.
CREATE TABLE accounting (
    id           INTEGER PRIMARY KEY,
    person       TEXT    NOT NULL,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    at_ms        INTEGER NOT NULL,
    interruption INTEGER NOT NULL, -- 1: a new interruption (weekly budget)
    offhours     INTEGER NOT NULL  -- 1: a new off-hours incident
);

-- The outbox carries managers' notices too: kind 'notice' with its text
-- in body; notices are not pages, are not cancelled with their incident
-- and charge no budget.
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'page';
ALTER TABLE notifications ADD COLUMN body TEXT NOT NULL DEFAULT '';

-- Off-hours incidents are every off-hours page now, bundled or not, and
-- no page is bundled any more. A page from before its off-hours status
-- was kept (NULL) is judged by its person's hours when rotad starts.
-- Reports read a person's pages from one covering index.
UPDATE pages SET bundled = 0;
DROP INDEX pages_offhours_by_person;
DROP INDEX pages_counted_by_person;
DROP INDEX pages_by_person;
CREATE INDEX pages_offhours_by_person ON pages (person, at_ms, incident_id) WHERE offhours = 1;
CREATE INDEX pages_by_person ON pages (person, at_ms, incident_id, offhours);

-- The time window's lookup: the youngest open incidents of a service.
CREATE INDEX incidents_open_by_age ON incidents (service, created_ms) WHERE status <> 'resolved';

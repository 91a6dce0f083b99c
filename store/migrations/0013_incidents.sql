-- Incidents: what people respond to. Alerts group into incidents, and
-- escalation, notification, acknowledgement and resolution happen per
-- incident. The alerts table so far held one escalation per alert: it
-- becomes the incidents table, ids kept, so that notifications, pages,
-- reply codes and timelines stay attached to what paged; each existing
-- alert becomes the one alert of its incident.

DROP INDEX alerts_open_key;
DROP INDEX alerts_due;
DROP INDEX alerts_by_status;
DROP INDEX alerts_by_service;
ALTER TABLE alerts RENAME TO incidents;
ALTER TABLE incidents RENAME COLUMN dedup_key TO group_key;

ALTER TABLE alert_events RENAME TO incident_events;
DROP INDEX alert_events_by_alert;
ALTER TABLE incident_events RENAME COLUMN alert_id TO incident_id;
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, id);

DROP INDEX notifications_by_alert;
ALTER TABLE notifications RENAME COLUMN alert_id TO incident_id;
CREATE INDEX notifications_by_incident ON notifications (incident_id, id);

DROP INDEX pages_counted_by_person;
ALTER TABLE pages RENAME COLUMN alert_id TO incident_id;
CREATE INDEX pages_counted_by_person ON pages (person, at_ms, incident_id) WHERE bundled = 0;

DROP INDEX reply_codes_by_alert;
ALTER TABLE reply_codes RENAME COLUMN alert_id TO incident_id;
CREATE UNIQUE INDEX reply_codes_by_incident ON reply_codes (person, incident_id);

-- An alert is one signal from a source, deduplicated by its key while
-- open; it belongs to one incident. Its status follows the incident's
-- (acknowledged with it, resolved with it), and it resolves on its own
-- when its source says so; an incident resolves when all its alerts have.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    service     TEXT    NOT NULL,
    dedup_key   TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
    summary     TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    source      TEXT    NOT NULL DEFAULT '',
    details     TEXT,                       -- a JSON object, or NULL
    links       TEXT,                       -- a JSON array, or NULL
    integration TEXT    NOT NULL,
    group_key   TEXT    NOT NULL DEFAULT '', -- the source's or group_by's key
    count       INTEGER NOT NULL DEFAULT 1,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    started_ms  INTEGER,
    resolved_ms INTEGER,
    resolved_by TEXT    NOT NULL DEFAULT ''
);
INSERT INTO alerts (id, incident_id, service, dedup_key, status, summary, severity, source, details, links, integration,
    count, created_ms, updated_ms, started_ms, resolved_ms, resolved_by)
SELECT id, id, service, group_key, status, summary, severity, source, details, links, integration,
    count, created_ms, updated_ms, started_ms, resolved_ms, resolved_by FROM incidents;
CREATE UNIQUE INDEX alerts_open_key ON alerts (service, dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_by_incident ON alerts (incident_id, id);
CREATE INDEX alerts_by_status ON alerts (status, id);
CREATE INDEX alerts_by_service ON alerts (service, id);

-- A timeline line may name the alert it is about (one joining, one
-- resolving).
ALTER TABLE incident_events ADD COLUMN alert_id INTEGER REFERENCES alerts (id);

-- What an incident keeps of its alerts: the first one's summary, the
-- highest severity, how many alerts it holds. A migrated incident's old
-- dedup key is no group key.
ALTER TABLE incidents DROP COLUMN source;
ALTER TABLE incidents DROP COLUMN details;
ALTER TABLE incidents DROP COLUMN links;
ALTER TABLE incidents DROP COLUMN integration;
ALTER TABLE incidents RENAME COLUMN count TO alert_count;
UPDATE incidents SET alert_count = 1, group_key = '';
CREATE INDEX incidents_due ON incidents (esc_due_ms) WHERE esc_due_ms IS NOT NULL;
CREATE INDEX incidents_by_status ON incidents (status, id);
CREATE INDEX incidents_by_service ON incidents (service, id);
-- The open incidents of a service, for grouping: by group key, or the
-- youngest for the time window.
CREATE INDEX incidents_open ON incidents (service, group_key, created_ms) WHERE status <> 'resolved';

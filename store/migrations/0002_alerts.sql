-- Alerts, their timelines, the notification outbox and pages.

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service     TEXT    NOT NULL,
    dedup_key   TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
    summary     TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    source      TEXT    NOT NULL DEFAULT '',
    details     TEXT,                       -- a JSON object, or NULL
    links       TEXT,                       -- a JSON array, or NULL
    integration TEXT    NOT NULL,
    count       INTEGER NOT NULL DEFAULT 1,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    acked_ms    INTEGER,
    acked_by    TEXT    NOT NULL DEFAULT '',
    resolved_ms INTEGER,
    resolved_by TEXT    NOT NULL DEFAULT '',
    -- The escalation policy as it was when the alert triggered (JSON), and
    -- where the alert is in it.
    policy      TEXT    NOT NULL,
    esc_step    INTEGER NOT NULL DEFAULT 0,
    esc_round   INTEGER NOT NULL DEFAULT 0,
    esc_wave    INTEGER NOT NULL DEFAULT 0,
    esc_state   TEXT    NOT NULL,
    esc_due_ms  INTEGER
);

-- At most one open alert per service and dedup key.
CREATE UNIQUE INDEX alerts_open_key ON alerts (service, dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_due ON alerts (esc_due_ms) WHERE esc_due_ms IS NOT NULL;
CREATE INDEX alerts_by_status ON alerts (status, id);
CREATE INDEX alerts_by_service ON alerts (service, id);

CREATE TABLE alert_events (
    id       INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    at_ms    INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    actor    TEXT    NOT NULL DEFAULT '',
    message  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id        INTEGER NOT NULL REFERENCES alerts (id),
    person          TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    contact_index   INTEGER NOT NULL,
    wave            INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_ms      INTEGER NOT NULL,
    sent_ms         INTEGER,
    bundle_id       INTEGER
);
CREATE INDEX notifications_due ON notifications (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX notifications_by_alert ON notifications (alert_id, id);
CREATE INDEX notifications_sent_by_person ON notifications (person, sent_ms) WHERE status = 'sent';

-- A page is a person interrupted by an alert, once per (alert, person).
CREATE TABLE pages (
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    person   TEXT    NOT NULL,
    at_ms    INTEGER NOT NULL,
    channel  TEXT    NOT NULL,
    bundled  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (alert_id, person)
);
CREATE INDEX pages_by_person ON pages (person, at_ms);

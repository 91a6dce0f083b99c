-- Notices that belong to no incident (the managers' weekly digests,
-- handover reminders) go through the outbox like pages, so that they are
-- retried, claimed by one daemon, and never lost at a crash: a
-- notification's incident becomes optional. SQLite cannot drop NOT NULL
-- in place, so the table is rebuilt with the same columns in the same
-- order, and its indexes are made again.
CREATE TABLE notifications_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER REFERENCES incidents (id),
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
    bundle_id       INTEGER,
    external_id     TEXT    NOT NULL DEFAULT '',
    provider_status TEXT    NOT NULL DEFAULT '',
    delivered_ms    INTEGER,
    reason          TEXT    NOT NULL DEFAULT '',
    shadow          INTEGER NOT NULL DEFAULT 0,
    kind            TEXT    NOT NULL DEFAULT 'page',
    body            TEXT    NOT NULL DEFAULT '',
    claim_until_ms  INTEGER,
    claimed_by      TEXT    NOT NULL DEFAULT ''
);
INSERT INTO notifications_new (id, incident_id, person, channel, address, contact_index, wave, status, attempts, next_attempt_ms,
    last_error, created_ms, sent_ms, bundle_id, external_id, provider_status, delivered_ms, reason, shadow, kind, body, claim_until_ms, claimed_by)
    SELECT id, incident_id, person, channel, address, contact_index, wave, status, attempts, next_attempt_ms,
    last_error, created_ms, sent_ms, bundle_id, external_id, provider_status, delivered_ms, reason, shadow, kind, body, claim_until_ms, claimed_by
    FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_due ON notifications (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX notifications_sent_by_person ON notifications (person, sent_ms) WHERE status = 'sent';
CREATE INDEX notifications_by_person ON notifications (person, sent_ms) WHERE sent_ms IS NOT NULL;
CREATE INDEX notifications_by_incident ON notifications (incident_id, id);

-- What must be done once across daemons (a digest of one minute) is
-- recorded here in the transaction that queues it.
CREATE TABLE done_once (
    key   TEXT    PRIMARY KEY,
    at_ms INTEGER NOT NULL
);

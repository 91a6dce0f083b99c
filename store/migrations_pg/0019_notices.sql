-- Notices that belong to no incident (digests, handover reminders) go
-- through the outbox too: a notification's incident becomes optional.
ALTER TABLE notifications ALTER COLUMN incident_id DROP NOT NULL;
CREATE TABLE done_once (
    key   TEXT    PRIMARY KEY,
    at_ms BIGINT  NOT NULL
);

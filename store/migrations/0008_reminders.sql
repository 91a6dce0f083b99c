-- Handover reminders sent, one per shift.
CREATE TABLE reminders (
    rotation TEXT    NOT NULL,
    person   TEXT    NOT NULL,
    start_ms INTEGER NOT NULL,
    sent_ms  INTEGER NOT NULL,
    PRIMARY KEY (rotation, person, start_ms)
);

-- What the provider (Twilio) says of a notification, and short reply codes
-- people use to answer a page by SMS.

ALTER TABLE notifications ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN provider_status TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN delivered_ms INTEGER;
CREATE INDEX notifications_by_person ON notifications (person, sent_ms) WHERE sent_ms IS NOT NULL;

-- A reply code is a small number naming one alert for one person, "12" in
-- "12a" (acknowledge) or "12c" (resolve). Codes are reused once their alert
-- is resolved.
CREATE TABLE reply_codes (
    person     TEXT    NOT NULL,
    code       INTEGER NOT NULL,
    alert_id   INTEGER NOT NULL REFERENCES alerts (id),
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (person, code)
);
CREATE UNIQUE INDEX reply_codes_by_alert ON reply_codes (person, alert_id);

-- Several daemons on one database: a notification being sent is claimed
-- by one daemon until its lease runs out (renewed while sending), and the
-- rate limit's last send per person and channel lives here, not in one
-- daemon's memory.
ALTER TABLE notifications ADD COLUMN claim_until_ms INTEGER;
ALTER TABLE notifications ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
CREATE TABLE rate_limits (
    person  TEXT    NOT NULL,
    channel TEXT    NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (person, channel)
);
INSERT INTO rate_limits (person, channel, last_ms)
    SELECT person, channel, MAX(sent_ms) FROM notifications WHERE status = 'sent' AND sent_ms IS NOT NULL GROUP BY person, channel;

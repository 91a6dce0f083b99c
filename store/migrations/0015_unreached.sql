-- When an incident's policy ran out with nobody reached and the team's
-- managers were told: once per incident.
ALTER TABLE incidents ADD COLUMN unreached_ms INTEGER;
-- What the engine looks at each round: the few exhausted incidents not yet
-- told, not every triggered one.
CREATE INDEX incidents_exhausted ON incidents (id) WHERE status = 'triggered' AND esc_state = 'exhausted' AND unreached_ms IS NULL;

-- Inbound provider requests seen (a Twilio message's or call's SID, with
-- the keys pressed): a replayed request acts once.
CREATE TABLE inbound_seen (
    key   TEXT    PRIMARY KEY,
    at_ms INTEGER NOT NULL
);

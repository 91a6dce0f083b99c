-- When an incident's policy ran out with nobody reached and the team's
-- managers were told: once per incident.
ALTER TABLE incidents ADD COLUMN unreached_ms INTEGER;

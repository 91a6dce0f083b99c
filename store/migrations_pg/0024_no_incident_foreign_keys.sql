-- Issue 22: the tables under incidents lose their foreign keys on
-- PostgreSQL. Each was a check per inserted row (7.9 statements a new
-- incident, a third of all, each taking a KEY SHARE lock on the incident)
-- and enforced nothing the code does not: incidents and alerts are never
-- deleted, and their rows are written only in the transaction that made
-- the incident or after reading it under its service's lock. SQLite keeps
-- the constraints (the same code runs on it, so its suite still fails on
-- an orphan row); without them here, 20 services at saturation took 18
-- statements an incident instead of 28 and 771-823 alerts/s instead of 726.
ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_incident_id_fkey;
ALTER TABLE incident_events DROP CONSTRAINT IF EXISTS incident_events_incident_id_fkey;
ALTER TABLE incident_events DROP CONSTRAINT IF EXISTS incident_events_alert_id_fkey;
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_incident_id_fkey;
ALTER TABLE pages DROP CONSTRAINT IF EXISTS pages_incident_id_fkey;
ALTER TABLE reply_codes DROP CONSTRAINT IF EXISTS reply_codes_incident_id_fkey;
ALTER TABLE interruptions DROP CONSTRAINT IF EXISTS interruptions_incident_id_fkey;
ALTER TABLE accounting DROP CONSTRAINT IF EXISTS accounting_incident_id_fkey;

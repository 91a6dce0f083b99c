-- Issue 24: a status update is a structure, not text to parse: what was
-- done (update_action), by whom (update_by) and, for an escalation, to
-- whom (update_to, names joined by ", "). body keeps the text as shown.
ALTER TABLE notifications ADD COLUMN update_action TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN update_by TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN update_to TEXT NOT NULL DEFAULT '';

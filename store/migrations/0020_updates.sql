-- Status updates (issue 14): a contact that asked for them is told what
-- becomes of an incident it was notified of. updates marks such a
-- contact's notifications; thread is, on an update, the provider's id of
-- the first message sent to that contact about the incident (a Slack
-- message to edit in place and reply under).
ALTER TABLE notifications ADD COLUMN updates INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN thread TEXT NOT NULL DEFAULT '';

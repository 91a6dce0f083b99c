-- Status updates (issue 14): see the SQLite migration of the same number.
ALTER TABLE notifications ADD COLUMN updates BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN thread TEXT NOT NULL DEFAULT '';

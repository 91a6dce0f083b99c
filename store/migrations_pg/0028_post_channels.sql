-- Issue 24: a post names its chat channel in a field of its own (it was
-- the body, which means text elsewhere); updates to a channel keep it.
ALTER TABLE notifications ADD COLUMN chat_channel TEXT NOT NULL DEFAULT '';
UPDATE notifications SET chat_channel = body WHERE kind = 'post';

-- See the SQLite migration of the same number.
CREATE INDEX notifications_claimed ON notifications (claim_until_ms) WHERE status = 'pending' AND claim_until_ms IS NOT NULL;

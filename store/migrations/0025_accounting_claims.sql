-- Issue 22: daemons sharing PostgreSQL take turns at accounting, each
-- page's accounting claimed by one for a while (see PendingAccounting);
-- before, every daemon accounted every page. SQLite's one daemon claims
-- nothing, but keeps the same columns.
ALTER TABLE accounting ADD COLUMN claim_until_ms INTEGER;

-- Delivery state of outbox events, for the dispatcher. An event is due when
-- next_attempt_at (formatTime text; '' sorts first, so a row written
-- without it is due at once) is not after now, and free when its lease
-- (locked_until) has ended. dead: given up after too many attempts.
-- Existing rows are due now; rows of kinds nobody delivers stay undelivered.
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN locked_until TEXT;
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN dead INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET next_attempt_at = created_at;
-- The claim reads only undelivered, living events, by due time.
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND dead = 0;

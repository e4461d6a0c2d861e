-- Delivery state of outbox events, for the dispatcher. An event is due when
-- next_attempt_at is not after now, and free when its lease (locked_until)
-- has ended. dead: given up after too many attempts. Every insert sets
-- next_attempt_at to the event's time; existing rows are due now, and rows
-- of kinds nobody delivers simply stay undelivered.
ALTER TABLE outbox
	ADD COLUMN attempts integer NOT NULL DEFAULT 0,
	ADD COLUMN next_attempt_at timestamptz,
	ADD COLUMN locked_until timestamptz,
	ADD COLUMN last_error text NOT NULL DEFAULT '',
	ADD COLUMN dead boolean NOT NULL DEFAULT false;
UPDATE outbox SET next_attempt_at = created_at;
ALTER TABLE outbox ALTER COLUMN next_attempt_at SET DEFAULT now(), ALTER COLUMN next_attempt_at SET NOT NULL;
-- The claim reads only undelivered, living events, by due time.
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND NOT dead;

-- Residents' side of issue 14: pledge confirmation, notices, challenges.
-- A pledge counts in the area's pledged_units (and the threshold) once
-- confirmed; until then it holds its unit and counts in unconfirmed_units.
-- Pledges made before this migration, and every row inserted without the
-- column, are confirmed: they counted already.
ALTER TABLE pledges ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE pledges ADD COLUMN confirmed_at TEXT;
-- SHA-256 of the secret confirmation link, never the secret.
ALTER TABLE pledges ADD COLUMN confirm_hash TEXT;
-- The language of the page the pledge was made on: its e-mails follow it.
ALTER TABLE pledges ADD COLUMN language TEXT NOT NULL DEFAULT 'da';
-- 0 when the resident stopped the notices from the manage link.
ALTER TABLE pledges ADD COLUMN notices INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX pledges_confirm_hash ON pledges(confirm_hash) WHERE confirm_hash IS NOT NULL;
CREATE INDEX pledges_unconfirmed ON pledges(created_at) WHERE status = 'active' AND confirmed = 0;

ALTER TABLE areas ADD COLUMN unconfirmed_units INTEGER NOT NULL DEFAULT 0;
-- Days an unconfirmed pledge waits for its confirmation before it lapses.
ALTER TABLE areas ADD COLUMN confirm_days INTEGER NOT NULL DEFAULT 14 CHECK (confirm_days >= 1);
-- When the area became built or lapsed: retention counts from it.
ALTER TABLE areas ADD COLUMN closed_at TEXT;

-- Challenges of the address base. units_before/units_after record what an
-- accepted challenge changed; secret_hash is the reporter's link.
CREATE TABLE challenges (
	id             INTEGER PRIMARY KEY,
	address_id     TEXT NOT NULL,
	area_code      TEXT NOT NULL DEFAULT '',
	kind           TEXT NOT NULL,
	note           TEXT NOT NULL DEFAULT '',
	proposed_units INTEGER,
	status         TEXT NOT NULL DEFAULT 'open',
	reason         TEXT NOT NULL DEFAULT '',
	secret_hash    TEXT NOT NULL UNIQUE,
	reported_by    TEXT NOT NULL DEFAULT '',
	units_before   INTEGER,
	units_after    INTEGER,
	created_at     TEXT NOT NULL,
	decided_at     TEXT,
	decided_by     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX challenges_area ON challenges(area_code, status);

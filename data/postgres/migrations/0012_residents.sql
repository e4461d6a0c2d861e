-- Residents' side of issue 14: pledge confirmation, notices, challenges.
-- A pledge counts in the area's pledged_units (and the threshold) once
-- confirmed; until then it holds its unit and counts in unconfirmed_units.
-- Pledges made before this migration, and every row inserted without the
-- column, are confirmed: they counted already.
ALTER TABLE pledges ADD COLUMN confirmed boolean NOT NULL DEFAULT true;
ALTER TABLE pledges ADD COLUMN confirmed_at timestamptz;
-- SHA-256 of the secret confirmation link, never the secret.
ALTER TABLE pledges ADD COLUMN confirm_hash text;
-- The language of the page the pledge was made on: its e-mails follow it.
ALTER TABLE pledges ADD COLUMN language text NOT NULL DEFAULT 'da';
-- false when the resident stopped the notices from the manage link.
ALTER TABLE pledges ADD COLUMN notices boolean NOT NULL DEFAULT true;
CREATE UNIQUE INDEX pledges_confirm_hash ON pledges (confirm_hash) WHERE confirm_hash IS NOT NULL;
CREATE INDEX pledges_unconfirmed ON pledges (created_at) WHERE status = 'active' AND NOT confirmed;

ALTER TABLE areas ADD COLUMN unconfirmed_units integer NOT NULL DEFAULT 0;
-- Days an unconfirmed pledge waits for its confirmation before it lapses.
ALTER TABLE areas ADD COLUMN confirm_days integer NOT NULL DEFAULT 14 CHECK (confirm_days >= 1);
-- When the area became built or lapsed: retention counts from it.
ALTER TABLE areas ADD COLUMN closed_at timestamptz;

-- Challenges of the address base. units_before/units_after record what an
-- accepted challenge changed; secret_hash is the reporter's link.
CREATE TABLE challenges (
	id             bigserial PRIMARY KEY,
	address_id     text NOT NULL,
	area_code      text NOT NULL DEFAULT '',
	kind           text NOT NULL,
	note           text NOT NULL DEFAULT '',
	proposed_units integer,
	status         text NOT NULL DEFAULT 'open',
	reason         text NOT NULL DEFAULT '',
	secret_hash    text NOT NULL UNIQUE,
	reported_by    text NOT NULL DEFAULT '',
	units_before   integer,
	units_after    integer,
	created_at     timestamptz NOT NULL,
	decided_at     timestamptz,
	decided_by     text NOT NULL DEFAULT ''
);
CREATE INDEX challenges_area ON challenges (area_code, status);

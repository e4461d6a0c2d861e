-- Tenders and bids (issue 13), as on SQLite (its 0009_tenders.sql): rounds
-- of an area's tender, bids with their latest revision and the history,
-- and attachments' bytes once per revision that uploaded them.
CREATE TABLE tenders (
	area_id      bigint NOT NULL REFERENCES areas (id),
	round        integer NOT NULL,
	opened_at    timestamptz NOT NULL,
	deadline     date NOT NULL,
	association  text NOT NULL DEFAULT '',
	contact      text NOT NULL DEFAULT '',
	municipality text NOT NULL DEFAULT '',
	awarded_bid  bigint,
	award_reason text NOT NULL DEFAULT '',
	awarded_at   timestamptz,
	closed_at    timestamptz,
	PRIMARY KEY (area_id, round)
);

CREATE TABLE bid_attachments (
	id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name   text NOT NULL,
	size   integer NOT NULL,
	sha256 text NOT NULL,
	data   bytea NOT NULL
);

CREATE TABLE bids (
	id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	area_id                bigint NOT NULL REFERENCES areas (id),
	round                  integer NOT NULL,
	company                text NOT NULL,
	user_id                bigint NOT NULL,
	status                 text NOT NULL,
	price_per_connection   bigint NOT NULL,
	household_contribution bigint NOT NULL,
	timeline_months        integer NOT NULL,
	open_access            boolean NOT NULL,
	notes                  text NOT NULL,
	attachment_id          bigint REFERENCES bid_attachments (id),
	revision               integer NOT NULL,
	created_at             timestamptz NOT NULL,
	updated_at             timestamptz NOT NULL
);
CREATE INDEX bids_area ON bids (area_id, round, company);
CREATE UNIQUE INDEX bids_standing ON bids (area_id, round, company) WHERE status = 'submitted';

CREATE TABLE bid_revisions (
	bid_id                 bigint NOT NULL REFERENCES bids (id),
	revision               integer NOT NULL,
	user_id                bigint NOT NULL,
	status                 text NOT NULL,
	price_per_connection   bigint NOT NULL,
	household_contribution bigint NOT NULL,
	timeline_months        integer NOT NULL,
	open_access            boolean NOT NULL,
	notes                  text NOT NULL,
	attachment_id          bigint REFERENCES bid_attachments (id),
	at                     timestamptz NOT NULL,
	PRIMARY KEY (bid_id, revision)
);

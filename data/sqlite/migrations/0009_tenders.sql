-- Tenders and bids (issue 13). An area's tenders are numbered by round:
-- moving an area back before tender_open closes its round, and the next
-- opening starts a new one. deadline is a date (YYYY-MM-DD): bids are open
-- until that day ends (UTC). A bid keeps every revision; bids holds the
-- latest, bid_revisions the history. An attachment's bytes are kept once
-- per revision that uploaded it, and referenced by later revisions.
CREATE TABLE tenders (
	area_id      INTEGER NOT NULL REFERENCES areas(id),
	round        INTEGER NOT NULL,
	opened_at    TEXT NOT NULL,
	deadline     TEXT NOT NULL,
	association  TEXT NOT NULL DEFAULT '',
	contact      TEXT NOT NULL DEFAULT '',
	municipality TEXT NOT NULL DEFAULT '',
	awarded_bid  INTEGER,
	award_reason TEXT NOT NULL DEFAULT '',
	awarded_at   TEXT,
	closed_at    TEXT,
	PRIMARY KEY (area_id, round)
);

CREATE TABLE bid_attachments (
	id     INTEGER PRIMARY KEY,
	name   TEXT NOT NULL,
	size   INTEGER NOT NULL,
	sha256 TEXT NOT NULL,
	data   BLOB NOT NULL
);

CREATE TABLE bids (
	id                     INTEGER PRIMARY KEY,
	area_id                INTEGER NOT NULL REFERENCES areas(id),
	round                  INTEGER NOT NULL,
	company                TEXT NOT NULL,
	user_id                INTEGER NOT NULL,
	status                 TEXT NOT NULL,
	price_per_connection   INTEGER NOT NULL,
	household_contribution INTEGER NOT NULL,
	timeline_months        INTEGER NOT NULL,
	open_access            INTEGER NOT NULL,
	notes                  TEXT NOT NULL,
	attachment_id          INTEGER REFERENCES bid_attachments(id),
	revision               INTEGER NOT NULL,
	created_at             TEXT NOT NULL,
	updated_at             TEXT NOT NULL
);
CREATE INDEX bids_area ON bids(area_id, round, company);
-- One standing bid per company and round.
CREATE UNIQUE INDEX bids_standing ON bids(area_id, round, company) WHERE status = 'submitted';

CREATE TABLE bid_revisions (
	bid_id                 INTEGER NOT NULL REFERENCES bids(id),
	revision               INTEGER NOT NULL,
	user_id                INTEGER NOT NULL,
	status                 TEXT NOT NULL,
	price_per_connection   INTEGER NOT NULL,
	household_contribution INTEGER NOT NULL,
	timeline_months        INTEGER NOT NULL,
	open_access            INTEGER NOT NULL,
	notes                  TEXT NOT NULL,
	attachment_id          INTEGER REFERENCES bid_attachments(id),
	at                     TEXT NOT NULL,
	PRIMARY KEY (bid_id, revision)
);

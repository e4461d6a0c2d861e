-- Areas with their counters; geometry is WKB (EPSG:4326) with its bounds.
CREATE TABLE areas (
	id                INTEGER PRIMARY KEY,
	code              TEXT NOT NULL UNIQUE,
	name              TEXT NOT NULL,
	geometry          BLOB NOT NULL,
	min_lon           REAL NOT NULL,
	min_lat           REAL NOT NULL,
	max_lon           REAL NOT NULL,
	max_lat           REAL NOT NULL,
	area_m2           REAL NOT NULL,
	threshold_percent REAL NOT NULL,
	threshold_units   INTEGER NOT NULL DEFAULT 0,
	deadline          TEXT,
	status            TEXT NOT NULL,
	addresses         INTEGER NOT NULL DEFAULT 0,
	units             INTEGER NOT NULL DEFAULT 0,
	pledged_units     INTEGER NOT NULL DEFAULT 0
);

-- Access addresses by their source id. A rowid table with a unique index on
-- id (not WITHOUT ROWID): a first import appends rows and builds the
-- indexes once from sorted keys, instead of inserting in random key order.
CREATE TABLE addresses (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL,
	text       TEXT NOT NULL,
	search_key TEXT NOT NULL,
	lon        REAL NOT NULL,
	lat        REAL NOT NULL,
	units      INTEGER NOT NULL CHECK (units >= 1),
	area_id    INTEGER REFERENCES areas(id)
);
CREATE UNIQUE INDEX addresses_id ON addresses(id);
CREATE INDEX addresses_area ON addresses(area_id, units);
CREATE INDEX addresses_search ON addresses(search_key);

CREATE TABLE pledges (
	id              INTEGER PRIMARY KEY,
	token           TEXT NOT NULL UNIQUE,
	address_seq     INTEGER NOT NULL REFERENCES addresses(seq),
	unit            INTEGER NOT NULL CHECK (unit >= 1),
	name            TEXT NOT NULL,
	email           TEXT NOT NULL,
	phone           TEXT NOT NULL,
	consent         INTEGER NOT NULL,
	status          TEXT NOT NULL,
	idempotency_key TEXT UNIQUE,
	request_hash    TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);
-- One active pledge per unit.
CREATE UNIQUE INDEX pledges_active_unit ON pledges(address_seq, unit) WHERE status = 'active';

-- Facts to deliver at least once (webhooks, e-mail), written in the same
-- transaction as the change; key makes each fact unique.
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY,
	key          TEXT NOT NULL UNIQUE,
	kind         TEXT NOT NULL,
	area_code    TEXT NOT NULL,
	payload      TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	delivered_at TEXT
);

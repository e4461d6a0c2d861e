-- Text keys use the "C" collation so that ordering and prefix ranges are
-- by code point, exactly as in the SQLite store, whatever the database's
-- default collation.
CREATE EXTENSION IF NOT EXISTS postgis;

-- Areas with their counters, kept in the same transaction as the change
-- that moves them. Every pledge updates its area's row, so the row is kept
-- narrow (the geometry lives in area_shapes) and pages keep room for HOT
-- updates, which touch no index.
CREATE TABLE areas (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code              text COLLATE "C" NOT NULL UNIQUE,
	name              text NOT NULL,
	area_m2           double precision NOT NULL,
	threshold_percent double precision NOT NULL,
	threshold_units   integer NOT NULL DEFAULT 0,
	deadline          timestamptz,
	status            text NOT NULL,
	addresses         integer NOT NULL DEFAULT 0,
	units             integer NOT NULL DEFAULT 0,
	pledged_units     integer NOT NULL DEFAULT 0
) WITH (fillfactor = 50);

-- Each area's polygon, changed only by area imports.
CREATE TABLE area_shapes (
	area_id bigint PRIMARY KEY REFERENCES areas (id),
	geom    geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX area_shapes_geom ON area_shapes USING gist (geom);

-- Access addresses keyed by their source id. Constraints and indexes are
-- named: a first import into the empty table drops and remakes them.
CREATE TABLE addresses (
	id         text COLLATE "C" NOT NULL,
	text       text NOT NULL,
	search_key text COLLATE "C" NOT NULL,
	geom       geometry(Point, 4326) NOT NULL,
	units      integer NOT NULL CHECK (units >= 1),
	area_id    bigint,
	CONSTRAINT addresses_pkey PRIMARY KEY (id),
	CONSTRAINT addresses_area_id_fkey FOREIGN KEY (area_id) REFERENCES areas (id)
);
CREATE INDEX addresses_geom ON addresses USING gist (geom);
CREATE INDEX addresses_area ON addresses (area_id);
CREATE INDEX addresses_search ON addresses (search_key, id);

CREATE TABLE pledges (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token           text NOT NULL UNIQUE,
	-- No foreign key: its check locks the address row, a logged write to a
	-- random page on every pledge (a third of a pledge's database time).
	-- Addresses are never deleted, and CreatePledge finds the address's
	-- area in the statement that moves the counter.
	address_id      text COLLATE "C" NOT NULL,
	unit            integer NOT NULL CHECK (unit >= 1),
	name            text NOT NULL,
	email           text NOT NULL,
	phone           text NOT NULL,
	consent         boolean NOT NULL,
	status          text NOT NULL,
	idempotency_key text,
	request_hash    text NOT NULL,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL
);
-- One active pledge per unit: of concurrent pledges for a unit exactly one
-- commits, the others fail with a unique violation.
CREATE UNIQUE INDEX pledges_active_unit ON pledges (address_id, unit) WHERE status = 'active';
-- Most pledges carry no key; they need no entry.
CREATE UNIQUE INDEX pledges_idempotency_key ON pledges (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Facts to deliver at least once (webhooks, e-mail), written in the same
-- transaction as the change; key makes each fact unique.
CREATE TABLE outbox (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key          text NOT NULL UNIQUE,
	kind         text NOT NULL,
	area_code    text NOT NULL,
	payload      text NOT NULL,
	created_at   timestamptz NOT NULL,
	delivered_at timestamptz
);

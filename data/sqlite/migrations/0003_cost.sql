-- Cost parameters per area; amounts are integer øre. A NULL POP means the
-- area's point on surface.
CREATE TABLE cost_params (
	area_id               INTEGER PRIMARY KEY REFERENCES areas(id) ON DELETE CASCADE,
	pop_lon               REAL,
	pop_lat               REAL,
	detour                REAL NOT NULL,
	trench_per_m          INTEGER NOT NULL CHECK (trench_per_m >= 0),
	drop_per_m            INTEGER NOT NULL CHECK (drop_per_m >= 0),
	per_connection        INTEGER NOT NULL CHECK (per_connection >= 0),
	fixed                 INTEGER NOT NULL CHECK (fixed >= 0),
	state_subsidy_avg_cap INTEGER NOT NULL CHECK (state_subsidy_avg_cap >= 0),
	municipal_topup       INTEGER NOT NULL CHECK (municipal_topup >= 0),
	provider_contribution INTEGER NOT NULL CHECK (provider_contribution >= 0),
	min_own_payment       INTEGER NOT NULL CHECK (min_own_payment >= 0),
	community_fund        INTEGER NOT NULL CHECK (community_fund >= 0),
	split_rule            TEXT NOT NULL,
	household_cap         INTEGER NOT NULL CHECK (household_cap >= 0),
	CHECK ((pop_lon IS NULL) = (pop_lat IS NULL))
);

-- Road centrelines for road-following route estimates: WKB LineStrings in
-- EPSG:4326, unique by geometry so a repeated import adds nothing.
CREATE TABLE roads (
	id            INTEGER PRIMARY KEY,
	geometry      BLOB NOT NULL,
	geometry_hash BLOB NOT NULL UNIQUE
);
-- Bounding boxes of the roads (same id), for the area's road query.
CREATE VIRTUAL TABLE roads_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat);

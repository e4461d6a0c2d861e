-- Cost parameters per area; amounts are integer øre. A NULL POP means the
-- area's point on surface.
CREATE TABLE cost_params (
	area_id               bigint PRIMARY KEY REFERENCES areas (id) ON DELETE CASCADE,
	pop_lon               double precision,
	pop_lat               double precision,
	detour                double precision NOT NULL,
	trench_per_m          bigint NOT NULL CHECK (trench_per_m >= 0),
	drop_per_m            bigint NOT NULL CHECK (drop_per_m >= 0),
	per_connection        bigint NOT NULL CHECK (per_connection >= 0),
	fixed                 bigint NOT NULL CHECK (fixed >= 0),
	state_subsidy_avg_cap bigint NOT NULL CHECK (state_subsidy_avg_cap >= 0),
	municipal_topup       bigint NOT NULL CHECK (municipal_topup >= 0),
	provider_contribution bigint NOT NULL CHECK (provider_contribution >= 0),
	min_own_payment       bigint NOT NULL CHECK (min_own_payment >= 0),
	community_fund        bigint NOT NULL CHECK (community_fund >= 0),
	split_rule            text NOT NULL,
	household_cap         bigint NOT NULL CHECK (household_cap >= 0),
	CHECK ((pop_lon IS NULL) = (pop_lat IS NULL))
);

-- Road centrelines for road-following route estimates, unique by their
-- exact coordinates (a hash of the WKB) so a repeated import adds nothing.
CREATE TABLE roads (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	geom          geometry(LineString, 4326) NOT NULL,
	geometry_hash bytea NOT NULL UNIQUE
);
CREATE INDEX roads_geom ON roads USING gist (geom);

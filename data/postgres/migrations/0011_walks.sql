-- Walk lists (issue 14): batches of walks per area, each an ordered list
-- of stops with a short code unique in the area, and the last outcome
-- recorded at each address. assigned_to is a volunteer's name (personal
-- data: coordinators and admins only).
CREATE TABLE walks (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	area_id     bigint NOT NULL REFERENCES areas(id),
	batch       integer NOT NULL,
	number      integer NOT NULL,
	size        integer NOT NULL,
	length_m    double precision NOT NULL,
	created_at  timestamptz NOT NULL,
	created_by  text NOT NULL,
	assigned_to text NOT NULL DEFAULT '',
	assigned_at timestamptz,
	expires_at  timestamptz,
	returned_at timestamptz,
	UNIQUE (area_id, batch, number)
);

CREATE TABLE walk_stops (
	walk_id    bigint NOT NULL REFERENCES walks(id),
	seq        integer NOT NULL,
	area_id    bigint NOT NULL REFERENCES areas(id),
	address_id text COLLATE "C" NOT NULL,
	code       text NOT NULL,
	drive      boolean NOT NULL,
	leg_m      double precision NOT NULL,
	PRIMARY KEY (walk_id, seq),
	UNIQUE (area_id, code)
);

CREATE TABLE address_outcomes (
	address_id   text COLLATE "C" PRIMARY KEY,
	outcome      text NOT NULL,
	code         text NOT NULL,
	at           timestamptz NOT NULL,
	recorded_by  text NOT NULL,
	do_not_knock boolean NOT NULL
);

-- Walk lists (issue 14): batches of walks per area, each an ordered list
-- of stops with a short code unique in the area, and the last outcome
-- recorded at each address. assigned_to is a volunteer's name (personal
-- data: coordinators and admins only).
CREATE TABLE walks (
	id          INTEGER PRIMARY KEY,
	area_id     INTEGER NOT NULL REFERENCES areas(id),
	batch       INTEGER NOT NULL,
	number      INTEGER NOT NULL,
	size        INTEGER NOT NULL,
	length_m    REAL NOT NULL,
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	assigned_to TEXT NOT NULL DEFAULT '',
	assigned_at TEXT,
	expires_at  TEXT,
	returned_at TEXT,
	UNIQUE (area_id, batch, number)
);

CREATE TABLE walk_stops (
	walk_id    INTEGER NOT NULL REFERENCES walks(id),
	seq        INTEGER NOT NULL,
	area_id    INTEGER NOT NULL REFERENCES areas(id),
	address_id TEXT NOT NULL,
	code       TEXT NOT NULL,
	drive      INTEGER NOT NULL,
	leg_m      REAL NOT NULL,
	PRIMARY KEY (walk_id, seq),
	UNIQUE (area_id, code)
);

CREATE TABLE address_outcomes (
	address_id   TEXT PRIMARY KEY,
	outcome      TEXT NOT NULL,
	code         TEXT NOT NULL,
	at           TEXT NOT NULL,
	recorded_by  TEXT NOT NULL,
	do_not_knock INTEGER NOT NULL
);

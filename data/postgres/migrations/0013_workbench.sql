-- The coordinators' workbench (issue 14), as on SQLite (its
-- 0014_workbench.sql): subsidy rule sets and powers of attorney.
CREATE TABLE subsidy_rules (
	name                    text COLLATE "C" PRIMARY KEY,
	title                   text NOT NULL,
	valid_from              date NOT NULL,
	min_own_payment         bigint NOT NULL,
	max_subsidy_per_address bigint NOT NULL
);
INSERT INTO subsidy_rules VALUES ('example-2026', 'Example rules 2026 (replace with the scheme''s own)', '2026-01-01', 250000, 2000000);

CREATE TABLE powers_of_attorney (
	pledge_id bigint PRIMARY KEY,
	given_at  timestamptz NOT NULL,
	source    text NOT NULL
);

-- Deadline extensions, announced on the area's public page.
CREATE TABLE deadline_extensions (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	area_id   bigint NOT NULL REFERENCES areas (id),
	from_date timestamptz NOT NULL,
	to_date   timestamptz NOT NULL,
	at        timestamptz NOT NULL
);
CREATE INDEX deadline_extensions_area ON deadline_extensions (area_id, id);

-- How a pledge entered by a coordinator came (as on SQLite).
CREATE TABLE pledge_entries (
	pledge_id  bigint PRIMARY KEY,
	source     text NOT NULL,
	batch      text NOT NULL,
	entered_by text NOT NULL,
	at         timestamptz NOT NULL
);
